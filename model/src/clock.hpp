// The SM clock a kernel runs at. These cards are power-capped: the clock the firmware
// picks falls with how hard the SMs work, and on H100/H200 it is the tensor pipe that
// decides. Measured with ncu --clock-control none on every held-out kernel
// (data/measurements/ncu/, 2026-11-27): the clock falls about linearly with the tensor
// pipe's busy share, from the maximum boost clock with an idle tensor pipe (memory-bound
// kernels, the microbenchmarks' HBM and ALU runs: 1980-1995 MHz) to the clock under
// saturated wgmma (the profile's measured sustained clock, ~1590-1600 MHz): FA2 at 37 %
// tensor ran at ~1810 MHz, FA3 d64 at 47 % at ~1800, FA3 d128 at 65 % at ~1750, GEMM at
// 97 % at ~1550-1600. The line's two ends come from the microbenchmarks (training data);
// the kernels' clocks are what validate checks it against.
//
// A profile without a measured sustained clock (H20, B200 today) has no line: the model
// keeps its tensor spec clock, and --explain says so.
#pragma once

#include <string>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::model::detail {

// The profile's clock line (schedule_ir.hpp's ClockLine), copied into every ScheduleDesc.
ClockLine clock_line(const profiles::Profile& p);
// The clock at a tensor busy share in [0, 1] (the fixed clock without a line).
double clock_at(const ClockLine& line, double tensor_busy_share);
std::string describe(const ClockLine& line);

}  // namespace tilesim::model::detail
