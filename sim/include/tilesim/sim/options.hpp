// Simulator parameters. Like gem5's Params, each one has a type, a unit and a
// description, and all of them are printed with every result (--json "parameters").
// Values come from the model's constants (the same numbers the analytic model uses, so
// that the two evaluators differ only in how they schedule) and from the profile.
#pragma once

#include <cstdint>
#include <tuple>

#include "tilesim/fields.hpp"
#include "tilesim/model/constants.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::sim {

struct Options {
  // One member per row of kOptionFields (below), which says what each one means.
  double loop_edge_overhead_cycles = 0.0;
  double item_setup_cycles = 0.0;
  double cta_launch_cycles = 0.0;
  double transfer_cap_bytes_per_clk = 0.0;
  double post_hbm_bytes_per_s = 0.0;
  bool ignore_resources = false;
  bool record_trace = false;
  int64_t max_trace_records = 2000000;
  int max_groups = 1024;
  int64_t max_op_instances = 3000000;
  int64_t max_full_instances = 2000000;
  bool extrapolate = true;
};

namespace options_schema {
using fields::field;
using fields::member;
using fields::Rule;
using fields::Unit;

inline constexpr Unit kCycles{"cycles"};
inline constexpr Unit kBytesPerClk{"B/clk"};
inline constexpr Unit kBytesPerS{"B/s"};
inline constexpr Unit kFlag{"flag", 0, 1, true};
inline constexpr Unit kRecords{"record", 1, 1e12, true};
inline constexpr Unit kGroups{"group", 1, 1e9, true};
inline constexpr Unit kInstances{"instance", 1, 1e15, true};

// Every parameter: name, unit, rule and meaning, printed with every result (--json
// "parameters") and read by the CLI's options. A new parameter is a member above and a
// row here.
inline constexpr std::tuple kOptionFields{
    // The model adds ModelConstants::iteration_overhead_cycles to its dependency-cycle
    // bound; a delay of x cycles per unit distance raises every cycle's weight/distance
    // ratio by exactly x, so the simulator honours the same constant without a hand-placed op.
    field("loop_edge_overhead_cycles", member<&Options::loop_edge_overhead_cycles>, kCycles,
          Rule::kNonNegative,
          "delay per iteration of distance on every loop-carried dependency (the model's "
          "iteration_overhead_cycles)"),
    field("item_setup_cycles", member<&Options::item_setup_cycles>, kCycles, Rule::kNonNegative,
          "per work item before its prologue: tile-scheduler fetch, barrier init (model constant)"),
    field("cta_launch_cycles", member<&Options::cta_launch_cycles>, kCycles, Rule::kNonNegative,
          "CTA launch onto a freed slot: every item of a plain grid, once per CTA of a persistent"
          " grid (model constant)"),
    // Caps the tail of the last wave, when few SMs are loading: TMA/cp.async land in
    // SMEM, so the SM's SMEM bandwidth bounds one transfer.
    field("transfer_cap_bytes_per_clk", member<&Options::transfer_cap_bytes_per_clk>, kBytesPerClk,
          Rule::kNonNegative,
          "most bytes per clock one transfer takes from L2/HBM when few SMs load (SM SMEM "
          "bandwidth; 0 = none)"),
    field("post_hbm_bytes_per_s", member<&Options::post_hbm_bytes_per_s>, kBytesPerS,
          Rule::kNonNegative, "achievable HBM rate of the post pass (split-KV combine)"),
    // As in the model's dependency bound, where L2/HBM throughput is a fluid resource
    // bound and not a weight on the chain.
    field("ignore_resources", member<&Options::ignore_resources>, kFlag, Rule::kFlag,
          "no SM-unit conflicts, unlimited L2/HBM (latency only): time = dependency critical path"),
    field("record_trace", member<&Options::record_trace>, kFlag, Rule::kFlag,
          "record the timeline for a Chrome trace"),
    // Bounds memory and file size on huge grids.
    field("max_trace_records", member<&Options::max_trace_records>, kRecords, Rule::kPositive,
          "timeline records kept for the Chrome trace (later ones dropped, the trace says so)"),
    // Above it the grid is refused rather than silently cut.
    field("max_groups", member<&Options::max_groups>, kGroups, Rule::kPositive,
          "most distinct SM groups (SMs with the same work-class sequence) simulated"),
    // The engine runs ~1.5e6 instances/s (~1e7 events/s) on one core of the 2-core CI
    // machine, so the default bounds a simulation to about 2 s; a larger grid is refused
    // up front with the count and the events it would take.
    field("max_op_instances", member<&Options::max_op_instances>, kInstances, Rule::kPositive,
          "most op instances laid out on the representative SMs (~60 B each); larger grids are "
          "refused"),
    // Periodic steady state (the same iteration count on every item, or the same mix of
    // work classes over many waves): reduced copies are simulated and the result is
    // extrapolated along both axes, with a stated error bound (extrapolate.hpp). The
    // default keeps a whole simulation under about 1.5 s on one core of the CI machine.
    field("max_full_instances", member<&Options::max_full_instances>, kInstances, Rule::kPositive,
          "above this, a periodic grid is simulated on reduced copies (fewer iterations, fewer "
          "waves) and extrapolated, with an error bound"),
    // false is the reference for the extrapolation's tests.
    field("extrapolate", member<&Options::extrapolate>, kFlag, Rule::kFlag,
          "1 = extrapolate periodic grids above max_full_instances; 0 = always simulate whole"),
};

static_assert(fields::rows_distinct(kOptionFields),
              "one row per parameter, each with its own name");
static_assert(fields::row_count<decltype(kOptionFields)> == fields::member_count<Options>(),
              "every member of Options has a row in kOptionFields");
}  // namespace options_schema

using options_schema::kOptionFields;

// Defaults for a profile: constants from `k`, the transfer cap from the profile's SMEM
// bandwidth, the post-pass rate from HBM bandwidth x hbm_efficiency.
Options default_options(const profiles::Profile& p, const model::ModelConstants& k);

}  // namespace tilesim::sim
