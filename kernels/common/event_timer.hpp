// Timing with CUDA events: warm-up launches, then many timed launches, each bracketed by
// its own event pair; the caller gets every sample (ms) and picks the median. Before
// each timed launch an optional L2 flush writes a buffer larger than L2 so that no
// input stays resident between samples (the flush itself is outside the events).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "cuda_check.hpp"
#include "stats.hpp"

namespace tilesim::cuda {

class L2Flusher {
 public:
  explicit L2Flusher(std::size_t bytes) : bytes_(bytes) {
    TILESIM_CUDA_CHECK(cudaMalloc(&buf_, bytes_));
  }
  ~L2Flusher() { cudaFree(buf_); }
  L2Flusher(const L2Flusher&) = delete;
  L2Flusher& operator=(const L2Flusher&) = delete;
  void flush(cudaStream_t stream) {
    TILESIM_CUDA_CHECK(cudaMemsetAsync(buf_, 0x5a, bytes_, stream));
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* buf_ = nullptr;
  std::size_t bytes_;
};

struct TimingOptions {
  int warmup = 5;
  int repetitions = 30;
  L2Flusher* flusher = nullptr;  // nullptr: no flush between samples
};

inline std::vector<double> time_ms(const std::function<void(cudaStream_t)>& launch,
                                   cudaStream_t stream, const TimingOptions& opt) {
  for (int i = 0; i < opt.warmup; ++i) launch(stream);
  TILESIM_CUDA_CHECK(cudaGetLastError());
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t start, stop;
  TILESIM_CUDA_CHECK(cudaEventCreate(&start));
  TILESIM_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(opt.repetitions));
  for (int i = 0; i < opt.repetitions; ++i) {
    if (opt.flusher != nullptr) opt.flusher->flush(stream);
    TILESIM_CUDA_CHECK(cudaEventRecord(start, stream));
    launch(stream);
    TILESIM_CUDA_CHECK(cudaEventRecord(stop, stream));
    TILESIM_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.f;
    TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    samples.push_back(ms);
  }
  TILESIM_CUDA_CHECK(cudaGetLastError());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return samples;
}

}  // namespace tilesim::cuda
