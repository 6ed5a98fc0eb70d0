// Timing with CUDA events: warm-up launches, then many timed launches, each bracketed by
// its own event pair; the caller gets every sample (ms) and picks the median. Before
// each timed launch an optional L2 flush writes a buffer larger than L2 so that no
// input stays resident between samples (the flush itself is outside the events); its mode
// says whether the L2 is then left dirty or clean.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "cuda_check.hpp"
#include "stats.hpp"

namespace tilesim::cuda {

// What the L2 holds when a timed launch starts.
enum class FlushMode {
  // A memset of the flush buffer: no input line survives, and the L2 is left full of the
  // memset's dirty lines, which the timed kernel's misses write back to HBM as they evict
  // them (every measurement before the mode existed was taken this way).
  kMemset,
  // The memset, then a read of a second buffer of the same size: the dirty lines are
  // written back before the timed launch and the L2 holds clean lines only.
  kClean,
};

inline const char* flush_mode_name(FlushMode m) { return m == FlushMode::kClean ? "clean" : "memset"; }

// Reads `n` 16-byte words (grid-stride) so that they pass through the L2; the sum is stored
// only on a value the data never takes, so the loads are not removed.
static __global__ void l2_read_kernel(const int4* __restrict__ p, std::size_t n, int* sink) {
  int acc = 0;
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const int4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x13572468) *sink = acc;
}

class L2Flusher {
 public:
  explicit L2Flusher(std::size_t bytes, FlushMode mode = FlushMode::kMemset) : bytes_(bytes), mode_(mode) {
    TILESIM_CUDA_CHECK(cudaMalloc(&buf_, bytes_));
    if (mode_ == FlushMode::kClean) {
      TILESIM_CUDA_CHECK(cudaMalloc(&read_buf_, bytes_));
      TILESIM_CUDA_CHECK(cudaMemset(read_buf_, 0x3c, bytes_));
      TILESIM_CUDA_CHECK(cudaMalloc(&sink_, sizeof(int)));
    }
  }
  ~L2Flusher() {
    cudaFree(buf_);
    if (read_buf_ != nullptr) cudaFree(read_buf_);
    if (sink_ != nullptr) cudaFree(sink_);
  }
  L2Flusher(const L2Flusher&) = delete;
  L2Flusher& operator=(const L2Flusher&) = delete;
  void flush(cudaStream_t stream) {
    TILESIM_CUDA_CHECK(cudaMemsetAsync(buf_, 0x5a, bytes_, stream));
    if (mode_ == FlushMode::kClean) {
      constexpr int kThreads = 512;
      constexpr int kBlocks = 1024;
      l2_read_kernel<<<kBlocks, kThreads, 0, stream>>>(static_cast<const int4*>(read_buf_),
                                                       bytes_ / sizeof(int4), sink_);
      TILESIM_CUDA_CHECK(cudaGetLastError());
    }
  }
  std::size_t bytes() const { return bytes_; }
  FlushMode mode() const { return mode_; }

 private:
  void* buf_ = nullptr;
  void* read_buf_ = nullptr;
  int* sink_ = nullptr;
  std::size_t bytes_;
  FlushMode mode_;
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
