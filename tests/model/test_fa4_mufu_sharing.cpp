// attn_fa4's softmax warpgroups (one per Q tile) put a warp each on every sub-partition and
// issue their exp2 with no ordering barrier between them: a warp's MUFU instructions queue
// behind the other tiles' on the sub-partition's MUFU. One Q tile has no one to queue behind;
// two wait in proportion to how busy the other keeps the MUFU, and less when part of the
// exp2 is emulated on the FMA pipe.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

const Problem& d64() {
  static const Problem p = parse_problem(
      R"({"kind":"attention","batch":2,"heads_q":32,"seq_q":16384,"head_dim":64,"causal":false})");
  return p;
}

double chain(const char* tile) {
  const Prediction pr = predict(profiles::resolve_profile("b200"), d64(), "attn_fa4", parse_tile(tile));
  return op_named(pr.desc.loop, "softmax.q0").chain_cycles;
}

// The softmax chain alone: 392 instructions per thread at the Hopper-fitted cost + 113 MUFU
// x 8 cycles (head dim 64, block_n 128, an eighth of the exp2 emulated, the row corrections).
double alone(double mufu_instructions, double other_instructions) {
  return other_instructions * default_constants().consumer_cycles_per_instruction + mufu_instructions * 8.0;
}

TEST(Fa4MufuSharing, OneQTileQueuesBehindNoOne) {
  EXPECT_NEAR(chain("block_m=128,block_n=128,stages=10,q_tiles=1,exp_emu_fraction=0.125,rescale_threshold=8"),
              alone(113.0, 392.0), 1e-9);
}

TEST(Fa4MufuSharing, TwoQTilesWaitHalfAnInstructionWhenTheOtherIsBusy) {
  const double solo = alone(113.0, 392.0);
  // The tile's cycle: the softmax alone, S and PV (256 cycles of execution, 136 of latency).
  const double period = solo + 2.0 * (256.0 + 136.0);
  const double busy = 113.0 * 8.0 / period;
  ASSERT_LT(busy, 1.0);
  EXPECT_NEAR(chain("block_m=128,block_n=128,stages=10,q_tiles=2,exp_emu_fraction=0.125,rescale_threshold=8"),
              solo + 113.0 * busy * 0.5 * 8.0, 1e-9);
}

TEST(Fa4MufuSharing, EmulatingExp2ShortensTheQueue) {
  // The wait: the softmax chain with two Q tiles less the same softmax alone (one Q tile).
  auto wait = [](const std::string& emu) {
    const std::string tile = "block_m=128,block_n=128,stages=10,rescale_threshold=8,exp_emu_fraction=" + emu;
    return chain((tile + ",q_tiles=2").c_str()) - chain((tile + ",q_tiles=1").c_str());
  };
  EXPECT_GT(wait("0"), 0.0);
  // Half the MUFU instructions, each finding the MUFU busy half as often.
  EXPECT_LT(wait("0.5"), 0.5 * wait("0"));
}

}  // namespace
}  // namespace tilesim::model
