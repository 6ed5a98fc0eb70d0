// The per-pass clock summary: median and range of the SM clock, power, reasons and flags.
#include <gtest/gtest.h>

#include "nvml_sampler.hpp"

namespace tc = tilesim::cuda;

TEST(NvmlSummary, MedianRangeAndReasons) {
  std::vector<tc::NvmlSample> s(5);
  const unsigned clocks[] = {1830, 1755, 1800, 1785, 1770};
  for (int i = 0; i < 5; ++i) {
    s[i].sm_mhz = clocks[i];
    s[i].power_w = 500 + 10 * i;
    s[i].reasons = i == 2 ? tc::kNvmlReasonSwPowerCap : 0;
  }
  const auto j = tc::summarize_samples(s);
  EXPECT_EQ(j["samples"], 5);
  EXPECT_DOUBLE_EQ(j["sm_mhz_median"].get<double>(), 1785);
  EXPECT_DOUBLE_EQ(j["sm_mhz_min"].get<double>(), 1755);
  EXPECT_DOUBLE_EQ(j["sm_mhz_max"].get<double>(), 1830);
  EXPECT_DOUBLE_EQ(j["power_w_mean"].get<double>(), 520);
  EXPECT_EQ(j["reasons"], nlohmann::json::array({"sw_power_cap"}));
  EXPECT_FALSE(j["flag_clock_drop"].get<bool>());  // 1830 -> 1770 is 3.3 %
  EXPECT_FALSE(j["flag_thermal_or_hw_slowdown"].get<bool>());
}

TEST(NvmlSummary, FlagsDropAndThermal) {
  std::vector<tc::NvmlSample> s(2);
  s[0].sm_mhz = 1980;
  s[1].sm_mhz = 1500;
  s[1].reasons = tc::kNvmlReasonHwThermal;
  const auto j = tc::summarize_samples(s);
  EXPECT_TRUE(j["flag_clock_drop"].get<bool>());
  EXPECT_TRUE(j["flag_thermal_or_hw_slowdown"].get<bool>());
  EXPECT_TRUE(tc::summarize_samples({}).contains("nvml"));
}

// Without a driver (CI), or for a bus id no GPU has, the sampler says why and every pass
// says so; it never throws.
TEST(NvmlSummary, UnavailableSamplerReportsWhy) {
  tc::NvmlSampler sampler("ffff:ff:1f.7");
  ASSERT_FALSE(sampler.available());
  EXPECT_FALSE(sampler.why_unavailable().empty());
  sampler.arm();
  const auto j = sampler.disarm();
  EXPECT_NE(j["nvml"].get<std::string>().find("unavailable"), std::string::npos);
}
