// The Hopper TMA GEMMs hand out whole clusters of tiles (kernels/gemm/gemm_sm90_ws.cuh,
// gemm_sm90_fp8.cuh: ceil(tiles_m / cluster_m) x ceil(tiles_n / cluster_n) cluster tiles).
// A cluster whose second CTA falls past M's last tile still runs it: that CTA computes on
// zero-filled boxes and its stores are clipped. The model counts those items on the SM
// slots and keeps them off the chip-wide units. Checked on paper on two shapes.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

double work_of(const Prediction& pr, Unit u) {
  for (const auto& x : pr.units)
    if (x.unit == u) return x.work_total;
  return 0.0;
}

// M = 256 with 256-row tiles: one tile-row of 112 tiles (N = 14336 in 128 columns). With
// cluster_m = 2 the kernel runs two tile-rows, the second entirely past M: 2 x 112 items, the
// tensor pipe does the padding CTA's MMAs too, and the operand traffic is the real tiles'.
TEST(ClusterPadding, AClusterPastTheLastTileRunsOnTheSmsButMovesNoBytes) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":256,"n":14336,"k":4096,"dtype":"bf16"})");
  const char* base = "block_m=256,block_n=128,block_k=64,stages=4,consumers=2,cluster_n=1,raster=8,cluster_m=";
  const Prediction one = predict(p, prob, "gemm_sm90_ws", parse_tile(std::string(base) + "1"));
  const Prediction two = predict(p, prob, "gemm_sm90_ws", parse_tile(std::string(base) + "2"));
  EXPECT_EQ(one.work_items, 112);
  EXPECT_EQ(two.work_items, 224);
  EXPECT_DOUBLE_EQ(two.desc.grid.streaming_share, 0.5);
  EXPECT_DOUBLE_EQ(one.desc.grid.streaming_share, 1.0);
  // Executed tensor work doubles; the useful FLOPs do not.
  EXPECT_NEAR(work_of(two, Unit::kTensor), 2.0 * work_of(one, Unit::kTensor), 1e-6 * work_of(one, Unit::kTensor));
  EXPECT_DOUBLE_EQ(two.desc.useful_flops, one.desc.useful_flops);
  // The same operand bytes from HBM (the cluster halves L2 -> SM traffic of B by multicast,
  // not what HBM delivers); of the 132 CTAs resident at once, half stream (66).
  EXPECT_NEAR(work_of(two, Unit::kHbm), work_of(one, Unit::kHbm), 0.02 * work_of(one, Unit::kHbm));
  EXPECT_DOUBLE_EQ(two.active_ctas, 66.0);
  EXPECT_DOUBLE_EQ(one.active_ctas, 112.0);
}

// Tiles that divide evenly into clusters are not padded: 4096 x 4096 in 128 x 256 tiles
// (32 x 16) with 2 x 1 clusters.
TEST(ClusterPadding, EvenTileGridsAreNotPadded) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096,"dtype":"bf16"})");
  const Prediction pr = predict(p, prob, "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,"
                                           "cluster_n=1,raster=8"));
  EXPECT_EQ(pr.work_items, 32 * 16);
  EXPECT_DOUBLE_EQ(pr.desc.grid.streaming_share, 1.0);
}

// The fp8 kernel's scheduler is the same: M = 777 in 128-row tiles is 7 tile-rows, 8 with
// cluster_m = 2; N = 2056 in 128-column tiles is 17 tile-columns.
TEST(ClusterPadding, TheFp8GemmPadsTheSameWay) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":777,"n":2056,"k":4112,"dtype":"fp8"})");
  const Prediction pr = predict(p, prob, "gemm_sm90_fp8",
                                parse_tile("block_m=128,block_n=128,stages=4,consumers=2,cluster_m=2,cluster_n=1"));
  EXPECT_EQ(pr.work_items, 8 * 17);
  EXPECT_DOUBLE_EQ(pr.desc.grid.streaming_share, 7.0 / 8.0);
}

}  // namespace
}  // namespace tilesim::model
