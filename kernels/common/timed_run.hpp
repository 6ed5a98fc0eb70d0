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
#include "device_report.hpp"
#include "event_timer.hpp"
#include "nvml_sampler.hpp"
#include "runner_cli.hpp"

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
inline nlohmann::json device_copy_run(std::size_t bytes, const TimingOptions& opt,
                                      double* gbps_out) {
  void *src = nullptr, *dst = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&src, bytes));
  TILESIM_CUDA_CHECK(cudaMalloc(&dst, bytes));
  nlohmann::json run = {
      {"impl", "cuda_memcpy_d2d"},
      {"schedule", nullptr},
      {"tile", nlohmann::json::object()},
      {"problem", {{"kind", "copy"}, {"bytes_copied", bytes}, {"bytes_counted", 2 * bytes}}},
      {"note", "gbps counts bytes read + bytes written"}};
  try {
    TILESIM_CUDA_CHECK(cudaMemset(src, 0x3c, bytes));
    const double med = time_into(
        run,
        [&](cudaStream_t st) {
          TILESIM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, st));
        },
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

// The frame of a memory-bound sweep: an NVML sampler for the timed passes (*nvml_out points
// at it while `body` runs) and the device copy bandwidth, the ceiling such kernels are judged
// against, timed before and after; body(copy_gbps_before) times the kernels into `runs`.
template <class Body>
int memory_bound_sweep(const TimingOptions& copy_timing, std::size_t copy_bytes,
                       nlohmann::json& runs, NvmlSampler** nvml_out, Body&& body) {
  NvmlSampler nvml(pci_bus_id());
  if (!nvml.available())
    std::printf("note: NVML unavailable (%s): no clock samples\n", nvml.why_unavailable().c_str());
  *nvml_out = &nvml;
  double before = 0, after = 0;
  nlohmann::json c0 = device_copy_run(copy_bytes, copy_timing, &before);
  c0["when"] = "before_sweep";
  runs.push_back(c0);
  std::printf("D2D copy (read+write): %.0f GB/s\n", before);
  int rc = 1;
  try {
    rc = body(before);
  } catch (...) {
    *nvml_out = nullptr;
    throw;
  }
  nlohmann::json c1 = device_copy_run(copy_bytes, copy_timing, &after);
  c1["when"] = "after_sweep";
  runs.push_back(c1);
  std::printf("D2D copy (read+write): %.0f GB/s before, %.0f GB/s after\n", before, after);
  *nvml_out = nullptr;
  return rc;
}

// The body of a check/sweep runner's main(): requires sm_90, runs the check and/or the sweep
// into one measurement document (family, tool, the runner's layout notes, the device report,
// the clocks after) and writes it to --out.
template <class Check, class Sweep>
int check_sweep_document(const std::string& family, const std::string& tool,
                         const runner::CheckSweepOptions& opt, nlohmann::json layout,
                         Check&& run_check, Sweep&& run_sweep) {
  require_compute_capability(9, 0, (tool + " (sm_90a)").c_str());
  nlohmann::json doc = runner::measurement_doc(family, tool, opt, device_report());
  doc["layout"] = std::move(layout);
  nlohmann::json runs = nlohmann::json::array();
  int rc = 0;
  if (opt.check) rc |= run_check(runs);
  if (opt.sweep) rc |= run_sweep(runs);
  doc["clocks_after"] = clock_snapshot();
  doc["runs"] = runs;
  if (!opt.out.empty()) runner::write_measurement(doc, opt.out);
  return rc;
}

}  // namespace tilesim::cuda
