// The timed parts of a measurement run the runners share: a launch timed into its record
// (CUDA events after warm-up, samples, median, min, NVML clocks of the passes) and the
// device's copy bandwidth, the ceiling memory-bound kernels are judged against.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>

#include "cuda_check.hpp"
#include "event_timer.hpp"
#include "nvml_sampler.hpp"

namespace tilesim::cuda {

// Times `launch` with `opt` and writes samples_ms, median_ms, min_ms (and, with a sampler,
// the NVML summary of the timed passes as "nvml") into `record`. Returns the median (ms).
inline double time_into(nlohmann::json& record, const std::function<void(cudaStream_t)>& launch,
                        const TimingOptions& opt, NvmlSampler* nvml) {
  if (nvml != nullptr) nvml->arm();
  const std::vector<double> samples = time_ms(launch, nullptr, opt);
  if (nvml != nullptr) record["nvml"] = nvml->disarm();
  const double med = median(samples);
  record["samples_ms"] = samples;
  record["median_ms"] = med;
  record["min_ms"] = *std::min_element(samples.begin(), samples.end());
  return med;
}

// A device-to-device copy of `bytes`, timed like a kernel: its bandwidth counts the bytes
// read and the bytes written (*gbps_out). Returns the measurement run (impl
// "cuda_memcpy_d2d", problem kind "copy").
inline nlohmann::json device_copy_run(std::size_t bytes, const TimingOptions& opt, double* gbps_out) {
  void *src = nullptr, *dst = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&src, bytes));
  TILESIM_CUDA_CHECK(cudaMalloc(&dst, bytes));
  nlohmann::json run = {{"impl", "cuda_memcpy_d2d"},
                        {"schedule", nullptr},
                        {"tile", nlohmann::json::object()},
                        {"problem", {{"kind", "copy"}, {"bytes_copied", bytes}, {"bytes_counted", 2 * bytes}}},
                        {"note", "gbps counts bytes read + bytes written"}};
  try {
    TILESIM_CUDA_CHECK(cudaMemset(src, 0x3c, bytes));
    const double med = time_into(
        run, [&](cudaStream_t st) { TILESIM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, st)); },
        opt, nullptr);
    *gbps_out = 2.0 * static_cast<double>(bytes) / (med * 1e-3) / 1e9;
    run["gbps"] = *gbps_out;
  } catch (...) {
    cudaFree(src);
    cudaFree(dst);
    throw;
  }
  TILESIM_CUDA_CHECK(cudaFree(src));
  TILESIM_CUDA_CHECK(cudaFree(dst));
  return run;
}

}  // namespace tilesim::cuda
