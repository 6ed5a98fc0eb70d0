// The SM clock of a run's traced launch (stage_trace.sm_clock_mhz) is read with the run and
// set against the model's predicted clock, held-out and training shapes apart; a clock that
// is no clock is an error naming the run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data_dir.hpp"
#include "tilesim/model/constants.hpp"
#include "validate_traced_clock.hpp"

namespace tilesim::validate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A data folder with a held-out list (4096^3) and one GEMM measurement file of `runs`.
fs::path data_dir_with(const json& runs, const std::string& name) {
  const fs::path d = test::data_dir_with_heldout_4096("traced_clock_" + name, "gemm");
  std::ofstream(d / "measurements" / "gemm" / "x.json") << json{{"schema", "tilesim.measurement.v1"},
                                                                 {"family", "gemm"},
                                                                 {"device", {{"name", "NVIDIA H200"}}},
                                                                 {"runs", runs}}
                                                                .dump();
  return d;
}

// A timed gemm_sm90_ws run of M x 4096 x 4096 whose traced launch ran at `mhz` (0: no trace).
json run(int m, double median_ms, double mhz) {
  json r = {{"impl", "tilesim"},
            {"schedule", "gemm_sm90_ws"},
            {"tile",
             {{"block_m", 128}, {"block_n", 256}, {"block_k", 64}, {"stages", 4}, {"consumers", 2},
              {"cluster_m", 2}, {"cluster_n", 1}, {"raster", 8}}},
            {"problem", {{"kind", "gemm"}, {"m", m}, {"n", 4096}, {"k", 4096}, {"dtype", "bf16"}}},
            {"median_ms", median_ms},
            {"samples_ms", json::array({median_ms})},
            {"check", {{"passed", true}}}};
  if (mhz > 0.0) r["stage_trace"] = {{"sm_clock_mhz", {{"median", mhz}, {"n", 132}}}};
  return r;
}

TEST(TracedClock, ReadWithTheRunAndComparedWithThePrediction) {
  const fs::path d = data_dir_with(json::array({run(4096, 0.18, 1600.0), run(2048, 0.1, 1500.0), run(1024, 0.05, 0.0)}),
                                   "read");
  const auto runs = load_runs(d.string());
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_DOUBLE_EQ(runs[0].traced_clock_mhz, 1600.0);
  EXPECT_DOUBLE_EQ(runs[2].traced_clock_mhz, 0.0);  // no trace, no clock
  const auto predicted = predict_runs(runs, model::default_constants());
  ASSERT_TRUE(predicted[0].predicted_us && predicted[1].predicted_us);
  const TracedClockSummary ho = summarize_traced_clocks(predicted, true);
  const TracedClockSummary tr = summarize_traced_clocks(predicted, false);
  ASSERT_EQ(ho.n, 1);  // 4096^3 is held out
  ASSERT_EQ(tr.n, 1);  // 2048 x 4096 x 4096 is not; the untraced run counts in neither
  const double e = (predicted[0].predicted_clock_mhz - 1600.0) / 1600.0 * 100.0;
  EXPECT_NEAR(ho.mape_pct, std::abs(e), 1e-9);
  EXPECT_NEAR(ho.bias_pct, e, 1e-9);
  EXPECT_DOUBLE_EQ(ho.within_3pct, std::abs(e) <= 3.0 ? 1.0 : 0.0);
  EXPECT_NE(traced_clock_line(tr).find("1 runs"), std::string::npos);
  EXPECT_EQ(to_json(summarize_traced_clocks({}, true))["n"].get<int>(), 0);
}

TEST(TracedClock, AClockThatIsNoClockNamesTheRun) {
  const fs::path d = data_dir_with(json::array({run(2048, 0.1, 1.6)}), "bad");  // GHz, not MHz
  try {
    load_runs(d.string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("runs[0]: stage_trace.sm_clock_mhz"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilesim::validate
