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

}  // namespace tilesim::sim
