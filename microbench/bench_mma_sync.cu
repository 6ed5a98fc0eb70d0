// Tensor cores through the warp-level mma.sync (the Ampere path that Hopper still runs):
// m16n8k16 bf16/fp16, m16n8k32 fp8 e4m3, m16n8k8 tf32, f32 accumulators.
//
// Throughput: one CTA of 16 warps per SM, each warp with kChains independent
// accumulators. Latency: one warp, one accumulator, each mma waiting for the previous.
// Fragments are random values of the type, loaded from shared memory.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "cuda_check.hpp"
#include "dtypes.cuh"
#include "harness.cuh"
#include "random_fill.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kThreads = 512;
constexpr int kChains = 8;
constexpr int kFragWords = 6;  // 4 words of A, 2 of B per thread for every shape here

template <DType T>
struct MmaSync;

#define TILESIM_MMA_SYNC(TAG, SHAPE, TYPES, KVAL)                                            \
  template <>                                                                                \
  struct MmaSync<DType::TAG> {                                                               \
    static constexpr int kK = KVAL;                                                          \
    __device__ __forceinline__ static void mma(float (&d)[4], const std::uint32_t (&f)[6]) { \
      asm volatile("mma.sync.aligned." SHAPE ".row.col.f32." TYPES                           \
                   ".f32 "                                                                   \
                   "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"         \
                   : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                          \
                   : "r"(f[0]), "r"(f[1]), "r"(f[2]), "r"(f[3]), "r"(f[4]), "r"(f[5]));      \
    }                                                                                        \
  };
TILESIM_MMA_SYNC(bf16, "m16n8k16", "bf16.bf16", 16)
TILESIM_MMA_SYNC(fp16, "m16n8k16", "f16.f16", 16)
TILESIM_MMA_SYNC(e4m3, "m16n8k32", "e4m3.e4m3", 32)
TILESIM_MMA_SYNC(tf32, "m16n8k8", "tf32.tf32", 8)
#undef TILESIM_MMA_SYNC

// Each thread's fragment words from the random operands staged in shared memory.
__device__ void load_fragments(const std::uint32_t* operands, std::uint32_t (&f)[kFragWords]) {
  __shared__ std::uint32_t staged[kThreads * kFragWords];
  for (int i = threadIdx.x; i < kThreads * kFragWords; i += blockDim.x) staged[i] = operands[i];
  __syncthreads();
#pragma unroll
  for (int j = 0; j < kFragWords; ++j) f[j] = staged[j * blockDim.x + threadIdx.x];
}

template <DType T>
__global__ void __launch_bounds__(kThreads, 1)
    mma_throughput_kernel(const std::uint32_t* operands, int iters, unsigned* sink,
                          BlockClock* clk) {
  clock_begin(clk);
  std::uint32_t f[kFragWords];
  load_fragments(operands, f);
  float acc[kChains][4] = {};
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int c = 0; c < kChains; ++c) MmaSync<T>::mma(acc[c], f);
  }
  float s = 0.f;
#pragma unroll
  for (int c = 0; c < kChains; ++c) s += acc[c][0] + acc[c][1] + acc[c][2] + acc[c][3];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = __float_as_uint(s);
  clock_end(clk);
}

template <DType T>
__global__ void mma_latency_kernel(const std::uint32_t* operands, int iters, unsigned* sink,
                                   BlockClock* clk, unsigned long long* cycles_out) {
  clock_begin(clk);
  std::uint32_t f[kFragWords];
  load_fragments(operands, f);
  float acc[4] = {};
  const long long t0 = clock64();
  for (int it = 0; it < iters; ++it) MmaSync<T>::mma(acc, f);
  const long long t1 = clock64();
  sink[threadIdx.x] = __float_as_uint(acc[0] + acc[1] + acc[2] + acc[3]);
  if (threadIdx.x == 0) *cycles_out = static_cast<unsigned long long>(t1 - t0);
  clock_end(clk);
}

template <DType T>
double flop_per_mma() {
  return 2.0 * 16 * 8 * MmaSync<T>::kK;
}

template <DType T>
void bench_throughput(benchmark::State& state) {
  const DeviceFacts& dev = device_facts();
  const double peak = dtype_info(T).hopper_peak_flop_per_clk_sm;
  const double flop_per_sm_iter = double{kThreads} / 32 * kChains * flop_per_mma<T>();
  const int iters =
      std::max(1, static_cast<int>(suite_config().target_kernel_cycles * peak / flop_per_sm_iter));
  const auto* operands = static_cast<const std::uint32_t*>(
      random_operands(T, sizeof(std::uint32_t) * kThreads * kFragWords));
  const std::size_t smem = one_block_per_sm_smem_bytes();
  auto* kernel = mma_throughput_kernel<T>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = dev.sm_count;
  spec.unit = "flop";
  spec.peak_per_clk_sm = peak;
  spec.work = flop_per_sm_iter * dev.sm_count * iters;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<dev.sm_count, kThreads, smem, s>>>(operands, iters, sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

template <DType T>
void bench_latency(benchmark::State& state) {
  constexpr int kIters = 1 << 14;
  const auto* operands = static_cast<const std::uint32_t*>(
      random_operands(T, sizeof(std::uint32_t) * kThreads * kFragWords));
  static unsigned long long* cycles = [] {
    unsigned long long* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, sizeof(*p)));
    return p;
  }();
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    mma_latency_kernel<T><<<1, 32, 0, s>>>(operands, kIters, sink_buffer(), clk, cycles);
  };
  spec.after_launch = [=] {
    unsigned long long c = 0;
    TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles, sizeof(c), cudaMemcpyDeviceToHost));
    return std::map<std::string, double>{{"latency_cycles", static_cast<double>(c) / kIters}};
  };
  run_kernel(state, spec);
}

template <DType T>
void add() {
  const std::string base = std::string("mma_sync/") + dtype_info(T).name;
  register_gpu_benchmark(base + "/throughput", bench_throughput<T>);
  register_gpu_benchmark(base + "/latency", bench_latency<T>);
}

}  // namespace

void register_mma_sync_benchmarks() {
  add<DType::bf16>();
  add<DType::fp16>();
  add<DType::e4m3>();
  add<DType::tf32>();
}

}  // namespace tilesim::microbench
