// The Hopper GEMM epilogue alone: how fast one SM's consumer warpgroups push a finished C
// tile out, with the kernels' own device code (gemm_sm90_common.cuh) and no main loop.
//
// Each CTA (one per SM) has two consumer warpgroups of 64 rows, as gemm_sm90_ws compiles
// its 128 x block_n tiles with two consumers. Each warpgroup holds a 64 x block_n fp32
// accumulator tile in registers (random values, changed before every tile so that nothing
// is hoisted) and stores it once per work item, walking the tiles of an 8192 x 8192 C the
// way a persistent grid does (tile = CTA + item x CTAs, wrapping), by one of two paths:
//   bf16      store_tile_bf16: convert, 64 x 64 sub-tiles through a double-buffered
//             128B-swizzled shared tile, one TMA store each (the ws and fp8 epilogue);
//   partials  store_partials_f32: fp32 float2 stores straight from registers into a split-K
//             partial tile (the ws kernel with split_k > 1).
// C (128 MiB bf16, 256 MiB fp32) is larger than L2, so the lines written reach HBM as a
// GEMM's output does. With few CTAs the SM's own store path binds (the model's
// sm_store_bytes_per_clk); with every SM storing at once the chip's write bandwidth does.
// Counter: bytes_per_clk_sm, the C bytes one SM stores per cycle (cycle spans of each CTA).
#include <cuda.h>  // CUtensorMap (type only; libcuda is not linked)
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda_check.hpp"
#include "gemm_sm90_common.cuh"
#include "harness.cuh"
#include "tensor_map.hpp"

namespace tilesim::microbench {
namespace {

namespace sm90 = ::tilesim::gemm::sm90;

constexpr int kConsumers = 2;
constexpr int kThreads = kConsumers * sm90::kWarpgroupThreads;
constexpr int kRowsPerConsumer = sm90::kWgmmaM;  // one m64 accumulator block per warpgroup
constexpr int kTileRows = kConsumers * kRowsPerConsumer;
constexpr int kCRows = 8192, kCCols = 8192;
constexpr int kItemsPerCta = 64;
constexpr int kCBufBytes = sm90::kEpiBufs * sm90::kEpiBufBytes;  // per consumer

enum class Path : int { kBf16 = 0, kPartials = 1 };

template <int BN, Path P>
__global__ void __launch_bounds__(kThreads, 1)
    gemm_epilogue_kernel(const __grid_constant__ CUtensorMap tma_c, float* partials, int items,
                         unsigned* sink, BlockClock* clk) {
  extern __shared__ __align__(1024) std::uint8_t smem_raw[];
  // 128B-swizzled TMA sources need 1024-byte alignment.
  std::uint8_t* smem = reinterpret_cast<std::uint8_t*>(
      (reinterpret_cast<std::uintptr_t>(smem_raw) + sm90::kSwizzleAlign - 1) &
      ~static_cast<std::uintptr_t>(sm90::kSwizzleAlign - 1));
  clock_begin(clk);
  const int cw = static_cast<int>(threadIdx.x) / sm90::kWarpgroupThreads;
  const int tid_in_wg = static_cast<int>(threadIdx.x) % sm90::kWarpgroupThreads;
  float acc[1][BN / 2];
  std::uint32_t h = 0x9E3779B9u * (threadIdx.x + 1) ^ (blockIdx.x * 0x85EBCA6Bu);
#pragma unroll
  for (int j = 0; j < BN / 2; ++j) {
    h ^= h << 13;
    h ^= h >> 17;
    h ^= h << 5;
    acc[0][j] = static_cast<float>(h & 0xFFFF) * (1.0f / 65536.0f) - 0.5f;
  }
  std::uint8_t* cbuf_gen = smem + cw * kCBufBytes;
  const std::uint32_t cbuf = ptx::smem_u32(cbuf_gen);
  std::uint32_t epi_count = 0;
  constexpr int tiles_m = kCRows / kTileRows, tiles_n = kCCols / BN;
  for (int i = 0; i < items; ++i) {
    const int t = (static_cast<int>(blockIdx.x) + i * static_cast<int>(gridDim.x)) % (tiles_m * tiles_n);
    const int row_base = (t % tiles_m) * kTileRows + cw * kRowsPerConsumer;
    const int col_base = (t / tiles_m) * BN;
#pragma unroll
    for (int j = 0; j < BN / 2; ++j) acc[0][j] += 0.25f;
    if constexpr (P == Path::kBf16) {
      sm90::store_tile_bf16<1, BN>(acc, &tma_c, cbuf, cbuf_gen, epi_count, 1 + cw, tid_in_wg, row_base,
                                   col_base, kCRows, kCCols);
    } else {
      sm90::store_partials_f32<1, BN>(acc, partials, tid_in_wg, row_base, col_base, kCRows, kCCols);
    }
  }
  if (tid_in_wg == 0) ptx::bulk_wait_group<0>();
  float s = 0.f;
#pragma unroll
  for (int j = 0; j < BN / 2; ++j) s += acc[0][j];
  if (tid_in_wg == 0) sink[blockIdx.x * kConsumers + cw] = __float_as_uint(s);
  clock_end(clk);
}

template <int BN, Path P>
void bench_epilogue(benchmark::State& state, int ctas) {
  const DeviceFacts& dev = device_facts();
  if (ctas > dev.sm_count) {
    state.SkipWithError("more CTAs than SMs");
    return;
  }
  const double out_bytes = P == Path::kBf16 ? 2.0 : 4.0;
  // C for either path: the partials' fp32 buffer is the larger (256 MiB).
  std::uint8_t* c = big_buffer(0, std::size_t{kCRows} * kCCols * 4);
  const CUtensorMap tma_c = cuda::make_tensor_map_bf16_sw128(c, kCRows, kCCols, sm90::kEpiTile, sm90::kEpiTile);
  // One CTA per SM: pad the dynamic shared memory above half an SM.
  const std::size_t smem = std::max<std::size_t>(kConsumers * kCBufBytes + sm90::kSwizzleAlign,
                                                 one_block_per_sm_smem_bytes());
  auto kernel = gemm_epilogue_kernel<BN, P>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  KernelSpec spec;
  spec.blocks = ctas;
  spec.unit = "bytes";
  spec.work = static_cast<double>(kTileRows) * BN * out_bytes * kItemsPerCta * ctas;
  float* partials = reinterpret_cast<float*>(c);
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<ctas, kThreads, smem, s>>>(tma_c, partials, kItemsPerCta, sink_buffer(), clk);
  };
  run_kernel(state, spec);
  state.counters["ctas"] = ctas;
  state.counters["block_n"] = BN;
  state.counters["tile_bytes"] = static_cast<double>(kTileRows) * BN * out_bytes;
}

template <int BN, Path P>
void register_path(const char* path) {
  for (int ctas : {1, 8, 32, 66, 132}) {
    const std::string name = std::string("gemm/epilogue/") + path + "/block_n:" + std::to_string(BN) +
                             "/ctas:" + std::to_string(ctas);
    register_gpu_benchmark(name, [ctas](benchmark::State& s) { bench_epilogue<BN, P>(s, ctas); });
  }
}

}  // namespace

void register_gemm_epilogue_benchmarks() {
  register_path<128, Path::kBf16>("bf16");
  register_path<256, Path::kBf16>("bf16");
  register_path<128, Path::kPartials>("partials");
  register_path<256, Path::kPartials>("partials");
}

}  // namespace tilesim::microbench
