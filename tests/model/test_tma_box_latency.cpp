// A gemm_sm100 stage completes when the last row of its A and B boxes has landed. On the
// two-die B200 a box's rows are spread over both dies' L2, so the slowest row crosses the die
// boundary: a stage hit in L2 waits latency.l2_far, one from HBM latency.hbm (a mean over
// both dies' lines) plus half the crossing (l2_far - l2_near). A lone CTA with a shallow ring
// (the SemiAnalysis mainloop benchmark's shape) turns one stage per round trip, so the wait
// shows in the K step; a deep ring does not see it. The Hopper GEMMs keep their own stage
// latency (test_gemm_stage_latency.cpp).
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;
using test::warm_l2_constants;


Tile lone_tile(int stages) {
  return parse_tile("block_m=128,block_n=128,block_k=64,acc_stages=1,cluster_m=1,cluster_n=1,stages=" +
                    std::to_string(stages));
}

// fp8 128 x 128 x 131072: 16 MiB per operand, warm in B200's usable L2 (an L2 hit per stage).
const char* kL2Fed = R"({"kind":"gemm","m":128,"n":128,"k":131072,"dtype":"fp8"})";
// bf16 128 x 256 x 131072: 96 MiB of operands, more than the usable L2: every stage from HBM.
const char* kHbmFed = R"({"kind":"gemm","m":128,"n":256,"k":131072,"dtype":"bf16"})";

TEST(TmaBoxLatency, AnL2StageWaitsForTheFarDie) {
  const Profile p = profiles::resolve_profile("b200");
  ASSERT_GT(p.latency.l2_far.value, p.latency.l2_near.value);
  const Prediction pr = predict(p, parse_problem(kL2Fed), "gemm_sm100", lone_tile(2), warm_l2_constants());
  EXPECT_DOUBLE_EQ(op_named(pr.desc.loop, "load_ab").latency_cycles, p.latency.l2_far.value);
  // Not one line's mean wait (half the lines near, half far).
  EXPECT_GT(op_named(pr.desc.loop, "load_ab").latency_cycles,
            0.5 * (p.latency.l2_near.value + p.latency.l2_far.value));
}

TEST(TmaBoxLatency, AnHbmStageAddsHalfTheDieCrossingToTheMeasuredMean) {
  const Profile p = profiles::resolve_profile("b200");
  const Prediction pr = predict(p, parse_problem(kHbmFed), "gemm_sm100",
                                parse_tile("block_m=128,block_n=256,block_k=64,acc_stages=1,cluster_m=1,cluster_n=1,stages=2"),
                                warm_l2_constants());
  ASSERT_GT(pr.bytes_hbm, 90e6);  // the operands stream from HBM
  const double crossing = p.latency.l2_far.value - p.latency.l2_near.value;
  EXPECT_DOUBLE_EQ(op_named(pr.desc.loop, "load_ab").latency_cycles, p.latency.hbm.value + 0.5 * crossing);
}

// The 2-stage ring is a cycle load -> MMA -> load over two K steps: the stage's TMA row walk
// (128 + 128 box rows), the box latency, the MMA (2*128*128*64 fp8 FLOP: 128 cycles of the
// tensor pipe, and its latency) and two iterations' overhead. A longer die crossing (a far L2
// 300 cycles further out) lengthens the round trip by exactly that, spread over 2 K steps.
TEST(TmaBoxLatency, AShallowRingTurnsOncePerRoundTripOfTheSlowestRow) {
  const Profile p = profiles::resolve_profile("b200");
  const ModelConstants k = warm_l2_constants();
  const Prediction pr = predict(p, parse_problem(kL2Fed), "gemm_sm100", lone_tile(2), k);
  const double issue = 256.0 * k.tma_issue_cycles_per_row;
  const double mma = 2.0 * 128 * 128 * 64 / p.per_sm.tensor_fp8.value + p.latency.tensor_mma.value;
  EXPECT_NEAR(pr.dependency_bound_cycles, (issue + p.latency.l2_far.value + mma) / 2.0 + k.iteration_overhead_cycles,
              1e-9);
  Profile farther = p;
  farther.latency.l2_far.value += 300.0;
  const Prediction slow = predict(farther, parse_problem(kL2Fed), "gemm_sm100", lone_tile(2), k);
  EXPECT_NEAR(slow.dependency_bound_cycles - pr.dependency_bound_cycles, 300.0 / 2.0, 1e-9);
}

// With 8 slots the TMA unit's row walk binds (256 rows x tma_issue_cycles_per_row per K step):
// the far latency is hidden behind the ring.
TEST(TmaBoxLatency, ADeepRingHidesTheDieCrossing) {
  const Profile p = profiles::resolve_profile("b200");
  const ModelConstants k = warm_l2_constants();
  Profile farther = p;
  farther.latency.l2_far.value += 300.0;
  const Prediction a = predict(p, parse_problem(kL2Fed), "gemm_sm100", lone_tile(6), k);
  const Prediction b = predict(farther, parse_problem(kL2Fed), "gemm_sm100", lone_tile(6), k);
  EXPECT_NEAR(a.iteration_cycles, 256.0 * k.tma_issue_cycles_per_row + k.iteration_overhead_cycles, 1e-9);
  EXPECT_DOUBLE_EQ(a.iteration_cycles, b.iteration_cycles);
}

// The Hopper GEMMs are untouched: an L2-hit stage there waits one line's near/far mean.
TEST(TmaBoxLatency, HopperStagesKeepTheMean) {
  const Profile p = profiles::resolve_profile("h100");
  ModelConstants k = default_constants();
  set_l2_start(k, "warm");
  const Prediction pr = predict(p, parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"bf16"})"),
                                "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1"), k);
  EXPECT_DOUBLE_EQ(op_named(pr.desc.loop, "load_ab").latency_cycles,
                   0.5 * (p.latency.l2_near.value + p.latency.l2_far.value));
}

}  // namespace
}  // namespace tilesim::model
