// Calibration on synthetic measurements: the fixture's runs are "measured" by the model
// itself with known constants; starting from the built-in constants, the least-squares
// fit must recover them and the held-out error must drop to ~0. Then the written
// constants file must load with the model's own strict loader.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "validate_calibrate.hpp"
#include "validate_core.hpp"
#include "validate_io.hpp"

namespace tilesim::validate {
namespace {

// Fixture runs whose measured time is the model's prediction under `truth`.
std::vector<MeasuredRun> synthetic_runs(const model::ModelConstants& truth) {
  auto runs = load_runs(TILESIM_FIXTURE_DATA_DIR);
  std::vector<MeasuredRun> out;
  for (const auto& p : predict_runs(runs, truth)) {
    if (!p.predicted_us) continue;
    MeasuredRun m = p.run;
    m.measured_us = *p.predicted_us;
    out.push_back(m);
  }
  return out;
}

TEST(Calibration, RecoversAKnownIterationOverhead) {
  model::ModelConstants truth = model::default_constants();
  const double start = truth.iteration_overhead_cycles;
  truth.iteration_overhead_cycles = start + 400.0;  // clearly different from the prior
  const auto runs = synthetic_runs(truth);
  ASSERT_GE(runs.size(), 10u) << "the model predicts too few fixture runs to calibrate";
  auto predicted = predict_runs(runs, model::default_constants());
  assign_splits(predicted);
  CalibrationOptions opts;
  opts.names = {"iteration_overhead_cycles"};
  const CalibrationResult r = calibrate(predicted, model::default_constants(), opts);
  ASSERT_EQ(r.constants.size(), 1u);
  EXPECT_TRUE(r.constants[0].identifiable);
  EXPECT_NEAR(r.constants[0].value, truth.iteration_overhead_cycles,
              0.02 * truth.iteration_overhead_cycles);
  EXPECT_GT(r.train.mape_before_pct, 1.0);  // the start is really off
  EXPECT_LT(r.train.mape_after_pct, 0.2);
  EXPECT_GT(r.test.n, 0);
  EXPECT_LT(r.test.mape_after_pct, 0.2);  // held-out shapes are fixed too
  EXPECT_LT(r.cost_after, r.cost_before);
}

TEST(Calibration, SeveralConstantsNeverWorseAndFileLoads) {
  model::ModelConstants truth = model::default_constants();
  truth.iteration_overhead_cycles += 100.0;
  truth.epilogue_efficiency = 0.4;
  auto predicted = predict_runs(synthetic_runs(truth), model::default_constants());
  assign_splits(predicted);
  const CalibrationResult r = calibrate(predicted, model::default_constants());  // default set of 4
  EXPECT_EQ(r.constants.size(), 4u);
  EXPECT_LE(r.train.mape_after_pct, r.train.mape_before_pct);
  EXPECT_LT(r.train.mape_after_pct, 1.0);
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_test_calibration";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "calibrated_constants.json").string();
  write_file_atomic(path, calibrated_constants_json(r, "2026-11-21", "fixture").dump(2));
  const model::ModelConstants loaded =
      model::load_constants_file(path);  // strict loader accepts it
  EXPECT_NEAR(loaded.iteration_overhead_cycles, r.fitted.iteration_overhead_cycles, 1e-9);
  EXPECT_NE(loaded.info.at("iteration_overhead_cycles").source.find("fitted"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Calibration, SplitsHoldOutWholeShapes) {
  auto predicted = predict_runs(load_runs(TILESIM_FIXTURE_DATA_DIR), model::default_constants());
  assign_splits(predicted);
  std::map<std::string, std::set<std::string>> splits_by_shape;
  int train = 0, test = 0;
  for (const auto& r : predicted) {
    if (r.status != "predicted") {
      EXPECT_EQ(r.split, "");
      continue;
    }
    splits_by_shape[r.run.shape].insert(r.split);
    train += r.split == "train";
    test += r.split == "test";
  }
  for (const auto& [shape, s] : splits_by_shape)
    EXPECT_EQ(s.size(), 1u) << shape << " is in both splits";
  EXPECT_GT(train, 0);
  EXPECT_GT(test, 0);
}

TEST(Calibration, BadInput) {
  std::vector<PredictedRun> none;
  EXPECT_THROW(calibrate(none, model::default_constants()), std::runtime_error);
  auto predicted = predict_runs(load_runs(TILESIM_FIXTURE_DATA_DIR), model::default_constants());
  assign_splits(predicted);
  CalibrationOptions o;
  o.names = {"no_such_constant"};
  EXPECT_THROW(calibrate(predicted, model::default_constants(), o), std::runtime_error);
}

}  // namespace
}  // namespace tilesim::validate
