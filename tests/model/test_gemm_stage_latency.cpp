// The latency of a GEMM main-loop stage (gemm_operand_load): a stage whose A or B box
// misses L2 waits gemm_operand_hbm_latency_cycles, the others the L2 latency, weighted by
// the share of stages that miss. Checked on paper for a weight-streaming shape (every stage
// misses) and a shape whose operands stay in L2 (one strip read in 16 misses).
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

// A value no profile latency has, so that the test sees where the number comes from.
ModelConstants with_stage_latency(double cycles) {
  ModelConstants k = default_constants();
  k.gemm_operand_hbm_latency_cycles = cycles;
  return k;
}

double l2_latency_cycles(const Profile& p) { return 0.5 * (p.latency.l2_near.value + p.latency.l2_far.value); }

// M = 128 rows of activations against 8192 x 8192 weights: one tile-row, so every K step
// of every CTA brings its B box (weights, read once) from HBM.
const char* kWeightStream = R"({"kind":"gemm","m":128,"n":8192,"k":8192,"dtype":"bf16"})";

TEST(GemmStageLatency, EveryWeightStreamingStageWaitsForHbm) {
  const Profile p = profiles::resolve_profile("h100");
  const ModelConstants k = with_stage_latency(4321.0);
  const Prediction pr = predict(p, parse_problem(kWeightStream), "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1"), k);
  EXPECT_DOUBLE_EQ(op_named(pr.desc.loop, "load_ab").latency_cycles, 4321.0);
}

// 2048^3 with 128 x 128 tiles: 16 x 16 tiles, 132 at once (one CTA per SM). Each operand
// (8 MiB) fits in the usable L2 beside a wave's strips of the other, so each strip is read
// once from HBM and by 16 tiles: a stage's A box misses with 1/16, its B box with 1/16, the
// stage with 1 - (15/16)^2.
TEST(GemmStageLatency, StagesMissInProportionToStripReuse) {
  const Profile p = profiles::resolve_profile("h100");
  const ModelConstants k = with_stage_latency(4321.0);
  const Prediction pr = predict(p, parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"bf16"})"),
                                "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1"), k);
  const double miss = 1.0 - (15.0 / 16.0) * (15.0 / 16.0);
  const double steady = miss * 4321.0 + (1.0 - miss) * l2_latency_cycles(p);
  EXPECT_NEAR(op_named(pr.desc.loop, "load_ab").latency_cycles, steady, 1e-9);
  // The grid starts on a cold L2: a tile's first stage waits the whole HBM stage latency, the
  // prologue the part beyond a steady stage.
  EXPECT_NEAR(op_named(pr.desc.prologue, "load_ab.cold").latency_cycles, 4321.0 - steady, 1e-9);
  EXPECT_NEAR(pr.prologue_cycles, 4321.0 - steady, 1e-9);
}

// A persistent grid pays the cold first stage once per SM slot, not once per tile: 64 x 64
// tiles of 128 x 128 on 132 slots; a longer cold wait adds its cycles once to the makespan.
TEST(GemmStageLatency, APersistentGridPaysTheColdStageOnce) {
  const Profile p = profiles::resolve_profile("h100");
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":1024,"dtype":"bf16"})");
  const Prediction a = predict(p, prob, "gemm_sm90_ws", t, with_stage_latency(3000.0));
  const Prediction b = predict(p, prob, "gemm_sm90_ws", t, with_stage_latency(4000.0));
  ASSERT_EQ(a.iteration_cycles, b.iteration_cycles);  // the ring does not bind either
  // First stage = cold wait + steady latency = the HBM stage latency; the fill and the
  // prologue move with it, so the makespan grows by the latencies' difference, once.
  EXPECT_NEAR(b.makespan_cycles - a.makespan_cycles, 1000.0, 1e-6);
}

// Where every stage misses anyway (weights streamed once), the first stage waits no longer.
TEST(GemmStageLatency, NoColdStageWhereEveryStageMisses) {
  const Profile p = profiles::resolve_profile("h100");
  const Prediction pr = predict(p, parse_problem(kWeightStream), "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1"),
                                with_stage_latency(4321.0));
  EXPECT_TRUE(pr.desc.prologue.empty());
}

// With few stages the ring binds: load(i + 4) waits for MMA(i) to be done, and MMA(i + 4)
// for that load, so 4 K steps take the stage's TMA issue (256 A + 128 B box rows x
// tma_issue_cycles_per_row) + the stage latency (with the zero-filled rows' share: M = 128 of
// the 256-row A box, 64 CTAs streaming) + one consumer's MMA (2*128*128*64 FLOP /
// 4096 per clock = 512 cycles) + its wait for the results: the pipe's drain (the profile's
// wgmma latency less its probe's 128 cycles of execution) plus the other
// consumer's 512 cycles on the shared tensor pipe; + the per-iteration overhead. The tensor
// pipe alone (two consumers: 1024 cycles) would be faster.
TEST(GemmStageLatency, AFourStageRingIsBoundByTheStageLatency) {
  const Profile p = profiles::resolve_profile("h100");
  const ModelConstants k = with_stage_latency(4321.0);
  const Prediction pr = predict(p, parse_problem(kWeightStream), "gemm_sm90_ws",
                                parse_tile("block_m=256,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1"), k);
  const double issue = (256.0 + 128.0) * k.tma_issue_cycles_per_row;
  ASSERT_GT(issue, 0.0);
  const double zero_fill = k.tma_zero_fill_latency_cycles * 64 * 128.0 * 128.0;
  ASSERT_GT(zero_fill, 0.0);
  const double ring =
      (issue + 4321.0 + zero_fill + 512.0 + p.latency.tensor_mma.value - 128.0 + 512.0) / 4.0 + k.iteration_overhead_cycles;
  ASSERT_GT(ring, 1024.0);
  EXPECT_NEAR(pr.dependency_bound_cycles, ring, 1e-9);
  EXPECT_NEAR(pr.iteration_cycles, ring, 1e-9);
  // A longer stage latency slows a ring-bound kernel down.
  const Prediction longer = predict(p, parse_problem(kWeightStream), "gemm_sm90_ws",
                                    parse_tile("block_m=256,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1"),
                                    with_stage_latency(8642.0));
  EXPECT_GT(longer.time_us, pr.time_us);
}

// The SM's TMA unit issues a stage's box rows one after another, and the stages in order: a
// lone CTA (one 64 x 64 tile of a K = 131072 GEMM on a B200) with 8 stages cannot turn a
// stage faster than its 128 rows allow, whatever the latency; with twice the cost per row the
// K step takes twice as long.
TEST(GemmStageLatency, TheTmaRowIssueBindsALoneStream) {
  const Profile p = profiles::resolve_profile("b200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":64,"n":64,"k":131072,"dtype":"bf16"})");
  const Tile t = parse_tile("block_m=64,block_n=64,block_k=64,stages=8,cluster_m=1,cluster_n=1");
  ModelConstants k = default_constants();
  k.tma_issue_cycles_per_row = 3.0;
  const Prediction one = predict(p, prob, "gemm_sm100", t, k);
  EXPECT_DOUBLE_EQ(op_named(one.desc.loop, "load_ab").chain_cycles, 128.0 * 3.0);
  EXPECT_NEAR(one.dependency_bound_cycles, 128.0 * 3.0 + k.iteration_overhead_cycles, 1e-9);
  k.tma_issue_cycles_per_row = 6.0;
  const Prediction two = predict(p, prob, "gemm_sm100", t, k);
  EXPECT_NEAR(two.dependency_bound_cycles, 128.0 * 6.0 + k.iteration_overhead_cycles, 1e-9);
}

// Zero-filled rows: a stage's latency grows by tma_zero_fill_latency_cycles x the CTAs
// streaming x the mean over tiles of each box's out-of-bounds rows squared. M = 32 with
// 128-row tiles: every A box has 96 rows past M (one tile-row), 64 CTAs (8192 / 128).
// M = 128: none.
TEST(GemmStageLatency, ZeroFilledRowsLengthenTheStage) {
  const Profile p = profiles::resolve_profile("h100");
  ModelConstants k = with_stage_latency(4321.0);
  k.tma_zero_fill_latency_cycles = 1e-3;
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1");
  const Prediction full = predict(p, parse_problem(kWeightStream), "gemm_sm90_ws", t, k);
  EXPECT_DOUBLE_EQ(op_named(full.desc.loop, "load_ab").latency_cycles, 4321.0);
  const Prediction skinny =
      predict(p, parse_problem(R"({"kind":"gemm","m":32,"n":8192,"k":8192,"dtype":"bf16"})"), "gemm_sm90_ws", t, k);
  EXPECT_NEAR(op_named(skinny.desc.loop, "load_ab").latency_cycles, 4321.0 + 1e-3 * 64 * 96.0 * 96.0, 1e-9);
}

}  // namespace
}  // namespace tilesim::model
