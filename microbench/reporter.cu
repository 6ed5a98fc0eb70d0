// See reporter.cuh.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>

#include "device_report.hpp"
#include "reporter.cuh"

namespace tilesim::microbench {

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format == "csv") return std::make_unique<benchmark::CSVReporter>();
  return std::make_unique<benchmark::ConsoleReporter>(benchmark::ConsoleReporter::OO_None);
}

bool FlaggingReporter::ReportContext(const Context& context) {
  context_ = std::make_unique<Context>(context);
  return true;
}

void FlaggingReporter::ReportRuns(const std::vector<Run>& runs) {
  batches_.push_back(runs);
  // Stable names: every benchmark runs a fixed launch count with CUDA-event (manual) time,
  // so the "/iterations:N" and "/manual_time" parts carry nothing and would change with
  // the launch count; run_name is the registered name alone (README "Output contract").
  for (Run& r : batches_.back()) {
    r.run_name.iterations.clear();
    r.run_name.time_type.clear();
  }
  if (progress_ && !runs.empty() && runs.front().run_type == Run::RT_Iteration) {
    std::cerr << "  done: " << runs.front().benchmark_name() << "\n";
  }
}

namespace {

void add_label(std::string& label, const std::string& flag) {
  if (label.find(flag) != std::string::npos) return;
  label = label.empty() ? flag : label + " " + flag;
}

double spread_pct(std::vector<double> v) {
  if (v.size() < 2) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double med = n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return med > 0 ? 100.0 * (v.back() - v.front()) / med : 0.0;
}

}  // namespace

void FlaggingReporter::Finalize() {
  // The run's maximum clock over every repetition of every benchmark.
  double max_mhz = 0;
  std::map<std::string, std::vector<double>> rep_times;
  std::map<std::string, double> agg_mean, agg_stddev;  // when only aggregates are shown
  for (const auto& batch : batches_) {
    for (const Run& r : batch) {
      if (r.error_occurred) continue;
      const std::string name = r.run_name.str();
      if (r.run_type == Run::RT_Iteration) rep_times[name].push_back(r.GetAdjustedRealTime());
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "mean") {
        agg_mean[name] = r.GetAdjustedRealTime();
      }
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "stddev") {
        agg_stddev[name] = r.GetAdjustedRealTime();
      }
      const bool stat = r.run_type == Run::RT_Iteration || r.aggregate_name == "median";
      const auto it = r.counters.find("sm_clock_mhz");
      if (stat && it != r.counters.end()) max_mhz = std::max(max_mhz, it->second.value);
    }
  }
  for (auto& batch : batches_) {
    for (Run& r : batch) {
      const bool agg = r.run_type == Run::RT_Aggregate;
      if (agg && r.aggregate_name != "median" && r.aggregate_name != "mean") continue;
      const std::string name = r.run_name.str();
      const auto it = r.counters.find("sm_clock_mhz");
      if (it != r.counters.end() && max_mhz > 0) {
        const double drop = 100.0 * (1.0 - it->second.value / max_mhz);
        r.counters["clock_drop_pct"] = drop;
        if (drop > kMaxClockDropPct) add_label(r.report_label, "CLOCK_DROP>10%");
      }
      if (!agg) continue;
      if (rep_times.count(name) != 0) {
        // Range of the repetitions' times over their median.
        const double s = spread_pct(rep_times[name]);
        r.counters["rep_spread_pct"] = s;
        if (s > kMaxSpreadPct) add_label(r.report_label, "REP_SPREAD>3%");
      } else if (agg_mean.count(name) != 0 && agg_mean[name] > 0) {
        // Only aggregates reached this reporter: coefficient of variation instead.
        const double cv = 100.0 * agg_stddev[name] / agg_mean[name];
        r.counters["rep_cv_pct"] = cv;
        if (cv > kMaxSpreadPct) add_label(r.report_label, "REP_CV>3%");
      }
    }
  }
  // Clocks after the whole suite (once, shared by the display and file reporters).
  static bool added = false;
  if (!added) {
    benchmark::AddCustomContext("tilesim_clocks_after", cuda::clock_snapshot().dump());
    benchmark::AddCustomContext("tilesim_run_max_sm_clock_mhz", std::to_string(max_mhz));
    added = true;
  }
  inner_->SetOutputStream(&GetOutputStream());
  inner_->SetErrorStream(&GetErrorStream());
  if (context_ && inner_->ReportContext(*context_)) {
    for (const auto& batch : batches_) inner_->ReportRuns(batch);
  }
  inner_->Finalize();
}

}  // namespace tilesim::microbench
