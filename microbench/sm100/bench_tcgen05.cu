// Fifth-generation tensor cores (tcgen05, sm_100a): MMA throughput and latency, and
// tensor-memory (TMEM) load/store bandwidth. Compiled for sm_100a only, into
// tilesim-microbench-sm100; never run here (no Blackwell GPU was available when it was
// written): see microbench/README.md "Blackwell (sm_100a)" for what it assumes.
//
// Throughput: one CTA of 128 threads per SM (one per CTA pair's SM for cta_group::2,
// launched as clusters of 2); one thread issues every MMA, as an MMA warp does in a
// Blackwell GEMM. Each loop step issues the 4 K-steps of one 128-byte swizzle row; every
// kBatchSteps steps a tcgen05.commit arrives on one of two mbarriers and the thread waits
// for the batch before, so up to 2 x kBatchSteps x 4 MMAs are in flight (the depth at
// which SemiAnalysis' umma_throughput saturates). D accumulates in TMEM columns [0, N);
// A comes from shared memory ("ss") or from TMEM columns [256, 288) ("ts").
// Latency: one thread, one MMA, commit, wait: issue to completion (commit and mbarrier
// wait included, as in SemiAnalysis' umma_latency).
// TMEM: 8 warps per SM (two per 32-lane sub-partition) each moving 32 lanes x 16
// columns x 4 B per tcgen05.ld / tcgen05.st, waited for every 4 instructions.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "cuda_check.hpp"
#include "dtypes.cuh"
#include "harness.cuh"
#include "ptx/all.cuh"
#include "random_fill.cuh"
#include "tcgen05_ptx.cuh"

namespace tilesim::microbench {
namespace {

using tc5::Kind;

constexpr int kRowBytes = 128;                // one swizzle row of K
constexpr int kKSteps = kRowBytes / 32;       // MMAs per row: every tcgen05 kind takes 32 bytes of K
constexpr int kThreads = 128;                 // one warpgroup: 128 TMEM lanes
constexpr int kSwizzleAlign = 1024;           // 128-byte swizzle atoms are 1024-byte aligned
constexpr int kTmemColumns = 512;             // the whole TMEM of the SM: one CTA per SM
constexpr int kATmemColumn = 256;             // A operand of the "ts" form
constexpr int kATmemColumnsPerKStep = 8;      // 128 lanes x 32 bytes of K = 8 columns of 32 bit
constexpr int kBatchSteps = 16;               // loop steps (x4 MMAs) per commit
static_assert(kATmemColumn + kKSteps * kATmemColumnsPerKStep <= kTmemColumns, "A fits beside D in TMEM");

// One operand type as tcgen05 sees it.
enum class Tc { bf16, fp16, tf32, e4m3, e2m1 };
struct TcType {
  const char* name;
  Kind kind;
  std::uint32_t format;
  DType fill;   // random values of this storage type
  int bytes;    // per element in shared memory
  double peak;  // FLOP/clk/SM the instruction rate implies (FA4 paper: 8192 bf16)
};
constexpr TcType tc_type(Tc t) {
  switch (t) {
    case Tc::bf16: return {"bf16", Kind::f16, tc5::Format::kBf16, DType::bf16, 2, 8192};
    case Tc::fp16: return {"fp16", Kind::f16, tc5::Format::kF16, DType::fp16, 2, 8192};
    case Tc::tf32: return {"tf32", Kind::tf32, tc5::Format::kTf32, DType::tf32, 4, 4096};
    case Tc::e4m3: return {"e4m3", Kind::f8f6f4, tc5::Format::kE4m3, DType::e4m3, 1, 16384};
    // fp4 as .kind::f8f6f4 allows it: one value per byte in shared memory, same K as fp8.
    case Tc::e2m1: return {"e2m1_unpacked", Kind::f8f6f4, tc5::Format::kE2m1, DType::e4m3, 1, 16384};
  }
  return {"?", Kind::f16, 0, DType::bf16, 2, 8192};
}

// Rows of A and B each CTA holds: cta_group::2 splits A by rows and B by columns.
constexpr int a_rows(int m, int cta_group) { return m / cta_group; }
constexpr int b_rows(int n, int cta_group) { return n / cta_group; }
constexpr int tile_bytes(int m, int n, int cta_group) { return (a_rows(m, cta_group) + b_rows(n, cta_group)) * kRowBytes; }

struct Shared {
  std::uint64_t mbar[2];
  std::uint32_t tmem_base;
};

// Operand tiles into the 1024-aligned dynamic shared memory, visible to the async proxy.
__device__ std::uint8_t* load_tiles(const uint4* operands, int bytes) {
  extern __shared__ std::uint8_t smem_raw[];
  const std::uint32_t base = ptx::smem_u32(smem_raw);
  std::uint8_t* smem = smem_raw + ((kSwizzleAlign - (base % kSwizzleAlign)) % kSwizzleAlign);
  auto* dst = reinterpret_cast<uint4*>(smem);
  for (int i = threadIdx.x; i < bytes / 16; i += blockDim.x) dst[i] = operands[i];
  ptx::fence_proxy_async_shared();
  return smem;
}

// TMEM allocation by warp 0, mbarriers by thread 0, then everyone sees the base address.
template <int kCtaGroup>
__device__ std::uint32_t setup(Shared& sh) {
  if (threadIdx.x / 32 == 0) {
    tc5::alloc<kCtaGroup>(ptx::smem_u32(&sh.tmem_base), kTmemColumns);
    tc5::relinquish_alloc_permit<kCtaGroup>();
  }
  if (threadIdx.x == 0) {
    ptx::mbar_init(ptx::smem_u32(&sh.mbar[0]), 1);
    ptx::mbar_init(ptx::smem_u32(&sh.mbar[1]), 1);
    ptx::fence_mbar_init();
  }
  tc5::fence_before_thread_sync();
  if constexpr (kCtaGroup == 2) ptx::cluster_sync();
  else __syncthreads();
  tc5::fence_after_thread_sync();
  return sh.tmem_base;
}

// A for the "ts" form: each warp stores random words into its 32 lanes of columns
// [256, 288), then the stores are waited for and ordered before the MMAs.
__device__ void store_a_to_tmem(std::uint32_t tmem, const std::uint8_t* a_tile) {
  const auto* w = reinterpret_cast<const std::uint32_t*>(a_tile);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int c = 0; c < kKSteps * kATmemColumnsPerKStep; c += 16) {
    std::uint32_t r[16];
#pragma unroll
    for (int j = 0; j < 16; ++j) r[j] = w[(lane * 32 + c + j) % 2048];
    tc5::st_32x32b_x16(tc5::tmem_addr(tmem, 32 * warp, kATmemColumn + c), r);
  }
  tc5::wait_st();
}

// Teardown: a word of D per thread into the sink (keeps the MMAs live), then dealloc.
template <int kCtaGroup>
__device__ void finish(std::uint32_t tmem, unsigned* sink) {
  tc5::fence_after_thread_sync();
  std::uint32_t r[16];
  tc5::ld_32x32b_x16(tc5::tmem_addr(tmem, 32 * (threadIdx.x / 32), 0), r);
  tc5::wait_ld();
  sink[blockIdx.x * blockDim.x + threadIdx.x] = r[0] ^ r[15];
  tc5::fence_before_thread_sync();
  if constexpr (kCtaGroup == 2) ptx::cluster_sync();
  else __syncthreads();
  if (threadIdx.x / 32 == 0) tc5::dealloc<kCtaGroup>(tmem, kTmemColumns);
}

template <int kCtaGroup>
__device__ bool is_issuer() {
  if constexpr (kCtaGroup == 2) return threadIdx.x == 0 && ptx::cluster_ctarank() == 0;
  else return threadIdx.x == 0;
}

template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
__global__ void __launch_bounds__(kThreads, 1)
    tcgen05_throughput_kernel(const uint4* operands, int steps, unsigned* sink, BlockClock* clk) {
  constexpr TcType T = tc_type(kT);
  __shared__ Shared sh;
  clock_begin(clk);
  std::uint8_t* smem = load_tiles(operands, tile_bytes(M, N, kCtaGroup));
  const std::uint32_t tmem = setup<kCtaGroup>(sh);
  const std::uint8_t* b_tile = smem;
  const std::uint8_t* a_tile = smem + b_rows(N, kCtaGroup) * kRowBytes;
  if constexpr (kTs) {
    store_a_to_tmem(tmem, a_tile);
    tc5::fence_before_thread_sync();
    if constexpr (kCtaGroup == 2) ptx::cluster_sync();
    else __syncthreads();
    tc5::fence_after_thread_sync();
  }
  if (is_issuer<kCtaGroup>()) {
    constexpr std::uint32_t idesc = tc5::instr_desc(T.format, M, N);
    const std::uint64_t desc_a = tc5::smem_desc_sw128(ptx::smem_u32(a_tile));
    const std::uint64_t desc_b = tc5::smem_desc_sw128(ptx::smem_u32(b_tile));
    const std::uint32_t bars[2] = {ptx::smem_u32(&sh.mbar[0]), ptx::smem_u32(&sh.mbar[1])};
    int batch = 0;
    for (int it = 0; it < steps; ++it) {
#pragma unroll
      for (int k = 0; k < kKSteps; ++k) {
        // +2 per K-step: 32 bytes in the descriptor's 16-byte address units.
        tc5::mma<T.kind, kCtaGroup, kTs>(tmem, desc_a + 2 * k, tmem + kATmemColumn + kATmemColumnsPerKStep * k,
                                         desc_b + 2 * k, idesc, (it | k) != 0);
      }
      if ((it + 1) % kBatchSteps == 0 || it + 1 == steps) {
        tc5::commit<kCtaGroup>(bars[batch & 1]);
        // Wait for the batch before this one: each barrier has one phase outstanding.
        if (batch > 0) ptx::mbar_wait(bars[(batch - 1) & 1], ((batch - 1) >> 1) & 1);
        ++batch;
      }
    }
    if (batch > 0) ptx::mbar_wait(bars[(batch - 1) & 1], ((batch - 1) >> 1) & 1);
  }
  __syncwarp();
  finish<kCtaGroup>(tmem, sink);
  clock_end(clk);
}

template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
__global__ void __launch_bounds__(kThreads, 1)
    tcgen05_latency_kernel(const uint4* operands, int iters, unsigned* sink, BlockClock* clk,
                           unsigned long long* cycles_out) {
  constexpr TcType T = tc_type(kT);
  __shared__ Shared sh;
  clock_begin(clk);
  std::uint8_t* smem = load_tiles(operands, tile_bytes(M, N, kCtaGroup));
  const std::uint32_t tmem = setup<kCtaGroup>(sh);
  const std::uint8_t* b_tile = smem;
  const std::uint8_t* a_tile = smem + b_rows(N, kCtaGroup) * kRowBytes;
  if constexpr (kTs) {
    store_a_to_tmem(tmem, a_tile);
    tc5::fence_before_thread_sync();
    if constexpr (kCtaGroup == 2) ptx::cluster_sync();
    else __syncthreads();
    tc5::fence_after_thread_sync();
  }
  if (is_issuer<kCtaGroup>()) {
    constexpr std::uint32_t idesc = tc5::instr_desc(T.format, M, N);
    const std::uint64_t desc_a = tc5::smem_desc_sw128(ptx::smem_u32(a_tile));
    const std::uint64_t desc_b = tc5::smem_desc_sw128(ptx::smem_u32(b_tile));
    const std::uint32_t bar = ptx::smem_u32(&sh.mbar[0]);
    const long long t0 = clock64();
    for (int it = 0; it < iters; ++it) {
      tc5::mma<T.kind, kCtaGroup, kTs>(tmem, desc_a, tmem + kATmemColumn, desc_b, idesc, it != 0);
      tc5::commit<kCtaGroup>(bar);
      ptx::mbar_wait(bar, it & 1);
    }
    const long long t1 = clock64();
    *cycles_out = static_cast<unsigned long long>(t1 - t0);
  }
  __syncwarp();
  finish<kCtaGroup>(tmem, sink);
  clock_end(clk);
}

// TMEM bandwidth: kLoad = tcgen05.ld (TMEM -> registers), else tcgen05.st.
template <bool kLoad>
__global__ void __launch_bounds__(2 * kThreads, 1) tmem_bandwidth_kernel(int iters, unsigned* sink, BlockClock* clk) {
  __shared__ Shared sh;
  clock_begin(clk);
  if (threadIdx.x / 32 == 0) {
    tc5::alloc<1>(ptx::smem_u32(&sh.tmem_base), kTmemColumns);
    tc5::relinquish_alloc_permit<1>();
  }
  tc5::fence_before_thread_sync();
  __syncthreads();
  tc5::fence_after_thread_sync();
  const std::uint32_t tmem = sh.tmem_base;
  const int warp = threadIdx.x / 32;
  const std::uint32_t row = tc5::tmem_addr(tmem, 32 * (warp % 4), 256 * (warp / 4));
  std::uint32_t r[16];
#pragma unroll
  for (int j = 0; j < 16; ++j) r[j] = threadIdx.x * 16 + j;
  std::uint32_t acc = 0;
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const std::uint32_t a = row + static_cast<std::uint32_t>(((it * 4 + c) % 16) * 16);
      if constexpr (kLoad) tc5::ld_32x32b_x16(a, r);
      else tc5::st_32x32b_x16(a, r);
    }
    if constexpr (kLoad) {
      tc5::wait_ld();
      acc ^= r[it & 15];
    } else {
      tc5::wait_st();
      r[it & 15] += 1;
    }
  }
  sink[blockIdx.x * blockDim.x + threadIdx.x] = acc ^ r[0];
  tc5::fence_before_thread_sync();
  __syncthreads();
  if (warp == 0) tc5::dealloc<1>(tmem, kTmemColumns);
  clock_end(clk);
}

double flop_per_mma(const TcType& t, int m, int n) { return 2.0 * m * n * (32 / t.bytes); }

// Launches `blocks` CTAs in clusters of kCtaGroup.
template <int kCtaGroup, typename Kernel, typename... Args>
void launch(Kernel kernel, int blocks, int threads, std::size_t smem, cudaStream_t s, Args... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(blocks));
  cfg.blockDim = dim3(static_cast<unsigned>(threads));
  cfg.dynamicSmemBytes = smem;
  cfg.stream = s;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = kCtaGroup;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  TILESIM_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, args...));
}

template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
void bench_throughput(benchmark::State& state) {
  constexpr TcType T = tc_type(kT);
  const DeviceFacts& dev = device_facts();
  const int pairs = dev.sm_count / kCtaGroup;
  const int blocks = pairs * kCtaGroup;
  // M = 64 runs at half rate (SemiAnalysis): size the launch on the full rate anyway;
  // it only makes those launches twice as long.
  const double cycles_per_step = kKSteps * flop_per_mma(T, M, N) / (T.peak * kCtaGroup);
  const int steps = std::max(kBatchSteps, static_cast<int>(suite_config().target_kernel_cycles / cycles_per_step));
  const auto* operands =
      static_cast<const uint4*>(random_operands(T.fill, static_cast<std::size_t>(tile_bytes(M, N, kCtaGroup))));
  const std::size_t smem = std::max<std::size_t>(
      static_cast<std::size_t>(tile_bytes(M, N, kCtaGroup) + kSwizzleAlign), one_block_per_sm_smem_bytes());
  auto* kernel = tcgen05_throughput_kernel<kT, kCtaGroup, M, N, kTs>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = blocks;
  spec.unit = "flop";
  spec.peak_per_clk_sm = T.peak;
  spec.work = static_cast<double>(pairs) * steps * kKSteps * flop_per_mma(T, M, N);
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    launch<kCtaGroup>(kernel, blocks, kThreads, smem, s, operands, steps, sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
void bench_latency(benchmark::State& state) {
  constexpr TcType T = tc_type(kT);
  constexpr int kIters = 2048;
  const auto* operands =
      static_cast<const uint4*>(random_operands(T.fill, static_cast<std::size_t>(tile_bytes(M, N, kCtaGroup))));
  const std::size_t smem = std::max<std::size_t>(
      static_cast<std::size_t>(tile_bytes(M, N, kCtaGroup) + kSwizzleAlign), one_block_per_sm_smem_bytes());
  auto* kernel = tcgen05_latency_kernel<kT, kCtaGroup, M, N, kTs>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  static unsigned long long* cycles = [] {
    unsigned long long* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, sizeof(*p)));
    return p;
  }();
  KernelSpec spec;
  spec.blocks = kCtaGroup;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    launch<kCtaGroup>(kernel, kCtaGroup, kThreads, smem, s, operands, kIters, sink_buffer(), clk, cycles);
  };
  spec.after_launch = [=] {
    unsigned long long c = 0;
    TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles, sizeof(c), cudaMemcpyDeviceToHost));
    return std::map<std::string, double>{{"latency_cycles", static_cast<double>(c) / kIters}};
  };
  run_kernel(state, spec);
}

template <bool kLoad>
void bench_tmem(benchmark::State& state) {
  const DeviceFacts& dev = device_facts();
  constexpr int kWarps = 2 * kThreads / 32;
  constexpr double kBytesPerStep = kWarps * 4 * 32 * 16 * 4.0;  // warps x 4 instr x 32 lanes x 16 col x 4 B
  // No published TMEM bandwidth: size the launch for an assumed 512 B/clk/SM.
  const int iters = static_cast<int>(suite_config().target_kernel_cycles / (kBytesPerStep / 512.0));
  auto* kernel = tmem_bandwidth_kernel<kLoad>;
  const std::size_t smem = one_block_per_sm_smem_bytes();
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = dev.sm_count;
  spec.unit = "bytes";
  spec.work = static_cast<double>(dev.sm_count) * iters * kBytesPerStep;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<dev.sm_count, 2 * kThreads, smem, s>>>(iters, sink_buffer(), clk);
  };
  run_kernel(state, spec);
}

template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
std::string name(const char* what) {
  constexpr TcType T = tc_type(kT);
  return std::string("tcgen05/") + T.name + (kTs ? "/ts" : "/ss") + "/cta" + std::to_string(kCtaGroup) + "/m" +
         std::to_string(M) + "n" + std::to_string(N) + "/" + what;
}
template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
void add_throughput() {
  register_gpu_benchmark(name<kT, kCtaGroup, M, N, kTs>("throughput"), bench_throughput<kT, kCtaGroup, M, N, kTs>);
}
template <Tc kT, int kCtaGroup, int M, int N, bool kTs>
void add_latency() {
  register_gpu_benchmark(name<kT, kCtaGroup, M, N, kTs>("latency"), bench_latency<kT, kCtaGroup, M, N, kTs>);
}

}  // namespace

void register_tcgen05_benchmarks() {
  // bf16: the shape grid (M 64/128 for one CTA, 256 for a pair; N 64..256; A from SMEM or TMEM).
  add_throughput<Tc::bf16, 1, 128, 64, false>();
  add_throughput<Tc::bf16, 1, 128, 128, false>();
  add_throughput<Tc::bf16, 1, 128, 256, false>();
  add_throughput<Tc::bf16, 1, 64, 256, false>();
  add_throughput<Tc::bf16, 1, 128, 64, true>();
  add_throughput<Tc::bf16, 1, 128, 256, true>();
  add_throughput<Tc::bf16, 2, 256, 64, false>();
  add_throughput<Tc::bf16, 2, 256, 256, false>();
  add_throughput<Tc::bf16, 2, 256, 256, true>();
  // Other kinds at the peak shape.
  add_throughput<Tc::fp16, 1, 128, 256, false>();
  add_throughput<Tc::tf32, 1, 128, 256, false>();
  add_throughput<Tc::e4m3, 1, 128, 256, false>();
  add_throughput<Tc::e4m3, 1, 128, 256, true>();
  add_throughput<Tc::e4m3, 2, 256, 256, false>();
  add_throughput<Tc::e2m1, 1, 128, 256, false>();
  // Latency: one MMA, commit, wait.
  add_latency<Tc::bf16, 1, 128, 64, false>();
  add_latency<Tc::bf16, 1, 128, 128, false>();
  add_latency<Tc::bf16, 1, 128, 256, false>();
  add_latency<Tc::bf16, 1, 128, 256, true>();
  add_latency<Tc::bf16, 2, 256, 256, false>();
  add_latency<Tc::e4m3, 1, 128, 256, false>();
  register_gpu_benchmark("tmem/ld_32x32b_x16/throughput", bench_tmem<true>);
  register_gpu_benchmark("tmem/st_32x32b_x16/throughput", bench_tmem<false>);
}

}  // namespace tilesim::microbench
