// Validation core: committed measurements -> model predictions -> error figures.
// Shared by `tilesim validate`, `tilesim report` and the accuracy gate (tests/validate).
//
// Conventions (the same as analysis/tilesim_analysis, which recomputes them in Python):
//   relative error = |predicted - measured| / measured, in percent; MAPE = its mean.
//   Spearman's rho with average ranks for ties; NaN (JSON null) for < 2 points.
//   top-pick regret = measured time of the config the model predicts fastest / measured
//   best - 1, in percent, over the predicted tilesim runs of one (gpu, shape); the model
//   "wins" a shape when the regret is <= 3% (the accuracy target); <= 5% is also reported.
// Runs that are not compared: vendor libraries (no schedule: not tiles the model chooses),
// runs whose correctness check failed (their time means nothing), runs on a GPU without a
// built-in profile. Runs the model cannot predict (infeasible tile, unsupported problem)
// are counted as unpredicted with the reason: a kernel ran that the model calls
// impossible, which is itself a model error the gate watches.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tilesim/model/model.hpp"

namespace tilesim::validate {

constexpr double kTopPickTargetPct = 3.0;  // the accuracy target: the model's pick within 3 % of the measured best
constexpr double kTopPickLoosePct = 5.0;   // the looser figure, reported beside it
constexpr double kClockTolerancePct = 3.0;          // a predicted SM clock within this many % is right
const std::vector<std::string>& kernel_families();  // gemm, attention, decode

// One timed run of one measurement file.
struct MeasuredRun {
  std::string family;    // gemm | attention | decode
  std::string gpu;       // built-in profile id, "" when the device has none
  std::string device;    // cudaDeviceProp name as recorded
  std::string file;      // relative to the data folder
  std::string impl;      // tilesim | cublas | cudnn | ...
  std::string schedule;  // model schedule, "" for vendor libraries
  nlohmann::json tile;   // {} for vendor libraries
  nlohmann::json problem;
  std::string shape;         // canonical problem key (problem_key)
  double measured_us = 0.0;  // median
  bool check_passed = true;
  bool timed = true;  // false: a correctness-only run without median_ms
  bool heldout = false;  // its shape is on the held-out list (validate_heldout.hpp)
  // How it was timed, as the board's power limiter saw it (validate_power.hpp).
  int samples = 0;  // timed launches (samples_ms)
  int passes = 1;   // round-robin passes they were taken in (timing or nvml_per_pass), else one block
  // The run's own "timing" record (runners since 2026-11-28); < 0: not recorded, the
  // family's runner defaults apply (validate_power.cpp).
  int warmup_per_pass = -1;
  double flush_bytes = -1.0;
  // No dirty line in the L2 when a sample started: a clean flush (--l2-flush clean), the
  // layer bench's read flush, or no flush at all. Otherwise (every runner's default, and every
  // run without the record) the memset flush's dirty lines were there (the model's default).
  bool l2_clean_at_start = false;
  bool after_trace = false;  // timed right after another run's sustained-load trace (--sustain-ms)
  // A sustained-load trace's steady state (back to back, kernels/common/sustain_trace.hpp),
  // where the run has one with the one-second power: kernel time and board power.
  double sustain_steady_ms = 0.0;
  double sustain_steady_w = 0.0;
  double sustain_start_ms = 0.0;  // the trace's first 20-ms bin: the kernel on a rested card
  // The SM clock of the run's traced launch (the runner's --stage-trace: each CTA's clock64
  // over %globaltimer, median over CTAs), which NVML's clock reading is not; 0: none.
  double traced_clock_mhz = 0.0;
};

// 'NVIDIA H100 80GB HBM3' -> "h100"; "" if not a built-in profile (H200 before H20).
std::string gpu_id_from_device_name(const std::string& name);
// "gemm m=8192 n=8192 k=8192 dtype=bf16" (the key analysis/load.py's problem_key makes).
std::string problem_key(const nlohmann::json& problem);

// Every run of data_dir/measurements/<family>/**/*.json for the kernel families, files in
// sorted order. Throws std::runtime_error naming the file and field for a bad file, or
// the folder when data_dir/measurements does not exist.
std::vector<MeasuredRun> load_runs(const std::string& data_dir);
// The runs of one measurement file (any folder; `file` of each run is its path as given).
std::vector<MeasuredRun> load_measurement_file(const std::string& path);

struct PredictedRun {
  MeasuredRun run;
  std::string
      status;  // "predicted" | "unpredicted" | "vendor" | "untimed" | "check_failed" | "no_profile"
  std::string reason;  // why not predicted
  std::optional<double> predicted_us;
  // from the prediction (when predicted)
  std::string bottleneck;
  double flops = 0.0;  // useful FLOPs of the problem
  double bytes_hbm = 0.0;
  double bytes_l2 = 0.0;
  double bytes_smem = 0.0;  // SMEM unit work
  double mufu_ops = 0.0;
  std::map<std::string, double> utilization;         // unit -> 0..1, over the elapsed time
  std::map<std::string, double> utilization_active;  // unit -> 0..1, over the SMs' active cycles
  std::map<std::string, double> unit_work;           // unit -> whole-kernel work, in its currency
  double energy_j = 0.0;        // the model's energy of one launch
  double sustained_us = 0.0;    // the model's time back to back (Prediction::sustained_time_us)
  double rested_us = 0.0;       // the model's time on a rested card (Prediction::time_us)
  bool power_limited = false;   // predicted after the power limiter acted (validate_power.hpp)
  double predicted_clock_mhz = 0.0;
  std::string split;  // "train" | "test" (calibration), set by assign_splits
};

// The model's prediction for each run, with `constants`. Profiles are the built-in ones.
std::vector<PredictedRun> predict_runs(const std::vector<MeasuredRun>& runs,
                                       const model::ModelConstants& constants);

// Error figures.
double mape_pct(const std::vector<double>& pred, const std::vector<double>& meas);
double max_error_pct(const std::vector<double>& pred, const std::vector<double>& meas);
std::vector<double> ranks(const std::vector<double>& v);
double spearman(const std::vector<double>& a, const std::vector<double>& b);  // NaN if undefined
// How much slower the model's pick (the first of model::rank_order on the predicted times and
// second-busiest unit utilizations) measured than the measured best, in percent.
double top_pick_regret_pct(const std::vector<double>& pred, const std::vector<double>& second_utilization,
                           const std::vector<double>& meas);
// Median of (predicted - measured) / measured, in percent: < 0 = the model is too fast.
double median_signed_error_pct(const std::vector<double>& pred, const std::vector<double>& meas);

// The top pick is judged inside one sweep: runs of one measurement file ran under the same
// conditions, while a shape measured again in another session (another day, clock, power
// state) can make the model's right pick look slower than its own best run elsewhere. A shape
// measured in several files is judged in its largest (ties: the later file name).
struct ShapeSummary {
  int n = 0;
  double mape_pct = 0.0, max_error_pct = 0.0, spearman = 0.0, top_pick_regret_pct = 0.0;
  bool top_pick_within_3pct = false;  // regret <= kTopPickTargetPct
  bool top_pick_within_5pct = false;  // regret <= kTopPickLoosePct
  std::string model_pick;     // tile of the model's pick ("block_m=128,...")
  std::string measured_best;  // tile of the measured best
  std::string top_pick_sweep;  // the file the top pick is judged in
};
// One schedule's runs within a family (a family mixes the product kernels with contrast
// kernels such as the mma.sync GEMM and FA2; their errors are reported apart).
struct ScheduleSummary {
  int n = 0;
  double mape_pct = 0.0, max_error_pct = 0.0, bias_pct = 0.0;
};
struct FamilySummary {
  int n = 0;              // predicted runs
  int n_unpredicted = 0;  // tilesim runs the model could not predict
  int n_skipped = 0;      // vendor / failed check / no profile
  double mape_pct = 0.0, max_error_pct = 0.0, spearman = 0.0;
  double bias_pct = 0.0;                       // median signed error (< 0: predicted too fast)
  std::map<std::string, ShapeSummary> shapes;  // key "gpu shape"
  std::map<std::string, ScheduleSummary> schedules;
};
// Families that have at least one run (predicted or not).
std::map<std::string, FamilySummary> summarize(const std::vector<PredictedRun>& runs);

nlohmann::json to_json(const FamilySummary& s);
nlohmann::json to_json(const PredictedRun& r);
// Fixed-width table for people.
std::string summary_table(const std::map<std::string, FamilySummary>& s, bool per_shape);

// The committed baseline (data/model/accuracy_baseline.json, schema
// tilesim.accuracy_baseline.v1): per family the MAPE (and counts) the model reached when
// the baseline was last updated, with the note saying why it was updated.
struct BaselineEntry {
  double mape_pct = 0.0;
  int n = 0;
  int n_unpredicted = 0;
};
struct Baseline {
  std::map<std::string, BaselineEntry> families;  // every predicted run
  std::map<std::string, BaselineEntry> heldout;   // held-out runs only (empty: none recorded)
  std::string updated;  // YYYY-MM-DD
  std::string note;
};
Baseline load_baseline(const std::string& path);  // throws std::runtime_error naming the field
nlohmann::json baseline_json(const std::map<std::string, FamilySummary>& s,
                             const std::map<std::string, FamilySummary>& heldout, const std::string& date,
                             const std::string& note, const std::string& constants_origin);

// Slack for floating-point differences between builds (percentage points of MAPE).
constexpr double kGateSlackPct = 0.01;
// The held-out gate's tolerance (percentage points of MAPE): held-out data is what the
// accuracy claims rest on, so a model change may move it only this much before someone
// updates the baseline deliberately with a note saying why.
constexpr double kHeldOutGateTolerancePct = 0.5;
// Every way the current figures are worse than the baseline, one sentence each (empty =
// the gate passes). With a held-out baseline: a family's held-out MAPE above its
// baseline + kHeldOutGateTolerancePct; without one, every run's MAPE above its baseline.
// Always: more unpredicted runs than the baseline allowed, a family with measurements but
// no baseline, a baseline family whose measurements disappeared.
std::vector<std::string> gate_failures(const std::map<std::string, FamilySummary>& current,
                                       const std::map<std::string, FamilySummary>& current_heldout,
                                       const Baseline& baseline);
// The predicted runs whose `heldout` flag equals `heldout`.
std::vector<PredictedRun> runs_with_heldout(const std::vector<PredictedRun>& runs, bool heldout);

}  // namespace tilesim::validate
