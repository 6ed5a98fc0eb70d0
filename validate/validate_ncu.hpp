// The model against hardware counters: data/measurements/ncu/*.json (schema
// tilesim.ncu.v1, written by scripts/ncu_to_json.py from `ncu --clock-control none` on the
// device) hold, per profiled run, the SM clock the kernel ran at and its per-pipe and
// issue-slot utilization. The model predicts each (gpu, schedule, tile, problem):
// predicted clock vs measured clock, predicted unit utilization vs the pipe's, held-out and
// training shapes apart. The utilization bars a user reads are then checked against the
// hardware.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "validate_core.hpp"

namespace tilesim::validate {

// The model's units and the ncu counter (percent of peak) each is compared with.
struct CounterPair {
  std::string unit;     // model unit: tensor, mufu, issue
  std::string counter;  // ncu metric name
  // A share of the SMs' active cycles ("..._active"), else of the elapsed ones.
  bool of_active_cycles() const { return counter.ends_with("_active"); }
};
const std::vector<CounterPair>& counter_pairs();

struct CounterComparison {
  std::string family, gpu, schedule, shape, tile;
  bool heldout = false;
  double measured_clock_mhz = 0.0, predicted_clock_mhz = 0.0;
  std::map<std::string, std::pair<double, double>> utilization;  // unit -> (predicted, measured) in %
  std::map<std::string, double> predicted_utilization;  // every model unit -> 0..1 of the elapsed time
};

struct CounterSummary {
  int n = 0;                       // profiled runs matched to a prediction
  int unmatched = 0;               // profiled runs the model did not predict
  double clock_mape_pct = 0.0;     // |predicted - measured| / measured, mean
  double clock_within_3pct = 0.0;  // share of runs
  std::map<std::string, double> mean_abs_points;   // unit -> mean |predicted - measured| (points)
  std::map<std::string, double> within_10_points;  // unit -> share of runs
};

// Every profiled run of data_dir/measurements/ncu predicted by the model with `constants`
// (its gpu, schedule, tile and problem: a profiled run needs no timed run of the same GPU
// beside it); held-out by the list in data_dir/heldout. Runs the model cannot predict, or
// ncu could not measure, are counted as unmatched. Throws std::runtime_error naming the
// file for a malformed file. `family` (empty = all) limits both the comparisons and the
// unmatched count.
struct UnmatchedRuns {
  int heldout = 0, train = 0;
};
std::vector<CounterComparison> compare_counters(const std::string& data_dir, const model::ModelConstants& constants,
                                                const std::string& family, UnmatchedRuns* unmatched);
CounterSummary summarize_counters(const std::vector<CounterComparison>& c, int unmatched);
nlohmann::json to_json(const CounterSummary& s);
nlohmann::json to_json(const CounterComparison& c);
std::string counter_table(const CounterSummary& s);

}  // namespace tilesim::validate
