// What every GPU measurement records about the machine it ran on: device identity,
// SM count, L2 size, driver and runtime versions, and the clocks as nvidia-smi reports
// them at the moment of the call (read-only query; tilesim never changes clocks).
// Runners call device_report() right after their timed region so that the clock is the
// one under load, and once before, so a drop shows.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cuda_check.hpp"

namespace tilesim::cuda {

// Runs a read-only nvidia-smi query and returns its first output line ("" if the tool
// is missing, e.g. inside a container without it: the report then says so).
inline std::string nvidia_smi_query(const std::string& fields, int device) {
  std::string cmd = "nvidia-smi -i " + std::to_string(device) + " --query-gpu=" + fields +
                    " --format=csv,noheader,nounits 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return "";
  std::array<char, 512> buf{};
  std::string out;
  if (fgets(buf.data(), static_cast<int>(buf.size()), pipe.get()) != nullptr) out = buf.data();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf.data();
}

// Clocks (MHz) as nvidia-smi reports them right now.
inline nlohmann::json clock_snapshot(int device = 0) {
  nlohmann::json j;
  j["query"] = "clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu";
  j["raw"] = nvidia_smi_query(j["query"].get<std::string>(), device);
  j["time_utc"] = utc_now_iso8601();
  return j;
}

// The number of SMs of a CUDA device (the split heuristics fill every SM once).
inline int sm_count(int device = 0) {
  int n = 0;
  TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
  return n;
}

// The PCI bus id of a CUDA device (how NVML finds the same device).
inline std::string pci_bus_id(int device = 0) {
  std::array<char, 32> buf{};
  TILESIM_CUDA_CHECK(cudaDeviceGetPCIBusId(buf.data(), static_cast<int>(buf.size()), device));
  return buf.data();
}

inline nlohmann::json device_report(int device = 0) {
  cudaDeviceProp prop{};
  TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int driver = 0, runtime = 0;
  TILESIM_CUDA_CHECK(cudaDriverGetVersion(&driver));
  TILESIM_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  int clock_khz = 0, mem_clock_khz = 0;
  // cudaDeviceProp lost clockRate in CUDA 13; the attribute query still answers.
  TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, device));
  nlohmann::json j;
  j["name"] = prop.name;
  j["compute_capability"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  j["sm_count"] = prop.multiProcessorCount;
  j["l2_bytes"] = prop.l2CacheSize;
  j["global_mem_bytes"] = prop.totalGlobalMem;
  j["smem_per_sm_bytes"] = prop.sharedMemPerMultiprocessor;
  j["smem_per_block_optin_bytes"] = prop.sharedMemPerBlockOptin;
  j["max_sm_clock_mhz_attr"] = clock_khz / 1000.0;
  j["mem_clock_mhz_attr"] = mem_clock_khz / 1000.0;
  j["cuda_driver_version"] = driver;
  j["cuda_runtime_version"] = runtime;
  j["driver_version"] = nvidia_smi_query("driver_version", device);
  j["nvidia_smi_name"] = nvidia_smi_query("name", device);
  j["clocks"] = clock_snapshot(device);
  j["date_utc"] = utc_now_iso8601();
  return j;
}

// Refuses to run on a GPU whose compute capability the binary was not built for, with
// a message that names both (sm_90a code cannot run on anything but CC 9.0).
inline void require_compute_capability(int major, int minor, const char* what, int device = 0) {
  cudaDeviceProp prop{};
  TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  if (prop.major != major || prop.minor != minor) {
    throw CudaError(std::string(what) + " needs compute capability " + std::to_string(major) +
                    "." + std::to_string(minor) + " but device 0 (" + prop.name + ") is " +
                    std::to_string(prop.major) + "." + std::to_string(prop.minor));
  }
}

}  // namespace tilesim::cuda
