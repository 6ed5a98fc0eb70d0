// Kernel launch cost.
//
// back_to_back: kLaunches empty kernels queued on one stream between two events: the
// GPU-side time per launch when the CPU keeps the queue full (what a chain of small
// kernels pays per kernel). sync_e2e: one tiny kernel launched and waited for
// (cudaStreamSynchronize), host clock: what a host round trip costs.
#include <chrono>
#include <string>

#include "cuda_check.hpp"
#include "harness.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kLaunches = 1000;

__global__ void empty_kernel() {}

__global__ void tiny_kernel(unsigned* sink) {
  if (threadIdx.x == 0) sink[0] += 1;
}

void bench_back_to_back(benchmark::State& state) {
  cudaStream_t stream;
  TILESIM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  cudaEvent_t start, stop;
  TILESIM_CUDA_CHECK(cudaEventCreate(&start));
  TILESIM_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < kLaunches; ++i) empty_kernel<<<1, 32, 0, stream>>>();
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  double total_ms = 0;
  for (auto _ : state) {
    TILESIM_CUDA_CHECK(cudaEventRecord(start, stream));
    for (int i = 0; i < kLaunches; ++i) empty_kernel<<<1, 32, 0, stream>>>();
    TILESIM_CUDA_CHECK(cudaEventRecord(stop, stream));
    TILESIM_CUDA_CHECK(cudaEventSynchronize(stop));
    TILESIM_CUDA_CHECK(cudaGetLastError());
    float ms = 0;
    TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
    total_ms += ms;
  }
  state.counters["launch_overhead_us"] =
      1e3 * total_ms / (static_cast<double>(state.iterations()) * kLaunches);
  TILESIM_CUDA_CHECK(cudaEventDestroy(start));
  TILESIM_CUDA_CHECK(cudaEventDestroy(stop));
  TILESIM_CUDA_CHECK(cudaStreamDestroy(stream));
}

void bench_sync_e2e(benchmark::State& state) {
  cudaStream_t stream;
  TILESIM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  constexpr int kRounds = 200;
  unsigned* sink = sink_buffer();
  for (int i = 0; i < 10; ++i) tiny_kernel<<<1, 32, 0, stream>>>(sink);
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  double total_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) {
      tiny_kernel<<<1, 32, 0, stream>>>(sink);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(s);
    total_s += s;
  }
  TILESIM_CUDA_CHECK(cudaGetLastError());
  state.counters["e2e_us"] = 1e6 * total_s / (static_cast<double>(state.iterations()) * kRounds);
  state.counters["checksum"] = read_checksum();
  TILESIM_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace

void register_launch_benchmarks() {
  register_gpu_benchmark("launch/empty_kernel/back_to_back", bench_back_to_back);
  register_gpu_benchmark("launch/tiny_kernel/sync_e2e", bench_sync_e2e);
}

}  // namespace tilesim::microbench
