// The latency of a whole TMA box on a two-die chip (B200): when its last row has landed.
#pragma once

#include "common.hpp"

namespace tilesim::model::detail {

// A TMA box of many rows (a GEMM stage's A and B boxes, an attention K or V tile: 64 to 384
// rows) completes its mbarrier transaction only when its last row has landed. The address
// hash spreads a box's lines over the L2 slices of both dies, so with more than a handful of
// rows some of them always live on the other die, and the box waits for the die crossing:
//   L2 hit:  the far latency, latency.l2_far (the near latency plus the die-to-die trip)
//   HBM:     latency.hbm (a mean over lines of both dies' memory, as measured one line at a
//            time) plus half the die crossing, latency.l2_far - latency.l2_near (the half of
//            the lines homed on the other die pay all of it, the mean paid half)
// weighted by the box's HBM share. load_latency_cycles' near/far mean is what one line waits
// on average; a box is the maximum over its rows, not the mean.
// Used by gemm_sm100 (tcgen05: its only chip is the two-die B200). The Hopper schedules keep
// the mean: their near and far L2 partitions sit on one die (far - near ~170 cycles on the
// H100 against ~300 across B200's dies) and their loaded stage latency is fitted on Hopper
// runs (gemm_operand_hbm_latency_cycles), which absorbs it. attn_fa4 keeps the mean for now:
// with the longer box latency its 3-slot K/V ring (head dim 128) sits on the S -> softmax ->
// PV cycle, where the simulator then runs 8.6 % slower than the analytic model's cycle bound
// (tests/sim/test_agreement.cpp); its deep d64 ring (10 slots) would not change.
double tma_box_latency_cycles(const Ctx& c, double hbm_fraction);

}  // namespace tilesim::model::detail
