// Clock, power, temperature and clock-event (throttle) reasons sampled through NVML while a
// timing pass runs. The SM clock of these power-capped cards moves with the work (GEMM
// ~1.55 GHz, attention ~1.8, memory-bound 1.98), so the clock a kernel ran at is part of
// its measurement: a background thread reads NVML every `period` while a pass is armed,
// and the pass gets the median/min/max SM clock, mean power and the OR of the reasons.
//
// NVML is the driver's library (libnvidia-ml.so.1); it is opened with dlopen so that the
// runners build where no driver is installed (the toolkit ships no nvml.h here: the few
// entry points and constants below are NVML's documented C ABI). Read-only queries only:
// tilesim never changes clocks. Without NVML every pass reports "nvml": "unavailable".
#pragma once

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "stats.hpp"

namespace tilesim::cuda {

// NVML's clock-event reason bits (nvmlClocksEventReason*).
constexpr uint64_t kNvmlReasonGpuIdle = 0x1;
constexpr uint64_t kNvmlReasonSwPowerCap = 0x4;
constexpr uint64_t kNvmlReasonHwSlowdown = 0x8;
constexpr uint64_t kNvmlReasonSwThermal = 0x20;
constexpr uint64_t kNvmlReasonHwThermal = 0x40;
constexpr uint64_t kNvmlReasonHwPowerBrake = 0x80;

// Names of the set bits, for the JSON.
inline std::vector<std::string> nvml_reason_names(uint64_t bits) {
  static const std::pair<uint64_t, const char*> kNames[] = {
      {kNvmlReasonGpuIdle, "gpu_idle"},           {0x2, "applications_clocks_setting"},
      {kNvmlReasonSwPowerCap, "sw_power_cap"},    {kNvmlReasonHwSlowdown, "hw_slowdown"},
      {0x10, "sync_boost"},                       {kNvmlReasonSwThermal, "sw_thermal_slowdown"},
      {kNvmlReasonHwThermal, "hw_thermal_slowdown"}, {kNvmlReasonHwPowerBrake, "hw_power_brake"},
      {0x100, "display_clock_setting"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : kNames)
    if ((bits & bit) != 0) out.emplace_back(name);
  return out;
}

struct NvmlSample {
  double t_ms = 0;          // since the pass was armed
  unsigned sm_mhz = 0, mem_mhz = 0, temp_c = 0;
  double power_w = 0;       // nvmlDeviceGetPowerUsage: on Hopper a one-second average
  double energy_mj = -1;    // the board's energy counter since the driver loaded (< 0: none)
  uint64_t reasons = 0;
};

// Mean power over the samples from the energy counter (exact over any interval, unlike the
// one-second power average); negative when fewer than two samples carry the counter or no
// time passed between them.
inline double energy_power_w(const std::vector<NvmlSample>& s) {
  const NvmlSample* first = nullptr;
  const NvmlSample* last = nullptr;
  for (const auto& x : s) {
    if (x.energy_mj < 0) continue;
    if (first == nullptr) first = &x;
    last = &x;
  }
  if (first == nullptr || last == first || last->t_ms <= first->t_ms) return -1;
  return (last->energy_mj - first->energy_mj) / (last->t_ms - first->t_ms);  // mJ / ms = W
}

// Summary of one armed interval. A pass is flagged when the clock fell by more than
// kClockDropFlag between its first and last samples, or a thermal / hardware slowdown
// reason appeared (the software power cap is the normal state of these cards under load
// and is recorded but not flagged).
constexpr double kClockDropFlag = 0.05;

inline nlohmann::json summarize_samples(const std::vector<NvmlSample>& s) {
  nlohmann::json j;
  if (s.empty()) {
    j["nvml"] = "no samples (pass shorter than the sampling period)";
    return j;
  }
  std::vector<double> clk;
  double pw = 0, pmax = 0;
  uint64_t reasons = 0;
  unsigned tmax = 0;
  for (const auto& x : s) {
    clk.push_back(x.sm_mhz);
    pw += x.power_w;
    pmax = std::max(pmax, x.power_w);
    reasons |= x.reasons;
    tmax = std::max(tmax, x.temp_c);
  }
  std::vector<double> sorted = clk;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double med = median(sorted);
  const bool dropped = clk.back() < clk.front() * (1.0 - kClockDropFlag);
  const bool slowdown =
      (reasons & (kNvmlReasonHwSlowdown | kNvmlReasonSwThermal | kNvmlReasonHwThermal | kNvmlReasonHwPowerBrake)) != 0;
  j["samples"] = n;
  j["sm_mhz_median"] = med;
  j["sm_mhz_min"] = sorted.front();
  j["sm_mhz_max"] = sorted.back();
  j["mem_mhz"] = s.back().mem_mhz;
  j["power_w_mean"] = pw / static_cast<double>(n);
  j["power_w_max"] = pmax;
  const double pe = energy_power_w(s);
  if (pe >= 0) j["power_w_energy"] = pe;
  j["temp_c_max"] = tmax;
  j["reasons"] = nvml_reason_names(reasons);
  j["flag_clock_drop"] = dropped;
  j["flag_thermal_or_hw_slowdown"] = slowdown;
  return j;
}

class NvmlSampler {
 public:
  // pci_bus_id: from cudaDeviceGetPCIBusId (NVML and CUDA may number devices differently).
  explicit NvmlSampler(const std::string& pci_bus_id, std::chrono::microseconds period = std::chrono::microseconds(2000))
      : period_(period) {
    lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) {
      why_ = "libnvidia-ml.so.1 not found";
      return;
    }
    auto sym = [&](const char* name) { return dlsym(lib_, name); };
    init_ = reinterpret_cast<int (*)()>(sym("nvmlInit_v2"));
    shutdown_ = reinterpret_cast<int (*)()>(sym("nvmlShutdown"));
    by_pci_ = reinterpret_cast<int (*)(const char*, void**)>(sym("nvmlDeviceGetHandleByPciBusId_v2"));
    clock_ = reinterpret_cast<int (*)(void*, int, unsigned*)>(sym("nvmlDeviceGetClockInfo"));
    power_ = reinterpret_cast<int (*)(void*, unsigned*)>(sym("nvmlDeviceGetPowerUsage"));
    temp_ = reinterpret_cast<int (*)(void*, int, unsigned*)>(sym("nvmlDeviceGetTemperature"));
    reasons_ = reinterpret_cast<int (*)(void*, unsigned long long*)>(sym("nvmlDeviceGetCurrentClocksEventReasons"));
    if (reasons_ == nullptr)
      reasons_ = reinterpret_cast<int (*)(void*, unsigned long long*)>(sym("nvmlDeviceGetCurrentClocksThrottleReasons"));
    // Optional (Volta and later): the total energy counter, in millijoules.
    energy_ = reinterpret_cast<int (*)(void*, unsigned long long*)>(sym("nvmlDeviceGetTotalEnergyConsumption"));
    if (!init_ || !shutdown_ || !by_pci_ || !clock_ || !power_ || !temp_ || !reasons_) {
      why_ = "libnvidia-ml.so.1 lacks an entry point";
      return;
    }
    if (init_() != 0) {
      why_ = "nvmlInit failed";
      return;
    }
    initialised_ = true;
    if (by_pci_(pci_bus_id.c_str(), &dev_) != 0) {
      why_ = "no NVML device for PCI bus id " + pci_bus_id;
      return;
    }
    ok_ = true;
    thread_ = std::thread([this] { loop(); });
  }
  ~NvmlSampler() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (initialised_) shutdown_();
    if (lib_ != nullptr) dlclose(lib_);
  }
  NvmlSampler(const NvmlSampler&) = delete;
  NvmlSampler& operator=(const NvmlSampler&) = delete;

  bool available() const { return ok_; }
  const std::string& why_unavailable() const { return why_; }

  // Starts collecting (drops what an earlier interval left).
  void arm() {
    std::lock_guard<std::mutex> g(mu_);
    samples_.clear();
    t0_ = std::chrono::steady_clock::now();
    armed_ = true;
  }
  // Stops collecting and returns the interval's summary.
  nlohmann::json disarm() {
    const std::vector<NvmlSample> s = disarm_samples();
    if (!ok_) return nlohmann::json{{"nvml", "unavailable: " + why_}};
    return summarize_samples(s);
  }
  // Stops collecting and returns the interval's samples themselves (for a time series).
  std::vector<NvmlSample> disarm_samples() {
    std::vector<NvmlSample> s;
    std::lock_guard<std::mutex> g(mu_);
    armed_ = false;
    s.swap(samples_);
    return s;
  }
  // One reading now (outside any interval).
  nlohmann::json snapshot() {
    if (!ok_) return nlohmann::json{{"nvml", "unavailable: " + why_}};
    return summarize_samples({read()});
  }

 private:
  NvmlSample read() {
    NvmlSample x;
    constexpr int kClockSm = 1, kClockMem = 2, kTemperatureGpu = 0;
    unsigned v = 0;
    if (clock_(dev_, kClockSm, &v) == 0) x.sm_mhz = v;
    if (clock_(dev_, kClockMem, &v) == 0) x.mem_mhz = v;
    if (temp_(dev_, kTemperatureGpu, &v) == 0) x.temp_c = v;
    if (power_(dev_, &v) == 0) x.power_w = v / 1000.0;  // NVML reports milliwatts
    unsigned long long r = 0;
    if (reasons_(dev_, &r) == 0) x.reasons = r;
    unsigned long long e = 0;
    if (energy_ != nullptr && energy_(dev_, &e) == 0) x.energy_mj = static_cast<double>(e);
    return x;
  }
  void loop() {
    while (!stop_) {
      bool armed;
      {
        std::lock_guard<std::mutex> g(mu_);
        armed = armed_;
      }
      if (armed) {
        NvmlSample x = read();
        std::lock_guard<std::mutex> g(mu_);
        if (armed_) {
          x.t_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
          samples_.push_back(x);
        }
      }
      std::this_thread::sleep_for(period_);
    }
  }

  std::chrono::microseconds period_;
  void* lib_ = nullptr;
  void* dev_ = nullptr;
  bool ok_ = false, initialised_ = false;
  std::string why_;
  int (*init_)() = nullptr;
  int (*shutdown_)() = nullptr;
  int (*by_pci_)(const char*, void**) = nullptr;
  int (*clock_)(void*, int, unsigned*) = nullptr;
  int (*power_)(void*, unsigned*) = nullptr;
  int (*temp_)(void*, int, unsigned*) = nullptr;
  int (*reasons_)(void*, unsigned long long*) = nullptr;
  int (*energy_)(void*, unsigned long long*) = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  bool armed_ = false;
  std::chrono::steady_clock::time_point t0_;
  std::vector<NvmlSample> samples_;
};

}  // namespace tilesim::cuda
