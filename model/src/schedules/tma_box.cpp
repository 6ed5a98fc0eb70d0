// The latency of a whole TMA box on a two-die chip (tma_box.hpp).
#include "tma_box.hpp"

#include <algorithm>

namespace tilesim::model::detail {

double tma_box_latency_cycles(const Ctx& c, double hbm_fraction) {
  const auto& l = c.p.latency;
  const double crossing = std::max(0.0, l.l2_far.value - l.l2_near.value);
  const double l2_box = l.l2_far.value;                 // the slowest row is on the other die
  const double hbm_box = l.hbm.value + 0.5 * crossing;  // the mean line paid half the crossing
  const double f = std::clamp(hbm_fraction, 0.0, 1.0);
  return f * hbm_box + (1.0 - f) * l2_box;
}

}  // namespace tilesim::model::detail
