// The summary of a sustained-load trace (sustain_trace.hpp) from its launches and NVML
// samples: windows with the launches, kernel time, busy share, SM clock and power. Host code
// only: tests/runner checks it on the CPU.
#pragma once

#include <algorithm>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "nvml_sampler.hpp"

namespace tilesim::cuda {

// One launch of a trace: when it ended (GPU time since the trace started, ms) and how long
// it took (ms).
struct TracePoint {
  double end_ms = 0, kernel_ms = 0;
};

// The launches and NVML samples in [from_ms, to_ms): launches, median kernel time, the share
// of the interval the kernel ran, median SM clock (NVML's requested clock: under the power
// limit the SMs run slower than it says), power, the hottest temperature.
inline nlohmann::json trace_window(const std::vector<TracePoint>& launches, const std::vector<NvmlSample>& nvml,
                                   double from_ms, double to_ms) {
  std::vector<double> k, clk;
  double busy_ms = 0;
  for (const auto& p : launches)
    if (p.end_ms >= from_ms && p.end_ms < to_ms) {
      k.push_back(p.kernel_ms);
      busy_ms += p.kernel_ms;
    }
  std::vector<NvmlSample> in;
  double pw = 0;
  unsigned temp = 0;
  for (const auto& s : nvml)
    if (s.t_ms >= from_ms && s.t_ms < to_ms) {
      in.push_back(s);
      clk.push_back(s.sm_mhz);
      pw += s.power_w;
      temp = std::max(temp, s.temp_c);
    }
  nlohmann::json j;
  j["from_ms"] = from_ms;
  j["to_ms"] = to_ms;
  j["launches"] = k.size();
  j["kernel_ms_median"] = median(k);
  j["busy_share"] = to_ms > from_ms ? busy_ms / (to_ms - from_ms) : 0.0;
  j["nvml_samples"] = in.size();
  j["sm_mhz_median"] = median(clk);
  // Two readings of the power: the board's one-second average (nvmlDeviceGetPowerUsage on
  // Hopper: right for a window that ends a second or more into a steady load) and the energy
  // counter's difference (exact, but the counter moves in steps of ~100 ms, so a short
  // window reads it coarsely).
  j["power_w_usage_mean"] = in.empty() ? 0.0 : pw / static_cast<double>(in.size());
  const double pe = energy_power_w(in);
  if (pe >= 0) j["power_w_energy"] = pe;
  j["temp_c_max"] = temp;
  return j;
}

// The trace as bins of `bin_ms` from 0 to the last launch's end, plus a start window (the
// first `start_ms`) and a steady window (the last `steady_ms`).
inline nlohmann::json summarize_trace(const std::vector<TracePoint>& launches, const std::vector<NvmlSample>& nvml,
                                      double bin_ms, double start_ms, double steady_ms) {
  double end_ms = 0;
  for (const auto& p : launches) end_ms = std::max(end_ms, p.end_ms);
  nlohmann::json bins = nlohmann::json::array();
  for (double t = 0; t < end_ms; t += bin_ms) bins.push_back(trace_window(launches, nvml, t, t + bin_ms));
  nlohmann::json j;
  j["bin_ms"] = bin_ms;
  j["bins"] = bins;
  j["start"] = trace_window(launches, nvml, 0, std::min(start_ms, end_ms));
  j["steady"] = trace_window(launches, nvml, std::max(0.0, end_ms - steady_ms), end_ms + 1e-9);
  return j;
}

}  // namespace tilesim::cuda
