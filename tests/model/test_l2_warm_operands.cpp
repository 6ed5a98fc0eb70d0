// A GEMM launched right after an identical launch with no flush between them (back-to-back
// timing loops: `predict --l2-start warm`, a published source's timing.l2_start) finds the
// operands the previous launch read still in the L2 when both fit in its usable part: no
// HBM reads for them, every stage at the L2 latency, no cold first stage. Operands that do
// not fit stream from HBM as from a flushed L2.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;
using test::warm_l2_constants;

ModelConstants clean() { return with_clean_l2(default_constants()); }

// A Hopper stage that hits L2 waits the near/far mean (one line's average wait).
double l2_latency_cycles(const Profile& p) { return 0.5 * (p.latency.l2_near.value + p.latency.l2_far.value); }
// A gemm_sm100 stage waits for its boxes' slowest rows, across B200's die boundary
// (tests/model/test_tma_box_latency.cpp): the far L2 latency from the L2, and from HBM the
// measured mean plus half the die crossing.
double l2_box_latency_cycles(const Profile& p) { return p.latency.l2_far.value; }
double hbm_box_latency_cycles(const Profile& p) {
  return p.latency.hbm.value + 0.5 * (p.latency.l2_far.value - p.latency.l2_near.value);
}
double usable_l2_bytes(const Profile& p) { return p.capacity.l2.value * default_constants().l2_usable_fraction; }

const char* kOneTile = "block_m=64,block_n=64,block_k=64,stages=4,acc_stages=1,cluster_m=1,cluster_n=1";

// fp8 64 x 64 x 131072: A and B are 8 MiB each, far inside B200's usable L2.
TEST(L2WarmOperands, OperandsThatFitAreReadFromTheL2) {
  const Profile p = profiles::resolve_profile("b200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":64,"n":64,"k":131072,"dtype":"fp8"})");
  ASSERT_LT(2.0 * 64 * 131072, usable_l2_bytes(p));
  const Prediction cold = predict(p, prob, "gemm_sm100", parse_tile(kOneTile), clean());
  const Prediction hot = predict(p, prob, "gemm_sm100", parse_tile(kOneTile), warm_l2_constants());
  EXPECT_DOUBLE_EQ(op_named(cold.desc.loop, "load_ab").latency_cycles, hbm_box_latency_cycles(p));
  EXPECT_DOUBLE_EQ(op_named(hot.desc.loop, "load_ab").latency_cycles, l2_box_latency_cycles(p));
  // HBM moves only the output tile (64 x 64 bf16) once the operands are resident.
  EXPECT_GT(cold.bytes_hbm, 2.0 * 64 * 131072);
  EXPECT_DOUBLE_EQ(hot.bytes_hbm, 64.0 * 64 * 2);
  // A latency-bound ring (4 slots) turns faster; nothing else in the loop changed.
  EXPECT_LT(hot.time_us, 0.8 * cold.time_us);
}

// bf16 128 x 128 x 131072: 2 x 32 MiB = 67.1 MB, just above the usable half of 126.5 MB:
// streamed from HBM whatever the launch before did.
TEST(L2WarmOperands, OperandsLargerThanTheUsableL2StillStreamFromHbm) {
  const Profile p = profiles::resolve_profile("b200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":128,"n":128,"k":131072,"dtype":"bf16"})");
  ASSERT_GT(2.0 * 128 * 131072 * 2, usable_l2_bytes(p));
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=64,stages=4,acc_stages=1,cluster_m=1,cluster_n=1");
  const Prediction cold = predict(p, prob, "gemm_sm100", t, clean());
  const Prediction hot = predict(p, prob, "gemm_sm100", t, warm_l2_constants());
  EXPECT_DOUBLE_EQ(hot.time_us, cold.time_us);
  EXPECT_DOUBLE_EQ(hot.bytes_hbm, cold.bytes_hbm);
}

// On the Hopper GEMM a stage that waits for a streamed operand takes the fitted HBM stage
// latency and the first stage of each slot waits for a cold L2; warm operands take neither.
TEST(L2WarmOperands, AWarmHopperGemmHasNoColdFirstStage) {
  const Profile p = profiles::resolve_profile("h100");
  // 2048^3: 8 MiB per operand, both inside the H100's usable L2; on a flushed L2 each strip is
  // read once from HBM and then by 16 tiles (a share of the stages waits, the first one does).
  const Problem prob = parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"bf16"})");
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1");
  const Prediction cold = predict(p, prob, "gemm_sm90_ws", t, clean());
  const Prediction hot = predict(p, prob, "gemm_sm90_ws", t, warm_l2_constants());
  EXPECT_GT(op_named(cold.desc.loop, "load_ab").latency_cycles, l2_latency_cycles(p));
  bool cold_stage = false;
  for (const auto& op : cold.desc.prologue) cold_stage |= op.name == "load_ab.cold";
  EXPECT_TRUE(cold_stage);
  EXPECT_DOUBLE_EQ(op_named(hot.desc.loop, "load_ab").latency_cycles, l2_latency_cycles(p));
  for (const auto& op : hot.desc.prologue) EXPECT_NE(op.name, "load_ab.cold");
}

}  // namespace
}  // namespace tilesim::model
