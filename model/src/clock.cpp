// The SM clock as a function of the tensor pipe's busy share (see clock.hpp).
#include "clock.hpp"

#include <algorithm>

#include "schedules/common.hpp"

namespace tilesim::model::detail {

double clock_at(const ClockLine& line, double tensor_busy_share) {
  if (!line.dvfs) return line.fixed_mhz;
  // The busy share in bf16-cycle power: above 1 for a busy 8-bit pipe (below the line's end).
  const double u = std::clamp(tensor_busy_share, 0.0, 1.0) * line.tensor_power_ratio;
  const double saturating = line.max_mhz - (line.max_mhz - line.tensor_saturated_mhz) * u;
  const double active = line.max_mhz - line.tensor_active_drop_mhz * std::min(1.0, u / line.tensor_active_knee_share);
  const double mhz = std::min(saturating, active);
  // Below the spec clock nothing is known: an unmeasured loaded end is a floor, not a slope.
  return line.loaded_end_is_spec ? std::max(mhz, line.tensor_saturated_mhz) : mhz;
}

std::string describe(const ClockLine& line) {
  if (!line.dvfs) return "tensor spec clock " + num(line.fixed_mhz) + " MHz (no measured sustained clock: no DVFS line)";
  const std::string share =
      line.tensor_power_ratio == 1.0 ? "tensor busy share" : num(line.tensor_power_ratio) + " x tensor busy share";
  return "min(" + num(line.max_mhz) + " MHz - (" + num(line.max_mhz) + " - " + num(line.tensor_saturated_mhz) +
         " MHz) x " + share + ", " + num(line.max_mhz) + " - " + num(line.tensor_active_drop_mhz) +
         " MHz x min(1, share / " + num(line.tensor_active_knee_share) +
         ")) (power-capped DVFS: " +
         (line.loaded_end_is_spec ? "measured light-load clock, tensor spec clock at the loaded end"
                                  : "measured line") +
         ", tensor-active drop fitted on training ncu clocks)";
}

ClockLine clock_line(const profiles::Profile& p, const ModelConstants& k) {
  ClockLine m;
  if (p.clocks.sustained_mhz.present) {
    m.dvfs = true;
    m.max_mhz = p.clocks.max_boost_mhz.value;
    m.tensor_saturated_mhz = std::min(p.clocks.sustained_mhz.value, m.max_mhz);
    m.tensor_active_drop_mhz = std::min(k.clock_tensor_active_drop_mhz, m.max_mhz - m.tensor_saturated_mhz);
    m.tensor_active_knee_share = k.clock_tensor_active_knee_share;
  } else if (p.clocks.light_load_mhz.present && p.clocks.light_load_mhz.value > p.clocks.tensor_spec_mhz.value) {
    // No measured sustained clock, but a measured light-load one: the same power-capped
    // shape with the spec clock as the loaded end. A kernel that keeps the tensor pipe busy
    // past the knee runs at the spec clock as before; one that leaves it nearly idle (one
    // CTA on the chip, a memory-bound kernel) runs at the light-load clock, as Hopper's
    // idle-tensor kernels run at their maximum boost.
    m.dvfs = true;
    m.loaded_end_is_spec = true;
    m.max_mhz = p.clocks.light_load_mhz.value;
    m.tensor_saturated_mhz = p.clocks.tensor_spec_mhz.value;
    m.tensor_active_drop_mhz = std::min(k.clock_tensor_active_drop_mhz, m.max_mhz - m.tensor_saturated_mhz);
    m.tensor_active_knee_share = k.clock_tensor_active_knee_share;
  } else {
    m.fixed_mhz = p.clocks.tensor_spec_mhz.value;
  }
  return m;
}

}  // namespace tilesim::model::detail
