// The model against hardware counters: every profiled run is predicted on its own (no timed
// run of the same GPU needed), held-out and training shapes apart, and bad files are errors
// that name the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data_dir.hpp"
#include "tilesim/model/constants.hpp"
#include "validate_ncu.hpp"

namespace tilesim::validate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A data folder with a held-out list (one GEMM shape) and one ncu file of `runs`, profiled
// with `options`.
fs::path data_dir_with(const json& runs, const std::string& name, const std::string& options = "--clock-control none") {
  const fs::path d = test::data_dir_with_heldout_4096("counters_" + name, "ncu");
  std::ofstream(d / "measurements" / "ncu" / "x_ncu.json")
      << json{{"schema", "tilesim.ncu.v1"},
              {"tool", {{"name", "ncu"}, {"options", options}}},
              {"device", {{"name", "NVIDIA H100 80GB HBM3"}}},
              {"runs", runs}}
             .dump();
  return d;
}

json gemm_run(int m, double clock_hz, bool with_cycles = true) {
  json metrics = {{"gpc__cycles_elapsed.avg.per_second", {{"value", clock_hz}}},
                  {"sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active", {{"value", 80.0}}}};
  if (with_cycles) metrics["gpc__cycles_elapsed.avg"] = {{"value", 1.0e6}};
  return {{"family", "gemm"},
          {"schedule", "gemm_sm90_ws"},
          {"tile",
           {{"block_m", 128}, {"block_n", 256}, {"block_k", 64}, {"stages", 4}, {"consumers", 2},
            {"cluster_m", 2}, {"cluster_n", 1}, {"raster", 8}}},
          {"problem", {{"kind", "gemm"}, {"m", m}, {"n", 4096}, {"k", 4096}, {"dtype", "bf16"}}},
          {"check_passed", true},
          {"metrics", metrics}};
}

TEST(Counters, EveryProfiledRunIsPredictedHeldOutAndTrainingApart) {
  const fs::path d = data_dir_with(json::array({gemm_run(4096, 1.6e9), gemm_run(2048, 1.7e9)}), "split");
  UnmatchedRuns unmatched;
  const auto cs = compare_counters(d.string(), model::default_constants(), "", &unmatched);
  ASSERT_EQ(cs.size(), 2u);  // no timed run in the folder: the profiled runs are predicted themselves
  EXPECT_EQ(unmatched.heldout + unmatched.train, 0);
  EXPECT_TRUE(cs[0].heldout);   // 4096^3 is on the held-out list
  EXPECT_FALSE(cs[1].heldout);  // 2048x4096x4096 is not
  EXPECT_DOUBLE_EQ(cs[0].measured_clock_mhz, 1600.0);
  EXPECT_GT(cs[0].predicted_clock_mhz, 1000.0);
  ASSERT_TRUE(cs[0].utilization.count("tensor"));
  EXPECT_DOUBLE_EQ(cs[0].utilization.at("tensor").second, 80.0);
  EXPECT_GT(cs[0].utilization.at("tensor").first, 0.0);
  EXPECT_EQ(compare_counters(d.string(), model::default_constants(), "attention", nullptr).size(), 0u);
  fs::remove_all(d);
}

// ncu flushes every cache before a profiled launch (its default --cache-control all), so the
// kernel starts from a clean L2: a memory-bound decode has no memset flush's dirty lines to
// write back, unless ncu was told --cache-control none.
TEST(Counters, NcuFlushedRunsStartFromACleanL2) {
  const json decode = {
      {"family", "decode"},
      {"schedule", "decode_splitkv"},
      {"tile", {{"block_n", 64}, {"splits", 1}, {"stages", 3}, {"l2_prefetch", 0}}},
      {"problem",
       {{"kind", "decode"}, {"batch", 16}, {"heads_q", 32}, {"heads_kv", 8}, {"q_per_seq", 1}, {"seq_kv", 4096},
        {"head_dim", 128}, {"page_size", 0}, {"dtype", "bf16"}}},
      {"metrics", {{"gpc__cycles_elapsed.avg.per_second", {{"value", 1.98e9}}}, {"gpc__cycles_elapsed.avg", {{"value", 4.0e5}}}}}};
  const auto hbm_utilization = [&](const std::string& options, const std::string& name) {
    const fs::path d = data_dir_with(json::array({decode}), name, options);
    const auto cs = compare_counters(d.string(), model::default_constants(), "", nullptr);
    fs::remove_all(d);
    EXPECT_EQ(cs.size(), 1u);
    return cs.empty() ? 0.0 : cs[0].predicted_utilization.at("hbm");
  };
  const double flushed = hbm_utilization("--clock-control none", "flushed");
  const double as_left = hbm_utilization("--clock-control none --cache-control none", "as_left");
  EXPECT_GT(flushed, 0.5);
  EXPECT_GT(as_left, flushed);  // the write-back's bytes, on top of the same KV stream
}

TEST(Counters, RunsNcuCouldNotMeasureOrTheModelCannotPredictAreCounted) {
  json unknown = gemm_run(2048, 1.7e9);
  unknown["schedule"] = "no_such_schedule";
  const fs::path d = data_dir_with(json::array({gemm_run(4096, 1.6e9, false), unknown}), "unmatched");
  UnmatchedRuns unmatched;
  EXPECT_TRUE(compare_counters(d.string(), model::default_constants(), "", &unmatched).empty());
  EXPECT_EQ(unmatched.heldout, 1);  // no elapsed-cycles counter
  EXPECT_EQ(unmatched.train, 1);    // unknown schedule
  fs::remove_all(d);
}

TEST(Counters, MalformedFilesNameTheFile) {
  json bad = gemm_run(2048, 1.7e9);
  bad.erase("family");
  const fs::path d = data_dir_with(json::array({bad}), "bad");
  try {
    compare_counters(d.string(), model::default_constants(), "", nullptr);
    FAIL() << "a run without a family was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x_ncu.json: runs[0]: needs family"), std::string::npos) << e.what();
  }
  std::ofstream(d / "measurements" / "ncu" / "x_ncu.json") << R"({"schema": "other", "device": {}, "runs": []})";
  EXPECT_THROW(compare_counters(d.string(), model::default_constants(), "", nullptr), std::runtime_error);
  fs::remove_all(d);
}

}  // namespace
}  // namespace tilesim::validate
