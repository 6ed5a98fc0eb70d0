// A clustered Hopper TMA GEMM (kernels/gemm/gemm_sm90_ws.cuh, gemm_sm90_fp8.cuh) passes two
// cluster-wide barriers per CTA: after its mbarrier init, before any peer's multicast may
// complete on them, and before it exits, while a peer may still write into its shared
// memory. Measured on the H200 with the GEMMs' block shape (cluster_barrier_cycles in
// data/model/constants.json): 484 and 396 cycles, where a CTA-wide barrier takes 2-12. The
// model charges them on each CTA's critical path, once per CTA of the persistent grid,
// before its cold first stage; a cluster of one CTA pays nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

constexpr double kBarriersPerCta = 2.0;  // after the barrier init, before exit

ModelConstants with_barrier_cycles(double cycles) {
  ModelConstants k = default_constants();
  k.cluster_barrier_cycles = cycles;
  return k;
}

bool has_op(const std::vector<Op>& ops, const std::string& name) {
  return std::any_of(ops.begin(), ops.end(), [&](const Op& o) { return o.name == name; });
}

// The kernel's own part (no launch), in SM cycles at its predicted clock.
double kernel_cycles(const Prediction& pr) { return pr.makespan_us * pr.clock_mhz; }

const char* kTile128x256 = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_n=1,raster=8,cluster_m=";

TEST(ClusterBarriers, AClusteredGemmPaysTwoBarriersBeforeItsColdFirstStage) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"bf16"})");
  const Tile t = parse_tile(std::string(kTile128x256) + "2");
  const ModelConstants k = default_constants();
  ASSERT_GT(k.cluster_barrier_cycles, 0.0);
  const Prediction pr = predict(p, prob, "gemm_sm90_ws", t, k);
  const Op& barriers = op_named(pr.desc.prologue, "cluster_barriers");
  EXPECT_DOUBLE_EQ(barriers.latency_cycles, kBarriersPerCta * k.cluster_barrier_cycles);
  // In series with the cold first stage, not beside it: without the barriers the prologue
  // is exactly their cycles shorter.
  const Prediction none = predict(p, prob, "gemm_sm90_ws", t, with_barrier_cycles(0.0));
  EXPECT_FALSE(has_op(none.desc.prologue, "cluster_barriers"));
  ASSERT_TRUE(has_op(pr.desc.prologue, "load_ab.cold"));
  EXPECT_NEAR(pr.prologue_cycles - none.prologue_cycles, kBarriersPerCta * k.cluster_barrier_cycles, 1e-6);
  // 128 tiles on 132 SMs: one item per CTA, so the kernel is longer by the barriers' cycles
  // (in SM cycles: the predicted clock rises a little as the tensor pipe's busy share falls).
  EXPECT_NEAR(kernel_cycles(pr) - kernel_cycles(none), kBarriersPerCta * k.cluster_barrier_cycles,
              0.01 * kBarriersPerCta * k.cluster_barrier_cycles);
}

TEST(ClusterBarriers, ASingleCtaClusterHasNone) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"bf16"})");
  const Prediction pr = predict(p, prob, "gemm_sm90_ws", parse_tile(std::string(kTile128x256) + "1"));
  EXPECT_FALSE(has_op(pr.desc.prologue, "cluster_barriers"));
}

// A persistent CTA passes them once whatever its tile count: 8192^3 in 128 x 256 tiles is
// 2048 items, ~16 per CTA, yet the kernel grows by one pair of barriers, not sixteen.
TEST(ClusterBarriers, APersistentCtaPaysThemOncePerKernelNotPerTile) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"bf16"})");
  const Tile t = parse_tile(std::string(kTile128x256) + "2");
  const ModelConstants k = default_constants();
  const Prediction pr = predict(p, prob, "gemm_sm90_ws", t, k);
  const Prediction none = predict(p, prob, "gemm_sm90_ws", t, with_barrier_cycles(0.0));
  ASSERT_GT(pr.work_items, 10 * 132);
  const double barrier_cycles = kBarriersPerCta * k.cluster_barrier_cycles;
  EXPECT_GT(kernel_cycles(pr) - kernel_cycles(none), 0.5 * barrier_cycles);
  EXPECT_LT(kernel_cycles(pr) - kernel_cycles(none), 2.0 * barrier_cycles);
}

// The fp8 kernel has the same cluster handshakes.
TEST(ClusterBarriers, TheFp8GemmPaysThemToo) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":2048,"n":2048,"k":2048,"dtype":"fp8"})");
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=128,stages=4,consumers=2,cluster_m=2,cluster_n=1");
  const Prediction pr = predict(p, prob, "gemm_sm90_fp8", t);
  EXPECT_DOUBLE_EQ(op_named(pr.desc.prologue, "cluster_barriers").latency_cycles,
                   kBarriersPerCta * default_constants().cluster_barrier_cycles);
}

}  // namespace
}  // namespace tilesim::model
