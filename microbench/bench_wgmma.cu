// Tensor cores through wgmma (sm_90a): dense m64nNk{8,16,32} for bf16, fp16, fp8 e4m3
// and tf32, A from shared memory ("ss") or from registers ("rs"), B always from shared
// memory, f32 accumulators.
//
// Throughput: one CTA per SM with kWarpgroups warpgroups, each with its own accumulator
// and its own A tile, sharing B; each warpgroup keeps two commit groups of 4 wgmma in
// flight (wait_group 1), the pattern of a GEMM main loop. Latency: one warpgroup on one
// SM, each wgmma waited for (wait_group 0) before the next is issued.
//
// Operands are random values of the type (never zeros) in 128-byte-swizzled K-major
// tiles: each 128-byte row holds 4 K-steps of 32 bytes (16 bf16, 32 fp8, 8 tf32).
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "cuda_check.hpp"
#include "dtypes.cuh"
#include "harness.cuh"
#include "ptx/all.cuh"
#include "random_fill.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kRowBytes = 128;           // one swizzle row
constexpr int kKSteps = kRowBytes / 32;  // wgmma K-steps per row (32 bytes of K each)
constexpr int kWarpgroupThreads = 128;
constexpr int kSwizzleAlign = 1024;  // 128-byte swizzle atoms are 1024-byte aligned
constexpr int kWarpgroups = 2;       // consumer warpgroups per CTA in throughput mode
constexpr int kTileM = 64;           // rows of A per warpgroup (wgmma M)

// One wgmma with A from registers (RS) or from shared memory (SS); both K-major and
// accumulating, so the kernels below differ only in the operand source.
template <DType T, int N, bool kRs>
__device__ __forceinline__ void mma(float (&acc)[N / 2], std::uint64_t desc_a,
                                    const std::uint32_t (&a)[4], std::uint64_t desc_b) {
  if constexpr (kRs) {
    ptx::Wgmma<T, N>::rs(acc, a, desc_b, 1);
  } else {
    ptx::Wgmma<T, N>::ss(acc, desc_a, desc_b, 1);
  }
}

template <int N>
constexpr int smem_tile_bytes(int warpgroups) {
  return (N + kTileM * warpgroups) * kRowBytes;
}

// Copies the operand tiles (B, then one A per warpgroup) from global into the
// 1024-aligned start of dynamic shared memory and publishes them to the async proxy.
template <int N>
__device__ std::uint8_t* load_tiles(const uint4* operands, int warpgroups) {
  extern __shared__ std::uint8_t smem_raw[];
  const std::uint32_t base = ptx::smem_u32(smem_raw);
  std::uint8_t* smem = smem_raw + ((kSwizzleAlign - (base % kSwizzleAlign)) % kSwizzleAlign);
  auto* dst = reinterpret_cast<uint4*>(smem);
  const int vecs = smem_tile_bytes<N>(warpgroups) / 16;
  for (int i = threadIdx.x; i < vecs; i += blockDim.x) dst[i] = operands[i];
  ptx::fence_proxy_async_shared();
  __syncthreads();
  return smem;
}

// A fragments for the register-A form: 4 words per thread per K-step, taken from the
// warpgroup's random A tile (any words of the right type are valid operands).
template <bool kRs>
__device__ void load_a_fragments(const std::uint8_t* a_tile, std::uint32_t (&a)[kKSteps][4]) {
  const auto* w = reinterpret_cast<const std::uint32_t*>(a_tile);
  const int t = threadIdx.x % kWarpgroupThreads;
#pragma unroll
  for (int k = 0; k < kKSteps; ++k) {
#pragma unroll
    for (int j = 0; j < 4; ++j) a[k][j] = kRs ? w[(k * kWarpgroupThreads + t) * 4 + j] : 0u;
  }
}

template <DType T, int N, bool kRs>
__global__ void __launch_bounds__(kWarpgroups* kWarpgroupThreads, 1)
    wgmma_throughput_kernel(const uint4* operands, int iters, unsigned* sink, BlockClock* clk) {
  clock_begin(clk);
  std::uint8_t* smem = load_tiles<N>(operands, kWarpgroups);
  const int wg = threadIdx.x / kWarpgroupThreads;
  const std::uint8_t* b_tile = smem;
  const std::uint8_t* a_tile = smem + (N + kTileM * wg) * kRowBytes;
  const std::uint64_t desc_b = ptx::make_desc_sw128(ptx::smem_u32(b_tile));
  const std::uint64_t desc_a = ptx::make_desc_sw128(ptx::smem_u32(a_tile));
  std::uint32_t a[kKSteps][4];
  load_a_fragments<kRs>(a_tile, a);

  float acc[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.f;
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < kKSteps; ++k) {
      // +2 per K-step: the descriptor's start address counts 16-byte units (32 bytes).
      mma<T, N, kRs>(acc, desc_a + 2 * k, a[k], desc_b + 2 * k);
    }
    ptx::wgmma_commit();
    ptx::wgmma_wait<1>();
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
  }
  ptx::wgmma_wait<0>();
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) s += acc[i];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = __float_as_uint(s);
  clock_end(clk);
}

// A block-scaled fp8 GEMM's K group without its loads: each of the kWarpgroups warpgroups
// issues one 128-wide K group (kKSteps wgmma into a fresh accumulator), waits for it
// (wait_group 0) and promotes it on the FMA pipe, sum += acc * scale, one FFMA per
// accumulator (kernels/gemm/gemm_sm90_fp8.cuh). kPairScales: as the kernel, a thread's
// accumulators take its two rows' scales in turn (two registers, pairs of FFMA each);
// otherwise one scale for all. kLockstep: the warpgroups also meet at a named barrier before
// every group: released together, they finish together and promote at the same time.
// Against the plain throughput kernel it gives what the promotion costs the tensor pipe. ptxas (13.0) sets the FFMAs' control bits
// differently for the two forms: with the pairs it alternates reuse and yield, as in the
// kernel's SASS (and as DeepGEMM patches its binaries to do); with one scale every FFMA
// reuses the scale and none yields.
template <DType T, int N, bool kLockstep, bool kPairScales>
__global__ void __launch_bounds__(kWarpgroups* kWarpgroupThreads, 1)
    wgmma_promote_kernel(const uint4* operands, int iters, unsigned* sink, BlockClock* clk) {
  clock_begin(clk);
  std::uint8_t* smem = load_tiles<N>(operands, kWarpgroups);
  const int wg = threadIdx.x / kWarpgroupThreads;
  const std::uint64_t desc_b = ptx::make_desc_sw128(ptx::smem_u32(smem));
  const std::uint64_t desc_a = ptx::make_desc_sw128(ptx::smem_u32(smem + (N + kTileM * wg) * kRowBytes));
  const std::uint32_t a[4] = {0u, 0u, 0u, 0u};  // unused by the SS form
  const float scale_lo = 1.0f + threadIdx.x * 1e-7f, scale_hi = kPairScales ? 1.0f - threadIdx.x * 1e-7f : scale_lo;
  float acc[N / 2], sum[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) sum[i] = 0.f;
  constexpr int kLockstepBarrier = 1;  // 0 is __syncthreads
  for (int it = 0; it < iters; ++it) {
    if constexpr (kLockstep) ptx::named_bar_sync(kLockstepBarrier, kWarpgroups * kWarpgroupThreads);
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < kKSteps; ++k) {
      // The group's first wgmma overwrites the accumulator (scale-d 0), as the kernel's does.
      ptx::Wgmma<T, N>::ss(acc, desc_a + 2 * k, desc_b + 2 * k, k > 0 ? 1 : 0);
    }
    ptx::wgmma_commit();
    ptx::wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
#pragma unroll
    for (int i = 0; i < N / 2; ++i) sum[i] = fmaf(acc[i], (i / 2) % 2 == 0 ? scale_lo : scale_hi, sum[i]);
  }
  (void)a;
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) s += sum[i];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = __float_as_uint(s);
  clock_end(clk);
}

// One warpgroup, each wgmma waited for: cycles per iteration = issue-to-result latency
// (including the fence/commit/wait, a few cycles).
template <DType T, int N, bool kRs>
__global__ void __launch_bounds__(kWarpgroupThreads, 1)
    wgmma_latency_kernel(const uint4* operands, int iters, unsigned* sink, BlockClock* clk,
                         unsigned long long* cycles_out) {
  clock_begin(clk);
  std::uint8_t* smem = load_tiles<N>(operands, 1);
  const std::uint8_t* a_tile = smem + N * kRowBytes;
  const std::uint64_t desc_b = ptx::make_desc_sw128(ptx::smem_u32(smem));
  const std::uint64_t desc_a = ptx::make_desc_sw128(ptx::smem_u32(a_tile));
  std::uint32_t a[kKSteps][4];
  load_a_fragments<kRs>(a_tile, a);
  float acc[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.f;
  const long long t0 = clock64();
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
    ptx::wgmma_fence();
    mma<T, N, kRs>(acc, desc_a, a[0], desc_b);
    ptx::wgmma_commit();
    ptx::wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < N / 2; ++i) ptx::fence_operand(acc[i]);
  }
  const long long t1 = clock64();
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) s += acc[i];
  sink[threadIdx.x] = __float_as_uint(s);
  if (threadIdx.x == 0) *cycles_out = static_cast<unsigned long long>(t1 - t0);
  clock_end(clk);
}

double flop_per_wgmma(DType t, int n) {
  const int k = 32 / dtype_info(t).bytes_per_element;  // 32 bytes of K per instruction
  return 2.0 * kTileM * n * k;
}

// One CTA per SM of kWarpgroups warpgroups running `kernel` (the throughput or the promote
// kernel: each warpgroup issues kKSteps wgmma per iteration) for ~target_kernel_cycles at
// the peak rate; the work is those wgmmas' FLOP.
template <DType T, int N>
void run_warpgroups_kernel(benchmark::State& state,
                           void (*kernel)(const uint4*, int, unsigned*, BlockClock*)) {
  const DeviceFacts& dev = device_facts();
  const double peak = dtype_info(T).hopper_peak_flop_per_clk_sm;
  // Iterations for a kernel of ~target_kernel_cycles at peak rate.
  const double cycles_per_iter = kWarpgroups * kKSteps * flop_per_wgmma(T, N) / peak;
  const int iters = static_cast<int>(suite_config().target_kernel_cycles / cycles_per_iter);
  const auto* operands = static_cast<const uint4*>(
      random_operands(T, static_cast<std::size_t>(smem_tile_bytes<N>(kWarpgroups))));
  const std::size_t smem = std::max<std::size_t>(
      static_cast<std::size_t>(smem_tile_bytes<N>(kWarpgroups) + kSwizzleAlign),
      one_block_per_sm_smem_bytes());
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = dev.sm_count;
  spec.unit = "flop";
  spec.peak_per_clk_sm = peak;
  spec.work =
      static_cast<double>(dev.sm_count) * kWarpgroups * iters * kKSteps * flop_per_wgmma(T, N);
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<dev.sm_count, kWarpgroups * kWarpgroupThreads, smem, s>>>(operands, iters,
                                                                       sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

template <DType T, int N, bool kRs>
void bench_throughput(benchmark::State& state) {
  run_warpgroups_kernel<T, N>(state, wgmma_throughput_kernel<T, N, kRs>);
}

template <DType T, int N, bool kLockstep, bool kPairScales>
void bench_promote(benchmark::State& state) {
  run_warpgroups_kernel<T, N>(state, wgmma_promote_kernel<T, N, kLockstep, kPairScales>);
}

template <DType T, int N, bool kRs>
void bench_latency(benchmark::State& state) {
  constexpr int kIters = 4096;
  const auto* operands = static_cast<const uint4*>(
      random_operands(T, static_cast<std::size_t>(smem_tile_bytes<N>(1))));
  const std::size_t smem = static_cast<std::size_t>(smem_tile_bytes<N>(1) + kSwizzleAlign);
  auto* kernel = wgmma_latency_kernel<T, N, kRs>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  static unsigned long long* cycles = [] {
    unsigned long long* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, sizeof(*p)));
    return p;
  }();
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<1, kWarpgroupThreads, smem, s>>>(operands, kIters, sink_buffer(), clk, cycles);
  };
  spec.after_launch = [=] {
    unsigned long long c = 0;
    TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles, sizeof(c), cudaMemcpyDeviceToHost));
    return std::map<std::string, double>{{"latency_cycles", static_cast<double>(c) / kIters}};
  };
  run_kernel(state, spec);
}

template <DType T, int N, bool kRs>
void add_throughput() {
  register_gpu_benchmark(std::string("wgmma/") + dtype_info(T).name + (kRs ? "/rs" : "/ss") + "/n" +
                             std::to_string(N) + "/throughput",
                         bench_throughput<T, N, kRs>);
}

template <DType T, int N, bool kRs>
void add_latency() {
  register_gpu_benchmark(std::string("wgmma/") + dtype_info(T).name + (kRs ? "/rs" : "/ss") + "/n" +
                             std::to_string(N) + "/latency",
                         bench_latency<T, N, kRs>);
}

template <DType T, int N, bool kLockstep, bool kPairScales>
void add_promote() {
  register_gpu_benchmark(std::string("wgmma/") + dtype_info(T).name + "/ss/n" + std::to_string(N) + "/promote" +
                             (kLockstep ? "_lockstep" : "") + (kPairScales ? "" : "_one_scale"),
                         bench_promote<T, N, kLockstep, kPairScales>);
}

template <DType T>
void add_all_throughput() {
  add_throughput<T, 64, false>();
  add_throughput<T, 128, false>();
  add_throughput<T, 256, false>();
  add_throughput<T, 64, true>();
  add_throughput<T, 128, true>();
  add_throughput<T, 256, true>();
}

}  // namespace

void register_wgmma_benchmarks() {
  add_all_throughput<DType::bf16>();
  add_all_throughput<DType::fp16>();
  add_all_throughput<DType::e4m3>();
  add_all_throughput<DType::tf32>();
  // The fp8 GEMM's K group with its promotion (two accumulator sets of N/2 fp32 per thread:
  // N = 128 fits the 255 registers of two 128-thread warpgroups).
  add_promote<DType::e4m3, 128, false, true>();
  add_promote<DType::e4m3, 128, true, true>();
  add_promote<DType::e4m3, 128, false, false>();
  // Latency: every dtype at N=128 from shared memory, and bf16 across N and A source.
  add_latency<DType::bf16, 64, false>();
  add_latency<DType::bf16, 128, false>();
  add_latency<DType::bf16, 256, false>();
  add_latency<DType::bf16, 128, true>();
  add_latency<DType::fp16, 128, false>();
  add_latency<DType::e4m3, 128, false>();
  add_latency<DType::tf32, 128, false>();
#ifdef TILESIM_ALL_KERNELS
  add_latency<DType::bf16, 64, true>();
  add_latency<DType::bf16, 256, true>();
  add_latency<DType::fp16, 128, true>();
  add_latency<DType::e4m3, 128, true>();
  add_latency<DType::tf32, 128, true>();
  add_latency<DType::e4m3, 256, false>();
  add_latency<DType::tf32, 256, false>();
#endif
}

}  // namespace tilesim::microbench
