// THE ACCURACY GATE: recompute the model's error on every committed measurement
// (data/measurements/{gemm,attention,decode}) with the built-in constants and fail if any
// family's held-out MAPE (shapes of data/heldout/shapes.json) is worse than
// data/model/accuracy_baseline.json by more than kHeldOutGateTolerancePct (or if more
// measured runs became unpredictable, or a family lacks a baseline). Updating the baseline is a
// deliberate act: `tilesim validate --write-baseline data/model/accuracy_baseline.json
// --note '<why>'`, reviewed like code.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "validate_core.hpp"
#include "validate_heldout.hpp"

namespace tilesim::validate {
namespace {

const std::string kData = TILESIM_DATA_DIR;

TEST(AccuracyGate, NoFamilyWorseThanTheCommittedBaseline) {
  const auto runs = load_runs(kData);
  const auto predicted = predict_runs(runs, model::default_constants());
  ASSERT_EQ(predicted.size(), runs.size());
  const auto summary = summarize(predicted);
  const auto heldout = summarize(runs_with_heldout(predicted, true));
  const Baseline baseline = load_baseline(kData + "/model/accuracy_baseline.json");
  EXPECT_FALSE(baseline.heldout.empty()) << "the committed baseline must gate held-out data";
  const auto failures = gate_failures(summary, heldout, baseline);
  std::string all;
  for (const auto& f : failures) all += "\n  " + f;
  EXPECT_TRUE(failures.empty()) << "accuracy gate failed:" << all << "\n\n"
                                << summary_table(heldout, true);
  // Every run is accounted for: predicted, unpredicted or skipped with a reason.
  size_t accounted = 0;
  for (const auto& [fam, s] : summary)
    accounted += static_cast<size_t>(s.n + s.n_unpredicted + s.n_skipped);
  EXPECT_EQ(accounted, runs.size());
  for (const auto& r : predicted)
    if (r.status != "predicted") {
      EXPECT_FALSE(r.reason.empty()) << r.run.file;
    }
}

// The committed held-out list is in force: every family has held-out runs on both Hopper
// cards, and held-out shapes are never among the training shapes.
TEST(AccuracyGate, HeldOutRunsExistForEveryFamilyAndGpu) {
  const auto runs = load_runs(kData);
  std::map<std::string, int> held;
  std::set<std::string> train_shapes, held_shapes;
  for (const auto& r : runs) {
    if (r.schedule.empty() || !r.timed) continue;
    if (r.heldout) {
      ++held[r.family + " " + r.gpu];
      held_shapes.insert(r.family + r.shape);
    } else {
      train_shapes.insert(r.family + r.shape);
    }
  }
  for (const char* fam : {"attention", "gemm", "decode"})
    for (const char* gpu : {"h100", "h200"}) EXPECT_GT(held[std::string(fam) + " " + gpu], 0) << fam << " " << gpu;
  for (const auto& s : held_shapes) EXPECT_EQ(train_shapes.count(s), 0u) << s;
}

TEST(AccuracyGate, PredictionsAreFiniteAndPositive) {
  for (const auto& r : predict_runs(load_runs(kData), model::default_constants())) {
    if (!r.predicted_us) continue;
    EXPECT_TRUE(std::isfinite(*r.predicted_us) && *r.predicted_us > 0.0)
        << r.run.file << " " << r.run.shape;
  }
}

TEST(Loading, FixtureMeasurements) {
  const auto runs = load_runs(TILESIM_FIXTURE_DATA_DIR);
  // gemm fixture: 2 shapes x 8 tiles + 2 cuBLAS; attention fixture: 6 FA3 runs
  ASSERT_EQ(runs.size(), 24u);
  int vendor = 0;
  for (const auto& r : runs) {
    EXPECT_EQ(r.gpu, "h100");
    EXPECT_GT(r.measured_us, 0.0);
    vendor += r.schedule.empty() ? 1 : 0;
  }
  EXPECT_EQ(vendor, 2);
  EXPECT_EQ(runs.front().file, "measurements/gemm/fixture_h100_gemm.json");
}

TEST(Loading, MissingOrBadDataIsAnErrorNamingThePath) {
  EXPECT_THROW(load_runs("/nonexistent/tilesim"), std::runtime_error);
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_test_bad_data";
  std::filesystem::create_directories(dir / "measurements" / "gemm");
  std::ofstream(dir / "measurements" / "gemm" / "x.json")
      << R"({"schema":"tilesim.measurement.v1","family":"gemm",
    "device":{"name":"NVIDIA H100"},"runs":[{"impl":"tilesim","problem":{"kind":"gemm"},"median_ms":-1}]})";
  try {
    load_runs(dir.string());
    FAIL() << "negative median accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x.json: runs[0]: median_ms"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

// fp8 GEMM runs are held out by the "gemm_fp8" entries (with their dtype), never by the
// bf16 "gemm" ones, and a bf16 run of an fp8 held-out shape is not held out.
TEST(HeldOut, Fp8GemmRunsMatchTheirOwnList) {
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_heldout_fp8_test";
  std::filesystem::create_directories(dir / "heldout");
  std::ofstream(dir / "heldout" / "shapes.json") << R"({"schema":"tilesim.heldout.v1",
    "gemm":[{"m":64,"n":64,"k":64}],
    "gemm_fp8":[{"m":128,"n":256,"k":512,"dtype":"fp8"}]})";
  const HeldOutList h = load_heldout(dir.string());
  const nlohmann::json fp8 = {{"kind", "gemm"}, {"m", 128}, {"n", 256}, {"k", 512}, {"dtype", "fp8"}};
  const nlohmann::json bf16_same = {{"kind", "gemm"}, {"m", 128}, {"n", 256}, {"k", 512}, {"dtype", "bf16"}};
  const nlohmann::json fp8_of_bf16 = {{"kind", "gemm"}, {"m", 64}, {"n", 64}, {"k", 64}, {"dtype", "fp8"}};
  const nlohmann::json bf16 = {{"kind", "gemm"}, {"m", 64}, {"n", 64}, {"k", 64}, {"dtype", "bf16"}};
  EXPECT_TRUE(h.matches("gemm", fp8));
  EXPECT_FALSE(h.matches("gemm", bf16_same));
  EXPECT_FALSE(h.matches("gemm", fp8_of_bf16));
  EXPECT_TRUE(h.matches("gemm", bf16));
  std::filesystem::remove_all(dir);
}

TEST(HeldOut, CommittedLayerStepListHoldsOutEveryGemmButTheTrainingOne) {
  // The committed list: the layer-step runs (and their GEMM-alone runs) of every GEMM but
  // m=1024 n=k=4096 are held out; decode-alone runs of the family are not matched by it.
  const HeldOutList h = load_heldout(TILESIM_DATA_DIR);
  const nlohmann::json held = {{"kind", "layer_step"}, {"m", 2048}, {"n", 6144}, {"k", 4096}, {"batch", 32},
                               {"heads_q", 32}, {"heads_kv", 8}, {"seq_kv", 256}, {"head_dim", 128}, {"dtype", "bf16"}};
  nlohmann::json train = held;
  train["m"] = 1024;
  train["n"] = 4096;
  const nlohmann::json gemm_alone = {{"kind", "gemm"}, {"m", 2048}, {"n", 14336}, {"k", 4096}, {"dtype", "bf16"}};
  const nlohmann::json decode_alone = {{"kind", "decode"}, {"batch", 32}, {"heads_q", 32}, {"heads_kv", 8},
                                       {"seq_kv", 256}, {"head_dim", 128}, {"dtype", "bf16"}};
  EXPECT_TRUE(h.matches("layer_step", held));
  EXPECT_FALSE(h.matches("layer_step", train));
  EXPECT_TRUE(h.matches("layer_step", gemm_alone));
  EXPECT_FALSE(h.matches("layer_step", decode_alone));
  EXPECT_GE(h.count("layer_step"), 7u);
}

}  // namespace
}  // namespace tilesim::validate
