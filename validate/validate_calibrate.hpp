// Calibration: the few model constants no datasheet or microbenchmark gives
// (per-iteration overhead, per-item setup, CTA launch, epilogue efficiency...) fitted by
// least squares on a training split of the committed measurements, judged on the held-out
// split. The result is data (a constants file with provenance), never a code edit.
//
// Objective: sum over training runs of log(predicted / measured)^2 (scale-free: a 10% miss
// on a 20 us kernel weighs as much as on a 20 ms one) plus a weak pull toward the prior
// values (prior_weight * sum ((c - c0) / scale)^2) so that constants the data barely
// constrains stay near their sourced values. Minimised by Levenberg-Marquardt with a
// forward-difference Jacobian; each step solves the normal equations with Eigen (LDLT).
// Bounds: cycles >= 0, ratios in [0.05, 1].
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tilesim/model/constants.hpp"
#include "validate_core.hpp"

namespace tilesim::validate {

// Split: when any predicted run is on the committed held-out list (data/heldout), those
// are "test" and every other run "train". Otherwise (test fixtures): runs grouped by
// (gpu, shape); groups sorted by key; every third group (index % 3 == 2) is "test", so
// the test split holds whole shapes the fit never saw. With fewer than 3 groups, runs
// alternate within each group instead (index % 3 == 2).
// Writes PredictedRun::split for predicted runs; others stay "".
// Returns the rule it applied, for the calibration's record.
std::string assign_splits(std::vector<PredictedRun>& runs);

struct CalibrationOptions {
  std::vector<std::string> names = {"iteration_overhead_cycles", "item_setup_cycles",
                                    "cta_launch_cycles", "epilogue_efficiency"};
  int max_iterations = 30;
  // A tie-breaker, not a belief: small enough that 1% misfit on one run outweighs it,
  // large enough to keep constants the data does not constrain at their sourced values.
  double prior_weight = 1e-6;
};

struct FittedConstant {
  std::string name;
  std::string unit;
  double initial = 0.0;
  double value = 0.0;
  double sensitivity = 0.0;  // |d sum(log ratio) / d (c/scale)| at the start: 0 = data says nothing
  bool identifiable = true;
};

struct SplitScore {
  int n = 0;
  double mape_before_pct = 0.0;
  double mape_after_pct = 0.0;
};

struct CalibrationResult {
  model::ModelConstants fitted;
  std::vector<FittedConstant> constants;
  SplitScore train, test;
  int iterations = 0;
  double cost_before = 0.0, cost_after = 0.0;  // training objective
  std::string split_rule;                      // how train and test were chosen (assign_splits)
};

// Fits opts.names starting from `initial` on the runs with split == "train" (runs must
// have been predicted with `initial`). Throws std::runtime_error if there is no training
// run or a name is not a model constant.
CalibrationResult calibrate(const std::vector<PredictedRun>& runs,
                            const model::ModelConstants& initial,
                            const CalibrationOptions& opts = {});

// The constants file (schema tilesim.model_constants.v1, loadable by load_constants_file):
// fitted constants with source "fitted: ...", the rest as they were, plus a "calibration"
// object with the splits' MAPE before/after and the method.
nlohmann::json calibrated_constants_json(const CalibrationResult& r, const std::string& date,
                                         const std::string& data_description);
// For the report: constants (name, value, unit, initial), train/test scores, a note.
nlohmann::json calibration_summary_json(const CalibrationResult& r);

}  // namespace tilesim::validate
