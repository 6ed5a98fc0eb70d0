// Shared memory: load bandwidth (32-bit, 128-bit, ldmatrix.x4), store bandwidth,
// bank-conflict cost (32-bit loads with a lane stride of 2, 4, 32 words) and load-to-use
// latency (pointer chase).
//
// Bandwidth: one block of 1024 threads per SM over a 64 KiB array of random words; every
// access is an inline-PTX volatile instruction with an immediate offset, so the loop body
// is loads plus the XORs that keep their results live. Bytes counted are the bytes the
// warp asked for (a 32-way conflicted 32-bit load counts 128 B, not 32 x 128).
#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "harness.cuh"
#include "ptx/all.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kThreads = 1024;
constexpr int kArrayBytes = 64 * 1024;
constexpr int kUnroll = 16;

enum class Access { ld32, ld128, ldmatrix_x4, st32, st128 };

__device__ __forceinline__ std::uint32_t lds32(std::uint32_t addr) {
  std::uint32_t v;
  asm volatile("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(addr));
  return v;
}

// Per-thread byte address of the first access and the distance between the kUnroll
// accesses of one loop step; both keep each warp's access free of bank conflicts
// (lane_stride_words = 1) or at exactly lane_stride_words-way conflicts (32-bit loads).
template <Access A>
__device__ __forceinline__ std::uint32_t first_offset(int lane_stride_words) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  switch (A) {
    case Access::ld32:
    case Access::st32:
      // Lane stride s: banks (lane * s) mod 32, an s-way conflict for s in {2, 4, ..., 32}.
      return static_cast<std::uint32_t>((lane * lane_stride_words + warp % 32) * 4) %
             (kArrayBytes / kUnroll);
    case Access::ld128:
    case Access::st128:
    case Access::ldmatrix_x4:
      return static_cast<std::uint32_t>(threadIdx.x * 16) % (kArrayBytes / kUnroll);
  }
  return 0;
}

template <Access A>
__global__ void __launch_bounds__(kThreads, 1)
    smem_bw_kernel(const std::uint32_t* init, int iters, int lane_stride_words, unsigned* sink,
                   BlockClock* clk) {
  extern __shared__ std::uint32_t arr[];
  clock_begin(clk);
  for (int i = threadIdx.x; i < kArrayBytes / 4; i += blockDim.x) arr[i] = init[i];
  __syncthreads();
  const std::uint32_t base = ptx::smem_u32(arr) + first_offset<A>(lane_stride_words);
  constexpr std::uint32_t kStep = kArrayBytes / kUnroll;  // 4 KiB between unrolled accesses
  std::uint32_t acc = threadIdx.x;
  // ptxas treats these loads as ordinary ones: with the same addresses in every iteration
  // it would reuse loaded values across unrolled iterations (and XORs of equal values
  // cancel), so the address changes with the iteration: XOR of bits 4..6 permutes 16-byte
  // granules inside each 128-byte row, the same permutation for every lane, which keeps
  // the bank pattern (conflict-free, or exactly s-way) unchanged. No unrolling across
  // iterations, so no two iterations in flight share an address pattern.
#pragma unroll 1
  for (int it = 0; it < iters; ++it) {
    const std::uint32_t base_it = base ^ ((static_cast<std::uint32_t>(it) & 7u) << 4);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const std::uint32_t addr = base_it + u * kStep;
      if constexpr (A == Access::ld32) {
        acc ^= lds32(addr);
      } else if constexpr (A == Access::ld128) {
        std::uint32_t a, b, c, d;
        asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
                     : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
                     : "r"(addr));
        acc ^= a ^ b ^ c ^ d;
      } else if constexpr (A == Access::ldmatrix_x4) {
        std::uint32_t a, b, c, d;
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                     : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
                     : "r"(addr));
        acc ^= a ^ b ^ c ^ d;
      } else if constexpr (A == Access::st32) {
        asm volatile("st.shared.u32 [%0], %1;" ::"r"(addr), "r"(acc + u) : "memory");
      } else {
        asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(addr), "r"(acc), "r"(acc + 1),
                     "r"(acc + 2), "r"(acc + u)
                     : "memory");
      }
    }
    if constexpr (A == Access::st32 || A == Access::st128) acc += static_cast<unsigned>(it);
  }
  __syncthreads();
  if constexpr (A == Access::st32 || A == Access::st128) acc ^= arr[threadIdx.x];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = acc;
  clock_end(clk);
}

// Single thread follows a random cycle through the array; each element holds the shared
// address of the next, so a step is exactly one load-to-use.
__global__ void smem_chase_kernel(const std::uint32_t* order, int n, int steps, unsigned* sink,
                                  BlockClock* clk, unsigned long long* cycles_out) {
  extern __shared__ std::uint32_t arr[];
  clock_begin(clk);
  const std::uint32_t base = ptx::smem_u32(arr);
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    arr[order[i]] = base + 4 * order[(i + 1) % n];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    std::uint32_t p = base + 4 * order[0];
    for (int i = 0; i < n; ++i) p = lds32(p);  // warm: the instruction cache and the path
    const long long t0 = clock64();
    for (int i = 0; i < steps; ++i) p = lds32(p);
    const long long t1 = clock64();
    sink[0] = p;
    *cycles_out = static_cast<unsigned long long>(t1 - t0);
  }
  clock_end(clk);
}

template <Access A>
int bytes_per_access() {
  return (A == Access::ld32 || A == Access::st32) ? 4 : 16;
}

template <Access A>
void bench_bw(benchmark::State& state, int lane_stride_words) {
  const DeviceFacts& dev = device_facts();
  constexpr double kPeakBytesPerClkSm = 128;  // 32 banks x 4 bytes
  const double bytes_per_sm_iter = double{kThreads} * kUnroll * bytes_per_access<A>();
  // Size for the expected rate: conflicts divide it by the conflict degree.
  const double expected = kPeakBytesPerClkSm / std::max(1, lane_stride_words);
  const int iters = std::max(
      1, static_cast<int>(suite_config().target_kernel_cycles * expected / bytes_per_sm_iter));
  const std::uint32_t* init = random_words(kArrayBytes);
  const std::size_t smem = std::max<std::size_t>(kArrayBytes, one_block_per_sm_smem_bytes());
  auto* kernel = smem_bw_kernel<A>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = dev.sm_count;
  spec.unit = "bytes";
  spec.peak_per_clk_sm = kPeakBytesPerClkSm;
  spec.work = bytes_per_sm_iter * dev.sm_count * iters;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<dev.sm_count, kThreads, smem, s>>>(init, iters, lane_stride_words, sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

void bench_latency(benchmark::State& state) {
  constexpr int kElems = 4096;  // 16 KiB: the whole chase stays in one block's SMEM
  constexpr int kSteps = 1 << 16;
  static std::uint32_t* order = [] {
    std::vector<std::uint32_t> h(kElems);
    std::iota(h.begin(), h.end(), 0u);
    std::mt19937 rng(12345);
    std::shuffle(h.begin(), h.end(), rng);
    std::uint32_t* d = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&d, kElems * sizeof(std::uint32_t)));
    TILESIM_CUDA_CHECK(
        cudaMemcpy(d, h.data(), kElems * sizeof(std::uint32_t), cudaMemcpyHostToDevice));
    return d;
  }();
  static unsigned long long* cycles = [] {
    unsigned long long* q = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&q, sizeof(*q)));
    return q;
  }();
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    smem_chase_kernel<<<1, 256, kElems * sizeof(std::uint32_t), s>>>(order, kElems, kSteps,
                                                                     sink_buffer(), clk, cycles);
  };
  spec.after_launch = [=] {
    unsigned long long c = 0;
    TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles, sizeof(c), cudaMemcpyDeviceToHost));
    return std::map<std::string, double>{{"latency_cycles", static_cast<double>(c) / kSteps}};
  };
  run_kernel(state, spec);
}

}  // namespace

void register_smem_benchmarks() {
  register_gpu_benchmark("smem/ld32/throughput",
                         [](benchmark::State& s) { bench_bw<Access::ld32>(s, 1); });
  register_gpu_benchmark("smem/ld128/throughput",
                         [](benchmark::State& s) { bench_bw<Access::ld128>(s, 1); });
  register_gpu_benchmark("smem/ldmatrix_x4/throughput",
                         [](benchmark::State& s) { bench_bw<Access::ldmatrix_x4>(s, 1); });
  register_gpu_benchmark("smem/st32/throughput",
                         [](benchmark::State& s) { bench_bw<Access::st32>(s, 1); });
  register_gpu_benchmark("smem/st128/throughput",
                         [](benchmark::State& s) { bench_bw<Access::st128>(s, 1); });
  for (int stride : {2, 4, 32}) {
    register_gpu_benchmark("smem/ld32_lane_stride:" + std::to_string(stride) + "/throughput",
                           [stride](benchmark::State& s) { bench_bw<Access::ld32>(s, stride); });
  }
  register_gpu_benchmark("smem/latency", bench_latency);
}

}  // namespace tilesim::microbench
