// The energy bound (model/src/evaluate.cpp): a kernel's energy is its work on each unit
// times the model's energy for that unit; run back to back on a power-capped card it takes
// at least that energy over the power the board limit leaves above idle. Where the profile
// has no power block (B200), the sustained time is the time.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "tilesim/profile.hpp"

using namespace tilesim::model;
using namespace tilesim::model::test;
using tilesim::profiles::Profile;

namespace {

const Profile& h200() {
  static const Profile p = tilesim::profiles::builtin_profile("h200");
  return p;
}

Prediction gemm(const Profile& p, int m, int n, int k) {
  return predict(p,
                 parse_problem(R"({"kind":"gemm","m":)" + std::to_string(m) + R"(,"n":)" + std::to_string(n) +
                               R"(,"k":)" + std::to_string(k) + "}"),
                 "gemm_sm90_ws",
                 parse_tile("block_m=256,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=2"));
}

}  // namespace

TEST(EnergyBound, EnergyIsTheUnitsWorkTimesTheirEnergies) {
  const ModelConstants& c = default_constants();
  const Prediction pr = gemm(h200(), 8192, 8192, 8192);
  const double pj = 1e-12;
  const double expect = unit(pr, Unit::kTensor).work_total * c.energy_tensor_pj_per_flop * pj +
                        unit(pr, Unit::kSmem).work_total * c.energy_smem_pj_per_byte * pj +
                        unit(pr, Unit::kL2).work_total * c.energy_l2_pj_per_byte * pj +
                        unit(pr, Unit::kHbm).work_total * c.energy_hbm_pj_per_byte * pj +
                        unit(pr, Unit::kIssue).work_total * c.energy_issue_pj_per_op * pj;
  EXPECT_NEAR(pr.energy_j, expect, 1e-9 * expect);
  // 2 x 8192^3 FLOP at ~0.26 pJ is ~0.28 J of tensor work alone; the trace measured 0.93 J.
  EXPECT_GT(pr.energy_j, 0.5);
  EXPECT_LT(pr.energy_j, 1.5);
}

TEST(EnergyBound, ABigGemmIsSlowedToTheLimitAndDrawsIt) {
  const Prediction pr = gemm(h200(), 8192, 8192, 8192);
  ASSERT_TRUE(pr.power_known);
  // At its unthrottled clock the GEMM would draw more than the board's 700 W...
  EXPECT_GT(pr.power_w, h200().power.board_limit_w.value);
  // ...so back to back it runs longer, at a lower clock, and draws exactly the limit.
  EXPECT_GT(pr.sustained_time_us, pr.time_us);
  EXPECT_LT(pr.sustained_clock_mhz, pr.clock_mhz);
  const double sustained_kernel_us = pr.makespan_us + (pr.sustained_time_us - pr.time_us);
  const double power = h200().power.idle_w.value + pr.energy_j / (sustained_kernel_us * 1e-6);
  EXPECT_NEAR(power, h200().power.board_limit_w.value, 1e-6);
  // The clock and the time move together: cycles are the same at either clock.
  EXPECT_NEAR(pr.sustained_clock_mhz * sustained_kernel_us, pr.clock_mhz * pr.makespan_us, 1e-6 * pr.clock_mhz * pr.makespan_us);
}

TEST(EnergyBound, AMemoryBoundKernelUnderTheLimitKeepsItsTime) {
  const Problem prob = parse_problem(
      R"({"kind":"decode","batch":16,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":4096,"head_dim":128})");
  const Prediction pr = predict(h200(), prob, "decode_splitkv", parse_tile("block_n=64,stages=3,splits=4"));
  ASSERT_TRUE(pr.power_known);
  EXPECT_LT(pr.power_w, h200().power.board_limit_w.value);
  EXPECT_DOUBLE_EQ(pr.sustained_time_us, pr.time_us);
  EXPECT_DOUBLE_EQ(pr.sustained_clock_mhz, pr.clock_mhz);
}

TEST(EnergyBound, GapsBetweenLaunchesLowerTheAverage) {
  const Prediction pr = gemm(h200(), 8192, 8192, 8192);
  // Idle gaps (no energy above idle) let the launch itself run closer to its own speed.
  const double none = power_limited_time_us(pr, 0.0, 0.0);
  EXPECT_DOUBLE_EQ(none, pr.sustained_time_us);
  const double gaps = power_limited_time_us(pr, 200.0, 0.0);
  EXPECT_LT(gaps, none);
  EXPECT_GE(gaps, pr.time_us);
  // Gaps that themselves draw power (an L2 flush) leave less for the launch.
  EXPECT_GT(power_limited_time_us(pr, 200.0, 0.05), gaps);
  // A gap long enough to cool the average below the limit: no slowdown at all.
  EXPECT_DOUBLE_EQ(power_limited_time_us(pr, 1e5, 0.0), pr.time_us);
}

TEST(EnergyBound, NoPowerBlockNoBound) {
  const Profile b200 = tilesim::profiles::builtin_profile("b200");
  ASSERT_FALSE(b200.has(b200.power.board_limit_w));
  const Prediction pr = predict(b200, parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192})"), "gemm_sm100",
                                parse_tile("block_m=128,block_n=256,block_k=64,stages=4,cluster_m=2,cluster_n=1"));
  EXPECT_FALSE(pr.power_known);
  EXPECT_DOUBLE_EQ(pr.sustained_time_us, pr.time_us);
  EXPECT_DOUBLE_EQ(power_limited_time_us(pr, 10.0, 0.01), pr.time_us);
}

TEST(EnergyBound, TuneRanksBySustainedTimeWhenAsked) {
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192})");
  const auto burst = tune(h200(), prob, TuneOptions{"gemm_sm90_ws", false, false});
  const auto sust = tune(h200(), prob, TuneOptions{"gemm_sm90_ws", false, true});
  ASSERT_EQ(burst.size(), sust.size());
  ASSERT_GT(sust.size(), 10u);
  for (size_t i = 1; i < sust.size(); ++i) {
    EXPECT_LE(burst[i - 1].time_us, burst[i].time_us * (1.0 + kRankTieTolerance));  // ties: rank_order
    EXPECT_LE(sust[i - 1].sustained_time_us, sust[i].sustained_time_us * (1.0 + kRankTieTolerance));
    EXPECT_GE(sust[i].sustained_time_us, sust[i].time_us);
  }
  // The two orders differ at this shape: tiles that move more bytes per FLOP cost more energy.
  EXPECT_NE(burst.front().tile.to_string(), sust.front().tile.to_string());
}
