// The SM clock as a function of the tensor pipe's busy share (see clock.hpp).
#include "clock.hpp"

#include <algorithm>

#include "schedules/common.hpp"

namespace tilesim::model::detail {

double ClockModel::at(double tensor_busy_share) const {
  if (!dvfs) return fixed_mhz;
  const double u = std::clamp(tensor_busy_share, 0.0, 1.0);
  return max_mhz - (max_mhz - tensor_saturated_mhz) * u;
}

std::string ClockModel::describe() const {
  if (!dvfs) return "tensor spec clock " + num(fixed_mhz) + " MHz (no measured sustained clock: no DVFS line)";
  return num(max_mhz) + " MHz - (" + num(max_mhz) + " - " + num(tensor_saturated_mhz) +
         " MHz) x tensor busy share (power-capped DVFS, measured line)";
}

ClockModel clock_model(const profiles::Profile& p) {
  ClockModel m;
  if (p.clocks.sustained_mhz.present) {
    m.dvfs = true;
    m.max_mhz = p.clocks.max_boost_mhz.value;
    m.tensor_saturated_mhz = std::min(p.clocks.sustained_mhz.value, m.max_mhz);
  } else {
    m.fixed_mhz = p.clocks.tensor_spec_mhz.value;
  }
  return m;
}

}  // namespace tilesim::model::detail
