// TMA (the bulk copy engine): global -> shared throughput, completing on mbarriers, as the
// load side of a warp-specialised kernel uses it. Two forms: 1-D cp.async.bulk of
// contiguous 16 KiB chunks ("bulk_g2s"), and 2-D cp.async.bulk.tensor boxes of 128 rows x
// 64 bf16 (16 KiB, 128-byte swizzle: a GEMM operand tile) out of a row-major matrix with
// 8 KiB rows ("tensor2d_g2s"), the descriptor encoded through the driver entry point.
//
// Each CTA has one issuing thread and a ring of kStagesPerSm / ctas_per_sm stages of
// kChunkBytes each (the same bytes in flight per SM for 1, 2 or 4 CTAs per SM). For every
// chunk it waits for the stage's mbarrier, reads one word (the consumer, keeps it live),
// and re-issues the stage. Source: a 16 MiB buffer (L2-resident after the first pass) or
// a 2 GiB buffer read once per launch (HBM).
#include <cuda.h>  // CUtensorMap (type only; libcuda is not linked)

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "harness.cuh"
#include "ptx/all.cuh"
#include "tensor_map.hpp"
#include "tma_ring.cuh"

namespace tilesim::microbench {
namespace {

constexpr std::uint32_t kChunkBytes = 16 * 1024;
constexpr int kStagesPerSm = 8;  // 128 KiB in flight per SM
constexpr int kThreads = 128;    // one warp issues; the rest only join the final barrier
constexpr std::size_t kL2SourceBytes = std::size_t{16} << 20;
constexpr std::size_t kHbmSourceBytes = std::size_t{2} << 30;

constexpr int kMatrixCols = 4096;                     // bf16 elements per row (8 KiB rows)
constexpr int kBoxCols = 64;                          // 128 bytes: one swizzle row
constexpr int kBoxRows = 128;                         // 64 x 128 x 2 B = kChunkBytes
constexpr int kBoxesPerRow = kMatrixCols / kBoxCols;  // 64

template <bool kTensor>
__global__ void __launch_bounds__(kThreads)
    bulk_copy_kernel(const __grid_constant__ CUtensorMap map, const std::uint8_t* src,
                     std::size_t src_chunks, int stages, int chunks_per_cta, unsigned* sink,
                     BlockClock* clk) {
  extern __shared__ __align__(128) std::uint8_t smem[];
  clock_begin(clk);
  const TmaRing ring = tma_ring_init(smem, stages);
  if (threadIdx.x == 0) {
    const std::size_t first = std::size_t{blockIdx.x} * chunks_per_cta;
    auto issue = [&](int s, int i) {
      const std::size_t chunk = (first + static_cast<std::size_t>(i)) % src_chunks;
      const std::uint32_t bar = ptx::smem_u32(&ring.bars[s]);
      const std::uint32_t dst = ptx::smem_u32(ring.stage_mem + std::size_t{kChunkBytes} * s);
      ptx::mbar_arrive_expect_tx(bar, kChunkBytes);
      if constexpr (kTensor) {
        // Box `chunk`: column block chunk % 64, row block chunk / 64 (row-major order).
        ptx::tma_load_2d(dst, &map, bar, static_cast<int>(chunk % kBoxesPerRow) * kBoxCols,
                         static_cast<int>(chunk / kBoxesPerRow) * kBoxRows);
      } else {
        ptx::bulk_copy_g2s(dst, src + chunk * kChunkBytes, kChunkBytes, bar);
      }
    };
    const unsigned acc = tma_ring_run(ring, kChunkBytes, stages, chunks_per_cta, issue);
    sink[blockIdx.x] = acc;
  }
  clock_end(clk);
}

// Row-major bf16 matrix of kMatrixCols columns over `bytes`, boxes of kBoxRows x kBoxCols.
CUtensorMap make_matrix_map(const void* base, std::size_t bytes) {
  return cuda::make_tensor_map_bf16_sw128(base, bytes / (kMatrixCols * 2), kMatrixCols, kBoxRows,
                                          kBoxCols);
}

void bench_bulk(benchmark::State& state, bool from_hbm, int ctas_per_sm, bool tensor) {
  const DeviceFacts& dev = device_facts();
  const int stages = kStagesPerSm / ctas_per_sm;
  const int ctas = dev.sm_count * ctas_per_sm;
  const std::size_t src_bytes = from_hbm ? kHbmSourceBytes : kL2SourceBytes;
  const std::size_t src_chunks = src_bytes / kChunkBytes;
  // HBM: one pass over the buffer; L2: ~8 GB per launch (~1-2 ms at L2 rates).
  const double bytes_target = from_hbm ? static_cast<double>(src_bytes) : 8e9;
  const int chunks_per_cta =
      std::max(1, static_cast<int>(bytes_target / (double{kChunkBytes} * ctas)));
  const std::uint8_t* src = big_buffer(0, kHbmSourceBytes);
  // Pad shared memory so that exactly ctas_per_sm CTAs fit on an SM.
  const std::size_t smem =
      std::min(dev.smem_optin_bytes,
               std::max(kTmaRingOverheadBytes + std::size_t{kChunkBytes} * stages,
                        dev.smem_per_sm_bytes / static_cast<std::size_t>(ctas_per_sm + 1) + 1024));
  auto* kernel = tensor ? bulk_copy_kernel<true> : bulk_copy_kernel<false>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  // The map covers the source region (unused by the 1-D form, which reads `src` directly).
  const CUtensorMap map = make_matrix_map(src, src_bytes);
  KernelSpec spec;
  spec.blocks = ctas;
  spec.unit = "bytes";
  spec.work = double{kChunkBytes} * chunks_per_cta * ctas;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    kernel<<<ctas, kThreads, smem, s>>>(map, src, src_chunks, stages, chunks_per_cta, sink_buffer(),
                                        clk);
  };
  run_kernel(state, spec);
  state.counters["chunk_bytes"] = kChunkBytes;
  state.counters["stages_per_cta"] = stages;
}

}  // namespace

void register_tma_benchmarks() {
  for (bool tensor : {false, true}) {
    const std::string kind = tensor ? "tma/tensor2d_g2s" : "tma/bulk_g2s";
    for (int ctas : {1, 2, 4}) {
      register_gpu_benchmark(
          kind + "/src_l2/ctas_per_sm:" + std::to_string(ctas),
          [ctas, tensor](benchmark::State& s) { bench_bulk(s, false, ctas, tensor); });
    }
    for (int ctas : {1, 4}) {
      register_gpu_benchmark(
          kind + "/src_hbm/ctas_per_sm:" + std::to_string(ctas),
          [ctas, tensor](benchmark::State& s) { bench_bulk(s, true, ctas, tensor); });
    }
  }
}

}  // namespace tilesim::microbench
