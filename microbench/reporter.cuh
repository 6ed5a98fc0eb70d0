// A reporter that holds every result until the suite has finished, then marks each run
// whose SM clock fell more than 10% below the run's maximum (counter clock_drop_pct,
// label CLOCK_DROP>10%) and each aggregate whose repetitions spread more than 3%
// (counter rep_spread_pct, label REP_SPREAD>3%), adds the clocks read after the suite to
// the context, and passes everything to the real reporter (console, JSON or CSV).
#pragma once

#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

namespace tilesim::microbench {

class FlaggingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit FlaggingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, bool progress)
      : inner_(std::move(inner)), progress_(progress) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  static constexpr double kMaxSpreadPct = 3.0;
  static constexpr double kMaxClockDropPct = 10.0;

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::unique_ptr<Context> context_;
  std::vector<std::vector<Run>> batches_;
  bool progress_;
};

// Creates the reporter for a --benchmark_format / --benchmark_out_format value.
std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format);

}  // namespace tilesim::microbench
