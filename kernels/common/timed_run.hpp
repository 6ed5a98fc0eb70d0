// The timed parts of a measurement run the runners share: a launch timed into its record
// (CUDA events after warm-up, samples, median, min, NVML clocks of the passes), launches
// timed round-robin, a launch sequence timed in two parts, the device's copy bandwidth (the
// ceiling memory-bound kernels are judged against) and the frame of a check/sweep run.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "cuda_check.hpp"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "instance_list.hpp"
#include "nvml_sampler.hpp"
#include "runner_cli.hpp"

namespace tilesim::cuda {

// Writes samples_ms, median_ms and min_ms of `samples_ms` (not empty) into `record`;
// returns the median (ms).
inline double record_samples(nlohmann::json& record, const std::vector<double>& samples_ms) {
  const double med = median(samples_ms);
  record["samples_ms"] = samples_ms;
  record["median_ms"] = med;
  record["min_ms"] = *std::min_element(samples_ms.begin(), samples_ms.end());
  return med;
}

// How a run's samples were taken, as the board's power limiter met them (validate reads it):
// warm-up launches before `passes` blocks of samples, each sample after a flush of
// `flush_bytes` (0: none) in `mode` and a wait for the previous one.
inline nlohmann::json timing_record(int warmup_per_pass, int passes, std::size_t flush_bytes,
                                    FlushMode mode = FlushMode::kMemset) {
  return {{"warmup_per_pass", warmup_per_pass},
          {"passes", passes},
          {"l2_flush_bytes", flush_bytes},
          {"l2_flush_mode", flush_bytes == 0 ? "none" : flush_mode_name(mode)},
          {"sample", "flush (if any), event, launch, event, wait"}};
}

// Times `launch` on `stream` with `opt` and writes its samples (record_samples), how they
// were taken ("timing") and, with a sampler, the NVML summary of the timed pass as "nvml"
// into `record`. Returns the median (ms).
inline double time_into(nlohmann::json& record, const std::function<void(cudaStream_t)>& launch,
                        const TimingOptions& opt, NvmlSampler* nvml, cudaStream_t stream = nullptr) {
  if (nvml != nullptr) nvml->arm();
  const std::vector<double> samples = time_ms(launch, stream, opt);
  if (nvml != nullptr) record["nvml"] = nvml->disarm();
  record["timing"] = timing_record(opt.warmup, 1, opt.flusher != nullptr ? opt.flusher->bytes() : 0,
                                   opt.flusher != nullptr ? opt.flusher->mode() : FlushMode::kMemset);
  return record_samples(record, samples);
}

// The timing of a sweep's runs: `warmup` untimed launches, then `reps` samples, each after
// `flusher` (null: none) has evicted the L2.
inline TimingOptions timing_options(int warmup, int reps, L2Flusher* flusher) {
  TimingOptions opt;
  opt.warmup = warmup;
  opt.repetitions = reps;
  opt.flusher = flusher;
  return opt;
}

// Times `launch` into `record` (time_into) and adds "gbps": `bytes` moved over the median.
// Returns the GB/s.
inline double time_bandwidth_into(nlohmann::json& record,
                                  const std::function<void(cudaStream_t)>& launch,
                                  const TimingOptions& opt, NvmlSampler* nvml, double bytes) {
  const double med = time_into(record, launch, opt, nvml);
  const double gbps = bytes / (med * 1e-3) / 1e9;
  record["gbps"] = gbps;
  return gbps;
}

// The NVML sampler of a sweep (SM clock, power, throttle reasons of every timed pass); says
// on stdout when NVML is unavailable, since the runs then carry no clock samples.
inline std::unique_ptr<NvmlSampler> open_nvml_sampler() {
  auto nvml = std::make_unique<NvmlSampler>(pci_bus_id());
  if (!nvml->available())
    std::printf("note: NVML unavailable (%s): no clock samples\n", nvml->why_unavailable().c_str());
  return nvml;
}

// One launch's share of a round-robin timing.
struct RoundRobinTimes {
  std::vector<double> samples_ms;                            // every pass's samples, in order
  nlohmann::json clocks_per_pass = nlohmann::json::array();  // nvidia-smi clocks at each pass
  nlohmann::json nvml_per_pass = nlohmann::json::array();    // NVML summary of each pass
};

// Times `launches` in `passes` passes; each pass times every launch in turn with `opt`.
// The SM clock of these cards sinks as they heat over a sweep, so interleaving gives every
// launch the same mix of thermal states, which back-to-back timing would not.
inline std::vector<RoundRobinTimes> time_round_robin(
    const std::vector<std::function<void(cudaStream_t)>>& launches, int passes,
    const TimingOptions& opt, NvmlSampler& nvml, cudaStream_t stream) {
  std::vector<RoundRobinTimes> out(launches.size());
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < launches.size(); ++i) {
      out[i].clocks_per_pass.push_back(clock_snapshot()["raw"]);
      nvml.arm();
      const std::vector<double> smp = time_ms(launches[i], stream, opt);
      out[i].nvml_per_pass.push_back(nvml.disarm());
      out[i].samples_ms.insert(out[i].samples_ms.end(), smp.begin(), smp.end());
    }
  }
  return out;
}

// Samples of a launch sequence timed whole and in two parts.
struct PartSamples {
  std::vector<double> total_ms, first_ms, second_ms;  // the parts stay empty for one part
};

// Times `body(mid)`, which issues its launches on `stream` and, with `two_parts`, records
// `mid` between its first and second part. Before every sample `before_each` runs untimed
// (an L2 flush, a prefetch the sample starts from). `warmup` samples are dropped.
inline PartSamples time_parts_ms(const std::function<void(cudaEvent_t mid)>& body,
                                 const std::function<void()>& before_each, cudaStream_t stream,
                                 int warmup, int reps, bool two_parts) {
  cudaEvent_t ev[3] = {};  // start, mid, stop
  for (cudaEvent_t& e : ev) TILESIM_CUDA_CHECK(cudaEventCreate(&e));
  PartSamples s;
  auto elapsed_ms = [](cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return static_cast<double>(ms);
  };
  try {
    for (int i = 0; i < warmup + reps; ++i) {
      if (before_each) before_each();
      TILESIM_CUDA_CHECK(cudaEventRecord(ev[0], stream));
      body(ev[1]);
      TILESIM_CUDA_CHECK(cudaEventRecord(ev[2], stream));
      TILESIM_CUDA_CHECK(cudaEventSynchronize(ev[2]));
      if (i < warmup) continue;
      s.total_ms.push_back(elapsed_ms(ev[0], ev[2]));
      if (!two_parts) continue;
      s.first_ms.push_back(elapsed_ms(ev[0], ev[1]));
      s.second_ms.push_back(elapsed_ms(ev[1], ev[2]));
    }
  } catch (...) {
    for (cudaEvent_t e : ev) cudaEventDestroy(e);
    throw;
  }
  for (cudaEvent_t e : ev) cudaEventDestroy(e);
  return s;
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
  const std::unique_ptr<NvmlSampler> nvml = open_nvml_sampler();
  *nvml_out = nvml.get();
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

// The flush a runner's command line asked for (--l2-flush).
inline FlushMode flush_mode(const runner::CheckSweepOptions& o) {
  return o.l2_flush_clean ? FlushMode::kClean : FlushMode::kMemset;
}

// memory_bound_sweep with every sample, the copy ceiling's included, taken from an L2
// emptied by a flusher of `flush_bytes` (more than the L2, so no line survives) in `mode`,
// timed with `warmup` and `reps`: body(copy_gbps_before, flusher) times the kernels into `runs`.
template <class Body>
int flushed_memory_bound_sweep(std::size_t flush_bytes, FlushMode mode, int warmup, int reps,
                               std::size_t copy_bytes, nlohmann::json& runs, NvmlSampler** nvml_out,
                               Body&& body) {
  L2Flusher flusher(flush_bytes, mode);
  return memory_bound_sweep(
      timing_options(warmup, reps, &flusher), copy_bytes, runs, nvml_out,
      [&](double copy_gbps_before) { return body(copy_gbps_before, &flusher); });
}

// The body of a check/sweep runner's main(): requires sm_90, runs the check and/or the sweep
// into one measurement document (family, tool, the runner's layout notes, the device report,
// runs, the clocks after) and writes it to --out. run_check / run_sweep get the
// runner::Measurement (its runs(), top-level notes, save() after a shape) and return the
// exit code.
template <class Check, class Sweep>
int check_sweep_document(const std::string& family, const std::string& tool,
                         const runner::CheckSweepOptions& opt, nlohmann::json layout,
                         Check&& run_check, Sweep&& run_sweep) {
  require_compute_capability(9, 0, (tool + " (sm_90a)").c_str());
  runner::Measurement m(family, tool, opt, device_report());
  m["layout"] = std::move(layout);
  int rc = 0;
  if (opt.check) rc |= run_check(m);
  if (opt.sweep) rc |= run_sweep(m);
  m.save(clock_snapshot());
  return rc;
}

// main() of a check/sweep runner whose check and sweep each fill the runs: `--list --json`
// prints `list()` (the compiled kernels; no GPU needed), anything else goes through
// runner::guarded_main (parse errors exit 2, runtime errors 1) into check_sweep_document.
// run_check / run_sweep take (options, runs) and return the exit code.
template <class List, class Parse, class Check, class Sweep>
int check_sweep_main(int argc, char** argv, const std::string& family, const std::string& tool,
                     List&& list, Parse&& parse, const nlohmann::json& layout, Check&& run_check,
                     Sweep&& run_sweep) {
  if (kernels::wants_list_json(argc, argv)) return kernels::print_list_json(tool, list());
  return runner::guarded_main(tool.c_str(), parse, [&](const auto& opt) {
    return check_sweep_document(
        family, tool, opt, layout, [&](runner::Measurement& m) { return run_check(opt, m.runs()); },
        [&](runner::Measurement& m) { return run_sweep(opt, m.runs()); });
  });
}

}  // namespace tilesim::cuda
