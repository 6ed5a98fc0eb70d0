#include "tilesim/sim/options.hpp"

namespace tilesim::sim {

Options default_options(const profiles::Profile& p, const model::ModelConstants& k) {
  Options o;
  o.loop_edge_overhead_cycles = k.iteration_overhead_cycles;
  o.item_setup_cycles = k.item_setup_cycles;
  o.cta_launch_cycles = k.cta_launch_cycles;
  o.transfer_cap_bytes_per_clk = p.per_sm.smem.value;
  o.post_hbm_bytes_per_s = p.chip.hbm_bandwidth.value * k.hbm_efficiency;
  return o;
}

std::vector<ParamInfo> describe(const Options& o) {
  return {
      {"loop_edge_overhead_cycles", "double", o.loop_edge_overhead_cycles, "cycles",
       "delay per iteration of distance on every loop-carried dependency (the model's "
       "iteration_overhead_cycles)"},
      {"item_setup_cycles", "double", o.item_setup_cycles, "cycles",
       "per work item before its prologue: tile-scheduler fetch, barrier init (model constant)"},
      {"cta_launch_cycles", "double", o.cta_launch_cycles, "cycles",
       "CTA launch onto a freed slot: every item of a plain grid, once per CTA of a persistent "
       "grid (model constant)"},
      {"transfer_cap_bytes_per_clk", "double", o.transfer_cap_bytes_per_clk, "B/clk",
       "most bytes per clock one transfer takes from L2/HBM when few SMs load (SM SMEM bandwidth; "
       "0 = none)"},
      {"post_hbm_bytes_per_s", "double", o.post_hbm_bytes_per_s, "B/s",
       "achievable HBM rate of the post pass (split-KV combine)"},
      {"ignore_resources", "bool", o.ignore_resources ? 1.0 : 0.0, "flag",
       "1 = no SM-unit conflicts, unlimited L2/HBM (latency only): time = dependency critical "
       "path"},
      {"max_trace_records", "int", static_cast<double>(o.max_trace_records), "record",
       "timeline records kept for the Chrome trace (later ones dropped, the trace says so)"},
      {"max_groups", "int", static_cast<double>(o.max_groups), "group",
       "most distinct SM groups (SMs with the same work-class sequence) simulated"},
      {"max_op_instances", "int", static_cast<double>(o.max_op_instances), "instance",
       "most op instances laid out on the representative SMs (~60 B each); larger grids are refused"},
      {"max_full_instances", "int", static_cast<double>(o.max_full_instances), "instance",
       "above this, a periodic grid is simulated on reduced copies (fewer iterations, fewer "
       "waves) and extrapolated, with an error bound"},
      {"extrapolate", "bool", o.extrapolate ? 1.0 : 0.0, "flag",
       "1 = extrapolate periodic grids above max_full_instances; 0 = always simulate whole"},
  };
}

}  // namespace tilesim::sim
