// Simulator parameters. Like gem5's Params, each one has a type, a unit and a
// description, and all of them are printed with every result (--json "parameters").
// Values come from the model's constants (the same numbers the analytic model uses, so
// that the two evaluators differ only in how they schedule) and from the profile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tilesim/model/constants.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::sim {

struct Options {
  // Delay added to every loop-carried dependency, per iteration of distance. The model
  // adds ModelConstants::iteration_overhead_cycles to its dependency-cycle bound; a delay
  // of x cycles per unit distance raises every cycle's weight/distance ratio by exactly
  // x, so the simulator honours the same constant without a hand-placed op.
  double loop_edge_overhead_cycles = 0.0;
  // Per work item before its prologue (tile-scheduler fetch, barrier init): the model's
  // item_setup_cycles.
  double item_setup_cycles = 0.0;
  // Launch of a CTA onto a freed slot (plain grids: every item; persistent: once per
  // resident CTA): the model's cta_launch_cycles.
  double cta_launch_cycles = 0.0;
  // Most bytes per clock one transfer may take from a chip-wide unit when few SMs are
  // loading (tail of the last wave): TMA/cp.async land in SMEM, so the SM's SMEM
  // bandwidth bounds it. 0 = no cap.
  double transfer_cap_bytes_per_clk = 0.0;
  // HBM bytes per second for the post pass (split-KV combine), achievable rate.
  double post_hbm_bytes_per_s = 0.0;
  // true: SM units never conflict (each op holds them for work/rate, alone) and the
  // chip-wide units are unlimited (a transfer takes only its latency), as in the model's
  // dependency bound, where L2/HBM throughput is a fluid resource bound and not a weight
  // on the chain. The simulated time is then the dependency critical path.
  bool ignore_resources = false;
  // Record the timeline for a Chrome trace.
  bool record_trace = false;
  // Most timeline records kept (op slices, unit slices, counters); later ones are
  // dropped and the trace says so. Bounds memory and file size on huge grids.
  int64_t max_trace_records = 2000000;
  // Most distinct SM groups simulated (SMs that receive the same sequence of work
  // classes form one group); above it the grid is refused rather than silently cut.
  int max_groups = 1024;
  // Most op instances laid out on the representative SMs (about 60 bytes each); a grid
  // beyond it is refused up front with the count and the events it would take, rather
  // than exhausting memory or time. The engine runs ~1.5e6 instances/s (~1e7 events/s)
  // on one core of the 2-core CI machine, so the default bounds a simulation to about 2 s.
  int64_t max_op_instances = 3000000;
  // Periodic steady state: above this many op instances (estimated, summed over the
  // representative SMs) a grid whose items repeat (the same iteration count on every item,
  // or the same mix of work classes over many waves) is not simulated whole: reduced
  // copies of it (fewer iterations per item, fewer waves) are simulated and the result is
  // extrapolated along both axes, with a stated bound on the error (extrapolate.hpp). The
  // default keeps a whole simulation under about 1.5 s on one core of the 2-core CI machine.
  int64_t max_full_instances = 2000000;
  // false: always simulate the whole grid (reference for the extrapolation's tests).
  bool extrapolate = true;
};

// Defaults for a profile: constants from `k`, the transfer cap from the profile's SMEM
// bandwidth, the post-pass rate from HBM bandwidth x hbm_efficiency.
Options default_options(const profiles::Profile& p, const model::ModelConstants& k);

// One parameter as printed: name, type ("double" | "bool" | "int"), value, unit, description.
struct ParamInfo {
  std::string name;
  std::string type;
  double value = 0.0;
  std::string unit;
  std::string description;
};
std::vector<ParamInfo> describe(const Options& o);

}  // namespace tilesim::sim
