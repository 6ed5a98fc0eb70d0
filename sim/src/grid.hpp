// Internal: the grid level. Work items are handed to CTA slots as the hardware (plain:
// each CTA is one item, a freed slot takes the next CTA in launch order) or a persistent
// scheduler (a resident CTA that finishes takes the next item; longest-first sorts the
// items by duration first) would. Slots are ranked (slot index major, SM minor) so the
// first wave spreads over all SMs, as the hardware's CTA rasterizer does.
// Durations come from short isolated simulations of each work class (simulator.cpp);
// the timing of the real run is then simulated event by event with that assignment.
// SMs whose slots receive the same class sequences form one group.
#pragma once

#include <vector>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::sim::detail {

// class_cycles: slot time of one item of each class (launch included for plain grids).
std::vector<SmGroup> assign_grid(const model::Grid& g, const std::vector<double>& class_cycles,
                                 int max_groups);

}  // namespace tilesim::sim::detail
