// The SM clock a kernel runs at. These cards are power-capped: the clock the firmware
// picks falls with how hard the SMs work, and on H100/H200 it is the tensor pipe that
// decides. Measured with ncu --clock-control none (data/measurements/ncu/): the clock falls
// about linearly with the tensor pipe's busy share, from the maximum boost clock with an
// idle tensor pipe (memory-bound kernels, the microbenchmarks' HBM and ALU runs: 1980-1995
// MHz) to the clock under saturated wgmma (the profile's measured sustained clock, ~1590-1600
// MHz): FA3 d128 at 65 % ran at ~1750, GEMM at 97 % at ~1550-1600. A kernel that uses the
// tensor pipe at all does not reach the top of that line: GEMMs and attention at 10-40 %
// tensor share ran at ~1780-1810 MHz on both chips. So the clock is the lower of the line
// and a step clock_tensor_active_drop_mhz below the maximum, reached at a tensor share of
// clock_tensor_active_knee_share (both fitted on the H100's training-shape ncu clocks,
// 2026-11-28; the H200's training shapes fitted alone give the same step; the held-out
// shapes' clocks judge it). The line's two ends come from the microbenchmarks (training data).
//
// The line is bf16 wgmma's; an 8-bit pipe's busy cycle draws clock_fp8_tensor_power_ratio
// times as much (fitted on the fp8 GEMMs' training ncu clocks), so the fp8 kernels follow
// the line at that multiple of their busy share (ClockLine::tensor_power_ratio).
//
// A profile without a measured sustained clock but with a measured light-load clock (B200:
// the clock SemiAnalysis' latency tables imply) gets the same shape from that clock down to
// the tensor spec clock, which it never goes below (nothing is measured there). One with
// neither (H20) has no line: the model keeps its tensor spec clock, and --explain says so.
#pragma once

#include <string>

#include "tilesim/model/constants.hpp"
#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::model::detail {

// The profile's clock line with the model's tensor-active drop (schedule_ir.hpp's
// ClockLine), copied into every ScheduleDesc.
ClockLine clock_line(const profiles::Profile& p, const ModelConstants& k);
// The clock at a tensor busy share in [0, 1] (the fixed clock without a line).
double clock_at(const ClockLine& line, double tensor_busy_share);
std::string describe(const ClockLine& line);

}  // namespace tilesim::model::detail
