// MUFU queueing between softmax warps that share a sub-partition and run their exp2 at once.
#pragma once

namespace tilesim::model::detail {

// A warp's MUFU instruction holds its sub-partition's MUFU lanes for a fixed time (32 threads
// over a quarter of the SM's ex2 rate: mufu_warp_instruction_cycles). An instruction that
// arrives while another warp's is in service waits for the rest of it: for arrivals at random
// times against a fixed service time, half an instruction on average (the residual of a
// deterministic service seen by a random arrival).
inline constexpr double kMeanResidualServiceShare = 0.5;

// Cycles one softmax warp's chain waits per iteration for the MUFU of its sub-partition when
// `other_warps` other softmax warps there issue their exp2 in the same period without an
// ordering barrier between them: each of its `mufu_instructions` finds one of theirs in
// service with the probability that they keep the MUFU busy over the period (their MUFU
// cycles over `period_cycles`, at most 1) and waits the mean residual of it.
double shared_mufu_wait_cycles(double mufu_instructions, double mufu_instruction_cycles, int other_warps,
                               double period_cycles);

}  // namespace tilesim::model::detail
