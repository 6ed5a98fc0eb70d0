// The JSON `tilesim report` hands to the Python side (analysis/tilesim_analysis/report.py,
// schema tilesim.report_input.v1; the fields are documented in analysis/.../load.py):
// measured runs with the model's predictions, published results with predictions, each
// GPU's ceilings, per-unit utilization of representative kernels on H100/H20/B200, the
// model's tile sweep of one problem, simulator traces, calibration.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tilesim/model/model.hpp"
#include "validate_core.hpp"

namespace tilesim::validate {

// Roofline ceilings of a profile at its model clock: tensor (bf16 FLOP/s), mufu (op/s),
// smem, l2, hbm (B/s).
nlohmann::json gpu_ceilings_json(const profiles::Profile& p);

// A record for one predicted (or unpredicted) measured run.
nlohmann::json record_json(const PredictedRun& r);

// For a vendor-library run (cuBLAS, cuDNN, ...): the model's fastest tile for the same
// problem and GPU, as "model_best_us" / "model_best_tile" (or "model_best_reason"). A
// vendor kernel well below the model's best says the model misses a cost; far above says
// there is headroom. Leaves the record alone for other runs.
void add_model_best(nlohmann::json& record, const PredictedRun& r, const model::ModelConstants& k);

// The published file's entries, each predicted on its GPU with its model_schedule at the
// kernel's own tile where the entry gives it (model_tile, read from the kernel's source:
// tile_source says where), else with the best tile `tune` finds. Where the source's timing
// says the launch is not in the figure (a profiler's kernel duration), the prediction is
// compared without the model's launch time. Throws std::runtime_error for a malformed file.
nlohmann::json published_records(const std::string& published_path, const model::ModelConstants& k,
                                 std::ostream& progress);

// Accuracy of the predicted records of one origin ("measured" or "published"): per family
// the summary `tilesim validate` computes (summarize(), to_json()), so the report's tables
// and figures show the C++ figures and the Python side computes none.
nlohmann::json accuracy_summary(const nlohmann::json& records, const std::string& origin);

// Model-only per-unit utilization of representative kernels on h100, h20, b200 (the
// fastest tile tune finds for each).
nlohmann::json utilization_entries(const model::ModelConstants& k);

// The asymmetric-scaling study: one attention problem predicted (best tile of any
// schedule) on H100, H100 with 2x tensor, B200, and B200 with each unit scaled by 2
// (`--scale`): {title, problem, baseline, points [{label, gpu, scale, time_us, tflops,
// bottleneck, schedule, tile, units} or {..., reason}]}.
nlohmann::json scaling_study(const model::ModelConstants& k);

// The model's ranking of every feasible tile of one attention problem on H100 (used for
// the heat map while no measured sweep exists): [{schedule, tile, predicted_us}].
nlohmann::json model_sweep(const model::ModelConstants& k);

}  // namespace tilesim::validate
