// A grid larger than its slots whose full rounds are bound by a chip-wide unit: the last,
// partial round cannot drive that unit at the full rounds' rate, so it runs after their
// share of the unit's work, at its own CTAs' pace. A grid of whole rounds keeps the fluid
// bound alone.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;
using test::unit;

// K = 2056: rows of 4112 B, not a multiple of 128, so each 128-byte box row takes two L2
// requests of the TMA engines and the chip's TMA binds the full rounds (predict --explain:
// 1422 TMA cycles per iteration against 1024 on the tensor pipe).
const char* kTile = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1,raster=8";
Prediction gemm(int m) {
  const std::string p = R"({"kind":"gemm","m":)" + std::to_string(m) + R"(,"n":2816,"k":2056,"dtype":"bf16"})";
  return predict(profiles::resolve_profile("h100"), parse_problem(p), "gemm_sm90_ws", parse_tile(kTile));
}

// 24 x 11 tiles = 264 items: two whole rounds of 132 slots. The time is the TMA's work at
// its achievable rate plus the launch.
TEST(TailRound, WholeRoundsKeepTheFluidBound) {
  const Prediction pr = gemm(3072);
  ASSERT_EQ(pr.bottleneck, "tma");
  EXPECT_NEAR(pr.time_us, unit(pr, Unit::kTma).bound_us + pr.launch_us, 1e-9);
}

// 26 x 11 = 286 items: two rounds and 22 items. Those run after the full rounds' 264/286 of
// the TMA work, each for at least its 33 iterations at the tensor pipe's 1024 cycles.
TEST(TailRound, APartialLastRoundRunsAfterTheFullRoundsShare) {
  const Prediction pr = gemm(3200);
  ASSERT_EQ(pr.bottleneck, "tma");
  const double full_rounds_us = unit(pr, Unit::kTma).bound_us * 264.0 / 286.0;
  const double tail_min_us = 33.0 * 1024.0 / pr.clock_mhz;
  EXPECT_GE(pr.time_us - pr.launch_us, full_rounds_us + tail_min_us);
  EXPECT_GT(pr.time_us, unit(pr, Unit::kTma).bound_us + pr.launch_us);
  // Never slower than running the tail's items as a whole extra round at the full rounds' pace.
  EXPECT_LT(pr.time_us, gemm(3072).time_us * 1.5);
}

}  // namespace
}  // namespace tilesim::model
