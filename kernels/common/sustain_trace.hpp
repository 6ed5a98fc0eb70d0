// A kernel launched over and over for a fixed time, with the SM clock, the power and the
// kernel's own duration recorded along the way: what a power-capped card does to one
// kernel when it runs long enough for the board's power limit to act. The sweeps time a
// config for a fraction of a second, often too short for the limit to bite; a layer of a
// real model runs for seconds. The trace shows both: the first tens of milliseconds (the
// clock the fast limits allow) and the steady state (the clock at which the board's power
// meets its limit).
//
// Two ways to run: `sync_each` with an L2 flush reproduces the sweep's samples (flush,
// events, launch, wait) so that its duty cycle is the sweep's; back to back (no flush, no
// wait between launches) is a layer that never pauses. Each trace starts after an idle
// cool-down so that all traces start from the same state.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cuda_check.hpp"
#include "event_timer.hpp"
#include "nvml_sampler.hpp"
#include "trace_summary.hpp"

namespace tilesim::cuda {

struct SustainOptions {
  double duration_ms = 2000;  // how long the kernel runs
  double cooldown_ms = 1500;  // idle before the trace starts
  bool sync_each = false;     // wait for every launch (the sweep's samples) or run back to back
  L2Flusher* flusher = nullptr;
  double bin_ms = 20, start_ms = 60, steady_ms = 500;
};

// Runs `launch` on `stream` for opt.duration_ms and returns the summarized trace (with the
// conditions it ran under). NVML may be null or unavailable: the trace then has kernel times
// only.
inline nlohmann::json sustain_trace(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream,
                                    const SustainOptions& opt, NvmlSampler* nvml) {
  constexpr int kBatch = 64;  // back to back: launches between waits
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(opt.cooldown_ms));
  std::vector<cudaEvent_t> before(kBatch), after(kBatch);
  cudaEvent_t start = nullptr;
  TILESIM_CUDA_CHECK(cudaEventCreate(&start));
  for (int i = 0; i < kBatch; ++i) {
    TILESIM_CUDA_CHECK(cudaEventCreate(&before[i]));
    TILESIM_CUDA_CHECK(cudaEventCreate(&after[i]));
  }
  auto elapsed = [](cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return static_cast<double>(ms);
  };
  std::vector<TracePoint> points;
  const bool sampling = nvml != nullptr && nvml->available();
  if (sampling) nvml->arm();
  TILESIM_CUDA_CHECK(cudaEventRecord(start, stream));
  double last_end_ms = 0;
  while (last_end_ms < opt.duration_ms) {
    const int n = opt.sync_each ? 1 : kBatch;
    for (int i = 0; i < n; ++i) {
      if (opt.flusher != nullptr) opt.flusher->flush(stream);
      TILESIM_CUDA_CHECK(cudaEventRecord(before[i], stream));
      launch(stream);
      TILESIM_CUDA_CHECK(cudaEventRecord(after[i], stream));
    }
    TILESIM_CUDA_CHECK(cudaGetLastError());
    TILESIM_CUDA_CHECK(cudaEventSynchronize(after[n - 1]));
    for (int i = 0; i < n; ++i) {
      const TracePoint p{elapsed(start, after[i]), elapsed(before[i], after[i])};
      points.push_back(p);
      last_end_ms = p.end_ms;
    }
  }
  const std::vector<NvmlSample> samples = sampling ? nvml->disarm_samples() : std::vector<NvmlSample>{};
  for (int i = 0; i < kBatch; ++i) {
    cudaEventDestroy(before[i]);
    cudaEventDestroy(after[i]);
  }
  cudaEventDestroy(start);
  nlohmann::json j = summarize_trace(points, samples, opt.bin_ms, opt.start_ms, opt.steady_ms);
  j["conditions"] = {{"duration_ms", opt.duration_ms},
                     {"cooldown_ms", opt.cooldown_ms},
                     {"sync_each", opt.sync_each},
                     {"l2_flush", opt.flusher != nullptr},
                     {"nvml", sampling ? "sampled every 2 ms" : "unavailable"}};
  return j;
}

// The two traces a --sustain-ms run records per kernel: the sweep's samples (flush and wait
// each, with `flusher`; null: wait only) and back to back.
inline nlohmann::json sustain_traces(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream,
                                     double duration_ms, L2Flusher* flusher, NvmlSampler* nvml) {
  SustainOptions sweep_like;
  sweep_like.duration_ms = duration_ms;
  sweep_like.sync_each = true;
  sweep_like.flusher = flusher;
  SustainOptions back_to_back;
  back_to_back.duration_ms = duration_ms;
  return {{"sweep_like", sustain_trace(launch, stream, sweep_like, nvml)},
          {"back_to_back", sustain_trace(launch, stream, back_to_back, nvml)}};
}

}  // namespace tilesim::cuda
