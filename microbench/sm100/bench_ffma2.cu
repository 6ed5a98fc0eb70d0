// Packed FP32 FMA (fma.rn.f32x2, PTX ISA 8.6+, sm_100 and later): two FMAs per
// instruction on a pair of floats, which FlashAttention-4's software exp2 relies on.
// Same pattern as alu/ffma (bench_alu.cu): 4 blocks x 256 threads per SM, 8 independent
// chains per thread, 32 dependent steps unrolled; throughput in FMAs (lanes) per clock
// per SM, so it reads directly against alu/ffma's 128. Latency: one thread, one chain.
#include <cstdint>
#include <map>
#include <string>

#include "cuda_check.hpp"
#include "harness.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kThreads = 256;
constexpr int kBlocksPerSm = 4;
constexpr int kChains = 8;
constexpr int kSteps = 32;

__device__ __forceinline__ void ffma2(std::uint64_t& acc, std::uint64_t a, std::uint64_t b) {
  asm volatile("fma.rn.f32x2 %0, %1, %2, %0;" : "+l"(acc) : "l"(a), "l"(b));
}

__device__ __forceinline__ std::uint64_t pack(float lo, float hi) {
  return static_cast<std::uint64_t>(__float_as_uint(lo)) | (static_cast<std::uint64_t>(__float_as_uint(hi)) << 32);
}

__global__ void __launch_bounds__(kThreads) ffma2_throughput_kernel(int iters, unsigned* sink, BlockClock* clk) {
  clock_begin(clk);
  // x -> 0.999 x + 1e-3 stays finite and never constant-folds (the factor comes from the thread index).
  const std::uint64_t a = pack(0.999f + 1e-9f * threadIdx.x, 0.999f);
  const std::uint64_t b = pack(1e-3f, 1e-3f);
  std::uint64_t acc[kChains];
#pragma unroll
  for (int c = 0; c < kChains; ++c) acc[c] = pack(0.5f + c, 0.25f + c);
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
#pragma unroll
      for (int c = 0; c < kChains; ++c) ffma2(acc[c], a, b);
    }
  }
  std::uint64_t x = 0;
#pragma unroll
  for (int c = 0; c < kChains; ++c) x ^= acc[c];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = static_cast<unsigned>(x ^ (x >> 32));
  clock_end(clk);
}

__global__ void ffma2_latency_kernel(int iters, unsigned* sink, BlockClock* clk, unsigned long long* cycles_out) {
  clock_begin(clk);
  const std::uint64_t a = pack(0.999f, 0.999f), b = pack(1e-3f, 1e-3f);
  std::uint64_t acc = pack(0.5f, 0.25f);
  const long long t0 = clock64();
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int s = 0; s < kSteps; ++s) ffma2(acc, a, b);
  }
  const long long t1 = clock64();
  sink[threadIdx.x] = static_cast<unsigned>(acc);
  if (threadIdx.x == 0) *cycles_out = static_cast<unsigned long long>(t1 - t0);
  clock_end(clk);
}

void bench_throughput(benchmark::State& state) {
  const DeviceFacts& dev = device_facts();
  const int blocks = dev.sm_count * kBlocksPerSm;
  // FMAs per SM per step at an assumed 128 lanes per clock.
  const double fma_per_iter_sm = 2.0 * kBlocksPerSm * kThreads * kChains * kSteps;
  const int iters = static_cast<int>(suite_config().target_kernel_cycles / (fma_per_iter_sm / 128.0));
  KernelSpec spec;
  spec.blocks = blocks;
  spec.unit = "ops";
  spec.peak_per_clk_sm = 128;
  spec.work = static_cast<double>(dev.sm_count) * iters * fma_per_iter_sm;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    ffma2_throughput_kernel<<<blocks, kThreads, 0, s>>>(iters, sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

void bench_latency(benchmark::State& state) {
  constexpr int kIters = 4096;
  static unsigned long long* cycles = [] {
    unsigned long long* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, sizeof(*p)));
    return p;
  }();
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    ffma2_latency_kernel<<<1, 32, 0, s>>>(kIters, sink_buffer(), clk, cycles);
  };
  spec.after_launch = [=] {
    unsigned long long c = 0;
    TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles, sizeof(c), cudaMemcpyDeviceToHost));
    return std::map<std::string, double>{{"latency_cycles", static_cast<double>(c) / (kIters * kSteps)}};
  };
  run_kernel(state, spec);
}

}  // namespace

void register_ffma2_benchmarks() {
  register_gpu_benchmark("alu/ffma2/throughput", bench_throughput);
  register_gpu_benchmark("alu/ffma2/latency", bench_latency);
}

}  // namespace tilesim::microbench
