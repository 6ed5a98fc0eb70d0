// The sustained-load trace summary (kernels/common/trace_summary.hpp) and the power the
// NVML energy counter gives (nvml_sampler.hpp), on hand-made launches and samples.
#include <gtest/gtest.h>

#include "trace_summary.hpp"

namespace tc = tilesim::cuda;

namespace {
tc::NvmlSample sample(double t_ms, unsigned mhz, double energy_mj, double power_w = 0) {
  tc::NvmlSample s;
  s.t_ms = t_ms;
  s.sm_mhz = mhz;
  s.energy_mj = energy_mj;
  s.power_w = power_w;
  return s;
}
}  // namespace

TEST(EnergyPower, MeanPowerIsEnergyOverTime) {
  // 700 W over 10 ms is 7000 mJ.
  const std::vector<tc::NvmlSample> s = {sample(0, 1500, 1000), sample(5, 1500, -1), sample(10, 1500, 8000)};
  EXPECT_DOUBLE_EQ(tc::energy_power_w(s), 700.0);
  // One sample with the counter, or none: no power.
  EXPECT_LT(tc::energy_power_w({sample(0, 1500, 1000), sample(10, 1500, -1)}), 0);
  EXPECT_LT(tc::energy_power_w({}), 0);
}

TEST(EnergyPower, SummaryCarriesItOnlyWithTheCounter) {
  EXPECT_DOUBLE_EQ(tc::summarize_samples({sample(0, 1500, 0), sample(2, 1500, 1000)})["power_w_energy"].get<double>(),
                   500.0);
  EXPECT_FALSE(tc::summarize_samples({sample(0, 1500, -1), sample(2, 1500, -1)}).contains("power_w_energy"));
}

TEST(TraceSummary, WindowsCountLaunchesClockAndPower) {
  // A kernel of 1 ms that slows to 1.25 ms after 40 ms, as its clock falls from 1800 to 1440.
  std::vector<tc::TracePoint> launches;
  double t = 0;
  while (t < 100) {
    const double k = t < 40 ? 1.0 : 1.25;
    t += k;
    launches.push_back({t, k});
  }
  std::vector<tc::NvmlSample> nv;
  for (int i = 0; i < 50; ++i) {
    const double ts = 2.0 * i;
    nv.push_back(sample(ts, ts < 40 ? 1800 : 1440, 700.0 * ts, 650));  // 700 W from the counter
  }
  const nlohmann::json j = tc::summarize_trace(launches, nv, 20, 20, 40);
  ASSERT_EQ(j["bins"].size(), 5u);  // 0..100 ms in 20-ms bins
  const auto& first = j["bins"][0];
  EXPECT_EQ(first["launches"], 19);  // ends at 1..19 ms; the one ending at 20 is the next bin's
  EXPECT_DOUBLE_EQ(first["kernel_ms_median"].get<double>(), 1.0);
  EXPECT_NEAR(first["busy_share"].get<double>(), 1.0, 0.051);
  EXPECT_DOUBLE_EQ(first["sm_mhz_median"].get<double>(), 1800);
  EXPECT_NEAR(first["power_w_energy"].get<double>(), 700, 1e-9);
  EXPECT_DOUBLE_EQ(first["power_w_usage_mean"].get<double>(), 650);
  EXPECT_DOUBLE_EQ(j["start"]["kernel_ms_median"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["steady"]["kernel_ms_median"].get<double>(), 1.25);
  EXPECT_DOUBLE_EQ(j["steady"]["sm_mhz_median"].get<double>(), 1440);
}

TEST(TraceSummary, WithoutTheCounterOnlyTheReadingsMean) {
  const std::vector<tc::TracePoint> launches = {{5, 5}, {10, 5}};
  const nlohmann::json w =
      tc::trace_window(launches, {sample(1, 1700, -1, 600), sample(3, 1700, -1, 640)}, 0, 20);
  EXPECT_FALSE(w.contains("power_w_energy"));
  EXPECT_DOUBLE_EQ(w["power_w_usage_mean"].get<double>(), 620);
  EXPECT_DOUBLE_EQ(w["busy_share"].get<double>(), 0.5);
  // An empty window: zeros, not NaN.
  const nlohmann::json e = tc::trace_window({}, {}, 0, 20);
  EXPECT_EQ(e["launches"], 0);
  EXPECT_DOUBLE_EQ(e["kernel_ms_median"].get<double>(), 0);
}
