// The power limiter as the runners' timing meets it (validate/validate_power.hpp) and the
// kernel energies against the committed sustained-load traces (validate_energy.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tilesim/model/model.hpp"
#include "tilesim/profile.hpp"
#include "validate_energy.hpp"
#include "validate_power.hpp"

namespace tilesim::validate {
namespace {

const std::string kData = TILESIM_DATA_DIR;

const profiles::Profile& h200() {
  static const profiles::Profile p = profiles::builtin_profile("h200");
  return p;
}

model::Prediction big_gemm() {
  return model::predict(h200(), model::problem_from_json(nlohmann::json::parse(R"({"kind":"gemm","m":8192,"n":8192,"k":8192})")),
                        "gemm_sm90_ws",
                        model::parse_tile("block_m=256,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=2"));
}

MeasuredRun run(const std::string& family, int samples, int passes = 1, bool after_trace = false) {
  MeasuredRun r;
  r.family = family;
  r.samples = samples;
  r.passes = passes;
  r.after_trace = after_trace;
  return r;
}

TEST(PowerLimiter, ProtocolsFromTheRunners) {
  const TimingProtocol g = timing_protocol("gemm", h200());
  EXPECT_TRUE(g.known);
  EXPECT_DOUBLE_EQ(g.flush_bytes, 2.0 * h200().capacity.l2.value);  // twice the L2
  const TimingProtocol a = timing_protocol("attention", h200());
  EXPECT_TRUE(a.known);
  EXPECT_DOUBLE_EQ(a.flush_bytes, 0.0);
  EXPECT_FALSE(timing_protocol("layer_step", h200()).known);
}

TEST(PowerLimiter, ActsOnlyAfterItsReactionTime) {
  const model::Prediction pr = big_gemm();
  ASSERT_GT(pr.sustained_time_us, pr.time_us);  // this GEMM would draw more than the limit
  // 30 samples of ~1.3 ms after 10 warm-up launches: the median sample ~33 ms in, before
  // the limiter's 70 ms.
  const LimitedTime short_block = time_under_power_limit(pr, h200(), run("gemm", 30));
  EXPECT_FALSE(short_block.limited);
  EXPECT_LT(short_block.median_sample_ms, h200().power.limiter_reaction_ms.value);
  EXPECT_DOUBLE_EQ(short_block.time_us, pr.time_us);
  // 200 samples: the median one comes after it; the flush between samples lowers the average
  // a little, so the run is slowed, but not quite to the back-to-back time.
  const LimitedTime long_block = time_under_power_limit(pr, h200(), run("gemm", 200));
  EXPECT_TRUE(long_block.limited);
  EXPECT_GT(long_block.time_us, pr.time_us);
  EXPECT_LT(long_block.clock_mhz, pr.clock_mhz);
  // Right after another kernel's sustained trace the limiter has already acted.
  EXPECT_TRUE(time_under_power_limit(pr, h200(), run("gemm", 30, 1, true)).limited);
  // Round-robin passes: the samples of one pass are what the limiter sees.
  const LimitedTime rr = time_under_power_limit(pr, h200(), run("attention", 300, 10));
  EXPECT_NEAR(rr.median_sample_ms, (5 + 15) * (pr.time_us + 8.0) * 1e-3, 1e-9);
}

TEST(PowerLimiter, UnknownTimingKeepsTheTime) {
  const model::Prediction pr = big_gemm();
  EXPECT_FALSE(time_under_power_limit(pr, h200(), run("layer_step", 1000)).limited);
  EXPECT_FALSE(time_under_power_limit(pr, h200(), run("gemm", 0)).limited);  // no samples recorded
}


// A run's own "timing" record (runners since 2026-11-28) replaces the family's defaults; a
// malformed one is refused with the field named.
TEST(PowerLimiter, RunsCarryTheirTiming) {
  const auto path = std::filesystem::temp_directory_path() / "tilesim_test_timing.json";
  auto write = [&](const nlohmann::json& timing) {
    nlohmann::json run = {{"impl", "tilesim"},
                          {"schedule", "gemm_sm90_ws"},
                          {"tile", nlohmann::json::object()},
                          {"problem", {{"kind", "gemm"}, {"m", 8192}, {"n", 8192}, {"k", 8192}, {"dtype", "bf16"}}},
                          {"median_ms", 1.5},
                          {"samples_ms", std::vector<double>(40, 1.5)},
                          {"timing", timing}};
    std::ofstream(path) << nlohmann::json{{"schema", "tilesim.measurement.v1"},
                                          {"family", "gemm"},
                                          {"device", {{"name", "NVIDIA H200"}}},
                                          {"runs", {run}}}
                               .dump();
  };
  write({{"warmup_per_pass", 2}, {"passes", 1}, {"l2_flush_bytes", 0}});
  const auto runs = load_measurement_file(path.string());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].samples, 40);
  EXPECT_EQ(runs[0].warmup_per_pass, 2);
  EXPECT_DOUBLE_EQ(runs[0].flush_bytes, 0.0);
  // No flush: no flush's dirty lines either. A memset flush (also what a record without the
  // mode means) leaves them; a clean one does not.
  EXPECT_TRUE(runs[0].l2_clean_at_start);
  const auto start_clean = [&](const nlohmann::json& timing) {
    write(timing);
    return load_measurement_file(path.string()).at(0).l2_clean_at_start;
  };
  EXPECT_FALSE(start_clean({{"warmup_per_pass", 2}, {"passes", 1}, {"l2_flush_bytes", 1e8}}));
  EXPECT_FALSE(start_clean({{"warmup_per_pass", 2}, {"passes", 1}, {"l2_flush_bytes", 1e8}, {"l2_flush_mode", "memset"}}));
  EXPECT_TRUE(start_clean({{"warmup_per_pass", 2}, {"passes", 1}, {"l2_flush_bytes", 1e8}, {"l2_flush_mode", "clean"}}));
  // (2 + 20) x 1.3 ms is under the reaction time with its own warm-up of 2; no flush energy.
  const model::Prediction pr = big_gemm();
  EXPECT_FALSE(time_under_power_limit(pr, h200(), runs[0]).limited);
  // A refused record: the error names the field.
  const auto expect_refused = [&](const nlohmann::json& timing, const std::string& field, const char* what) {
    write(timing);
    try {
      load_measurement_file(path.string());
      ADD_FAILURE() << what << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("timing: '" + field + "'"), std::string::npos) << e.what();
    }
  };
  expect_refused({{"warmup_per_pass", 2}, {"passes", 0}, {"l2_flush_bytes", 0}}, "passes", "passes 0");
  expect_refused({{"warmup_per_pass", 2}, {"passes", 1}, {"l2_flush_bytes", 1e8}, {"l2_flush_mode", "dirty"}},
                 "l2_flush_mode", "l2_flush_mode dirty");
  // A count no int holds (found by the measurement fuzzer: the cast was undefined).
  expect_refused({{"warmup_per_pass", 1e30}, {"passes", 1}, {"l2_flush_bytes", 0}}, "warmup_per_pass",
                 "warmup_per_pass 1e30");
  std::filesystem::remove(path);
}

// The committed energy constants are the least-squares fit over the committed traces, and
// the model's energies stay within 10 % rms of what the board drew.
TEST(KernelEnergy, ConstantsAreTheFitOverTheCommittedTraces) {
  const auto predicted = predict_runs(load_runs(kData), model::default_constants());
  const EnergyFit f = fit_energy(predicted);
  EXPECT_GE(f.points.size(), 20u);
  EXPECT_LE(f.rms_pct, 10.0);
  // The traces on held-out shapes are judged beside the fit, never part of it.
  EXPECT_GE(f.heldout.size(), 20u);
  EXPECT_LE(f.heldout_sustained_mape_pct, 15.0);
  const model::ModelConstants& c = model::default_constants();
  const double committed[] = {c.energy_tensor_pj_per_flop, c.energy_smem_pj_per_byte, c.energy_l2_pj_per_byte,
                              c.energy_hbm_pj_per_byte, c.energy_issue_pj_per_op};
  for (std::size_t u = 0; u < kEnergyUnits.size(); ++u)
    EXPECT_NEAR(committed[u], f.fitted_pj[u], 0.01 * f.fitted_pj[u] + 1e-9) << kEnergyUnits[u];
  EXPECT_NE(energy_table(f).find("least-squares energies"), std::string::npos);
}

TEST(KernelEnergy, NoTraceIsAnError) { EXPECT_THROW(fit_energy({}), std::runtime_error); }

}  // namespace
}  // namespace tilesim::validate
