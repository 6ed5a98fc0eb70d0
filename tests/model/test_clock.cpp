// The predicted SM clock (model/src/clock.hpp): the maximum boost clock without tensor
// work, a step below it (growing up to a knee) for a kernel that uses the tensor pipe
// lightly, the measured line
// down to the sustained clock when the tensor pipe saturates. Without a measured sustained
// clock: the same shape from a measured light-load clock down to the tensor spec clock where
// the profile has one (B200), else the tensor spec clock.
#include <gtest/gtest.h>

#include <algorithm>

#include "helpers.hpp"
#include "tilesim/profile.hpp"

using namespace tilesim::model;
using namespace tilesim::model::test;
using tilesim::profiles::Profile;

namespace {

const Profile& h100() {
  static const Profile p = tilesim::profiles::builtin_profile("h100");
  return p;
}

Prediction gemm(int m, int n, int k, const std::string& tile, const ModelConstants& c = default_constants()) {
  return predict(h100(), parse_problem(R"({"kind":"gemm","m":)" + std::to_string(m) + R"(,"n":)" + std::to_string(n) +
                                       R"(,"k":)" + std::to_string(k) + "}"),
                 "gemm_sm90_ws", parse_tile(tile), c);
}

constexpr const char* kWideTile = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1";
constexpr const char* kStreamTile = "block_m=128,block_n=128,block_k=64,stages=6,consumers=1,cluster_m=1,cluster_n=1";

}  // namespace

TEST(Clock, BelowTheKneeTheStepGrowsWithTheTensorShare) {
  // A decode step: memory-bound, its mma.sync keep the tensor pipe busy ~7 % of the time.
  const ModelConstants& c = default_constants();
  const Problem prob = parse_problem(
      R"({"kind":"decode","batch":16,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":16384,"head_dim":128})");
  const Prediction pr = predict(h100(), prob, "decode_splitkv", parse_tile("block_n=64,stages=3,splits=1"));
  const double share = unit(pr, Unit::kTensor).utilization, max = h100().clocks.max_boost_mhz.value;
  ASSERT_GT(share, 0.0);
  ASSERT_LT(share, c.clock_tensor_active_knee_share);
  EXPECT_GT(pr.clock_mhz, max - c.clock_tensor_active_drop_mhz);
  EXPECT_LT(pr.clock_mhz, max);
  // share / knee of the step (the unit's utilization counts the launch too: a few MHz)
  EXPECT_NEAR(pr.clock_mhz, max - c.clock_tensor_active_drop_mhz * share / c.clock_tensor_active_knee_share, 5.0);
}

TEST(Clock, LightTensorUseRunsOneStepBelowTheMaximum) {
  // 128 x 4096 x 14336 streams its weights: the tensor pipe is busy ~15 % of the time,
  // past the knee, above the line: the step clock.
  const ModelConstants& c = default_constants();
  const Prediction pr = gemm(128, 4096, 14336, kStreamTile);
  const double share = unit(pr, Unit::kTensor).utilization;
  ASSERT_GT(share, c.clock_tensor_active_knee_share);
  ASSERT_LT(share, 0.4);
  EXPECT_NEAR(pr.clock_mhz, h100().clocks.max_boost_mhz.value - c.clock_tensor_active_drop_mhz, 1e-6);
  // Without the step the same kernel sits on the line, well above it.
  ModelConstants no_step = c;
  no_step.clock_tensor_active_drop_mhz = 0.0;
  EXPECT_GT(gemm(128, 4096, 14336, kStreamTile, no_step).clock_mhz, pr.clock_mhz + 100.0);
}

TEST(Clock, SaturatedTensorPipeFollowsTheMeasuredLine) {
  const Prediction pr = gemm(8192, 8192, 8192, kWideTile);
  const double max = h100().clocks.max_boost_mhz.value, sustained = h100().clocks.sustained_mhz.value;
  const double share = unit(pr, Unit::kTensor).utilization;
  ASSERT_GT(share, 0.8);
  // On the line at (about) the kernel's tensor share: the clock's share counts the kernel
  // cycles without the launch, the unit's utilization the whole time (a ~1 % difference).
  EXPECT_NEAR(pr.clock_mhz, max - (max - sustained) * share, 0.02 * (max - sustained));
  EXPECT_LT(pr.clock_mhz, max - default_constants().clock_tensor_active_drop_mhz);
  EXPECT_GE(pr.clock_mhz, sustained);
}

TEST(Clock, WithoutAMeasuredLineABusyChipKeepsItsTensorSpecClock) {
  const Profile b200 = tilesim::profiles::builtin_profile("b200");
  ASSERT_FALSE(b200.clocks.sustained_mhz.present);
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192})");
  const Prediction pr = predict(b200, prob, "gemm_sm100", parse_tile("block_m=128,block_n=256,block_k=64,stages=3,acc_stages=1,cluster_m=2,cluster_n=2"));
  EXPECT_DOUBLE_EQ(pr.clock_mhz, b200.clocks.tensor_spec_mhz.value);
  // An 8-bit pipe draws more per busy cycle, but below the spec clock nothing is measured:
  // the spec clock is a floor there, not the start of a slope.
  const Problem fp8 = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"fp8"})");
  const Prediction busy8 = predict(b200, fp8, "gemm_sm100", parse_tile("block_m=128,block_n=256,block_k=128,stages=3,acc_stages=1,cluster_m=2,cluster_n=2"));
  ASSERT_GT(unit(busy8, Unit::kTensor).utilization, 0.5);
  EXPECT_DOUBLE_EQ(busy8.clock_mhz, b200.clocks.tensor_spec_mhz.value);
}

// One CTA on the whole chip (SemiAnalysis' single-tile mainloop benchmark) leaves the tensor
// pipe idle on 147 of 148 SMs: with a measured light-load clock and no sustained line, the
// kernel runs near the light-load clock, not at the spec clock. A profile with neither (the
// H20) keeps its spec clock for the same kernel.
TEST(Clock, AnIdleChipRunsAtTheMeasuredLightLoadClock) {
  const Profile b200 = tilesim::profiles::builtin_profile("b200");
  ASSERT_TRUE(b200.clocks.light_load_mhz.present);
  ASSERT_GT(b200.clocks.light_load_mhz.value, b200.clocks.tensor_spec_mhz.value);
  const Problem one_tile = parse_problem(R"({"kind":"gemm","m":128,"n":128,"k":131072})");
  const Prediction pr = predict(b200, one_tile, "gemm_sm100",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=4,acc_stages=1,cluster_m=1,cluster_n=1"));
  const double share = unit(pr, Unit::kTensor).utilization;
  ASSERT_LT(share, 0.01);
  const double max = b200.clocks.light_load_mhz.value, spec = b200.clocks.tensor_spec_mhz.value;
  // On the tensor-active step below the knee (the step is the gap to the spec clock here).
  const double drop = std::min(default_constants().clock_tensor_active_drop_mhz, max - spec);
  EXPECT_NEAR(pr.clock_mhz, max - drop * share / default_constants().clock_tensor_active_knee_share, 2.0);
  EXPECT_GT(pr.clock_mhz, spec + 0.9 * (max - spec));

  const Profile h20 = tilesim::profiles::builtin_profile("h20");
  ASSERT_FALSE(h20.clocks.light_load_mhz.present);
  ASSERT_FALSE(h20.clocks.sustained_mhz.present);
  const Prediction h = predict(h20, parse_problem(R"({"kind":"gemm","m":128,"n":128,"k":131072})"), "gemm_sm90_ws",
                               parse_tile("block_m=128,block_n=128,block_k=64,stages=4,consumers=1,cluster_m=1,cluster_n=1"));
  EXPECT_DOUBLE_EQ(h.clock_mhz, h20.clocks.tensor_spec_mhz.value);
}

// An 8-bit wgmma busy cycle draws clock_fp8_tensor_power_ratio times a bf16 one: the fp8
// GEMM's clock follows the line at that multiple of its tensor busy share, and a busy fp8
// pipe runs below the bf16 line's end (the sustained clock); at a ratio of 1 it keeps the
// bf16 line.
TEST(Clock, AnFp8PipeDrawsMorePerBusyCycle) {
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"fp8"})");
  const Tile tile = parse_tile("block_m=128,block_n=192,block_k=128,stages=4,consumers=2,cluster_m=2,cluster_n=1");
  ModelConstants c = default_constants();
  ASSERT_GT(c.clock_fp8_tensor_power_ratio, 1.0);
  const Prediction fp8 = predict(h100(), prob, "gemm_sm90_fp8", tile, c);
  c.clock_fp8_tensor_power_ratio = 1.0;
  const Prediction as_bf16 = predict(h100(), prob, "gemm_sm90_fp8", tile, c);
  const double max = h100().clocks.max_boost_mhz.value, sustained = h100().clocks.sustained_mhz.value;
  const double share = unit(fp8, Unit::kTensor).utilization;
  ASSERT_GT(share * default_constants().clock_fp8_tensor_power_ratio, 1.0);  // below the line's end
  // (the clock's share counts the kernel cycles without the launch: ~1 % apart, as above)
  EXPECT_NEAR(fp8.clock_mhz, max - (max - sustained) * share * default_constants().clock_fp8_tensor_power_ratio,
              0.02 * (max - sustained));
  EXPECT_LT(fp8.clock_mhz, sustained);
  EXPECT_GT(as_bf16.clock_mhz, fp8.clock_mhz);
}
