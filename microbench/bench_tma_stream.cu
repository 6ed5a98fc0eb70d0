// A GEMM producer's operand stream from HBM, without the MMA: how long a TMA ring stage
// takes to turn when C CTAs (one per SM) each stream their own rows of a K-major operand.
//
// Each CTA runs the load side of gemm_sm90_ws alone: a ring of `stages` stages; a stage
// is one box of `rows_b` rows x 64 bf16 (128 B per row) of B, the CTA's own rows, walked
// along K like a GEMM's main loop, and optionally one box of `rows_a_box` rows of A, a
// small matrix every CTA shares (an L2 hit after its first use) with only `rows_a_valid`
// rows in bounds (TMA fills the rest with zeros: a GEMM whose M is below block_m). The
// consumer reads one word and releases the stage, so a stage turns as fast as the memory
// system delivers it: the loaded latency of a stage is stages x (cycles per stage).
//
// B is 8192 bf16 wide (16 KiB between rows: every box row opens a different DRAM page, as
// a weight matrix's rows do) and never revisited within a launch; each CTA reads
// kBytesPerCta of it (after its K walk over one row block it moves C row blocks on, as a
// persistent GEMM moves to its next tile).
//
// The sweep (CTAs x stages x box rows, and the A box with out-of-bounds rows) is what the
// model's GEMM operand stage latency is checked against (model/README.md).
#include <cuda.h>  // CUtensorMap (type only; libcuda is not linked)

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cuda_check.hpp"
#include "harness.cuh"
#include "ptx/all.cuh"
#include "tensor_map.hpp"
#include "tma_ring.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kThreads = 128;            // one thread issues and consumes; the rest wait
constexpr int kK = 8192;                 // bf16 columns of B and A (16 KiB rows)
constexpr int kBoxCols = 64;             // 128 B: one swizzle row
constexpr int kKBoxes = kK / kBoxCols;   // stages per row block
constexpr std::size_t kRowBytes = std::size_t{kK} * 2;
constexpr std::size_t kBytesPerCta = std::size_t{8} << 20;  // B bytes each CTA streams
constexpr std::size_t kBSourceBytes = std::size_t{2} << 30;

struct StreamShape {
  int ctas;
  int stages;
  int rows_b;        // B box rows (<= 256)
  int rows_a_box;    // A box rows (0: no A box)
  int rows_a_valid;  // A rows in bounds (<= rows_a_box)
};

__global__ void __launch_bounds__(kThreads)
    operand_stream_kernel(const __grid_constant__ CUtensorMap map_b,
                          const __grid_constant__ CUtensorMap map_a, int ctas, int stages,
                          int rows_b, int a_box_bytes, int row_blocks_per_cta, unsigned* sink,
                          BlockClock* clk) {
  extern __shared__ __align__(128) std::uint8_t smem[];
  const std::uint32_t b_box_bytes = static_cast<std::uint32_t>(rows_b) * 128u;
  const std::uint32_t stage_bytes = b_box_bytes + static_cast<std::uint32_t>(a_box_bytes);
  clock_begin(clk);
  const TmaRing ring = tma_ring_init(smem, stages);
  if (threadIdx.x == 0) {
    const int total = row_blocks_per_cta * kKBoxes;
    auto issue = [&](int s, int i) {
      const int row_block = static_cast<int>(blockIdx.x) + (i / kKBoxes) * ctas;
      const int kx = (i % kKBoxes) * kBoxCols;
      const std::uint32_t bar = ptx::smem_u32(&ring.bars[s]);
      const std::uint32_t dst = ptx::smem_u32(ring.stage_mem + std::size_t{stage_bytes} * s);
      ptx::mbar_arrive_expect_tx(bar, stage_bytes);
      ptx::tma_load_2d(dst, &map_b, bar, kx, row_block * rows_b);
      if (a_box_bytes > 0) ptx::tma_load_2d(dst + b_box_bytes, &map_a, bar, kx, 0);
    };
    const unsigned acc = tma_ring_run(ring, stage_bytes, stages, total, issue);
    sink[blockIdx.x] = acc;
  }
  clock_end(clk);
}

void bench_stream(benchmark::State& state, const StreamShape& sh) {
  const DeviceFacts& dev = device_facts();
  if (sh.ctas > dev.sm_count) {
    state.SkipWithError("more CTAs than SMs");
    return;
  }
  const std::size_t b_box_bytes = std::size_t{128} * static_cast<std::size_t>(sh.rows_b);
  const std::size_t a_box_bytes = std::size_t{128} * static_cast<std::size_t>(sh.rows_a_box);
  const std::size_t stage_bytes = b_box_bytes + a_box_bytes;
  const int row_blocks_per_cta =
      std::max(1, static_cast<int>(kBytesPerCta / (kRowBytes * static_cast<std::size_t>(sh.rows_b))));
  const std::size_t b_rows = kBSourceBytes / kRowBytes;
  if (static_cast<std::size_t>(row_blocks_per_cta) * sh.ctas * sh.rows_b > b_rows) {
    state.SkipWithError("B source too small for this sweep point");
    return;
  }
  const std::uint8_t* b_src = big_buffer(0, kBSourceBytes);
  const std::uint8_t* a_src = big_buffer(1, kRowBytes * 256);
  const CUtensorMap map_b = cuda::make_tensor_map_bf16_sw128(b_src, b_rows, kK, sh.rows_b, kBoxCols);
  const CUtensorMap map_a = cuda::make_tensor_map_bf16_sw128(
      a_src, static_cast<std::uint64_t>(std::max(1, sh.rows_a_valid)), kK,
      static_cast<std::uint32_t>(std::max(1, sh.rows_a_box)), kBoxCols);
  // One CTA per SM whatever the ring: pad the dynamic shared memory above half an SM.
  const std::size_t smem = std::max(kTmaRingOverheadBytes + stage_bytes * static_cast<std::size_t>(sh.stages),
                                    one_block_per_sm_smem_bytes());
  if (smem > dev.smem_optin_bytes) {
    state.SkipWithError("ring larger than the shared memory of an SM");
    return;
  }
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(operand_stream_kernel,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(smem)));
  const int a_bytes = static_cast<int>(a_box_bytes);
  KernelSpec spec;
  spec.blocks = sh.ctas;
  spec.unit = "bytes";
  // Bytes the stages complete (B boxes and the whole A box, zero-filled rows included):
  // bytes_per_clk_sm over stage_bytes is stages per cycle of one CTA.
  spec.work = static_cast<double>(stage_bytes) * kKBoxes * row_blocks_per_cta * sh.ctas;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    operand_stream_kernel<<<sh.ctas, kThreads, smem, s>>>(map_b, map_a, sh.ctas, sh.stages,
                                                          sh.rows_b, a_bytes, row_blocks_per_cta,
                                                          sink_buffer(), clk);
  };
  run_kernel(state, spec);
  state.counters["ctas"] = sh.ctas;
  state.counters["stages"] = sh.stages;
  state.counters["rows_b"] = sh.rows_b;
  state.counters["rows_a_box"] = sh.rows_a_box;
  state.counters["rows_a_valid"] = sh.rows_a_valid;
  state.counters["stage_bytes"] = static_cast<double>(stage_bytes);
  state.counters["hbm_bytes"] = static_cast<double>(b_box_bytes) * kKBoxes * row_blocks_per_cta * sh.ctas;
}

std::string stream_name(const StreamShape& sh) {
  std::string n = "tma/operand_stream/ctas:" + std::to_string(sh.ctas) +
                  "/stages:" + std::to_string(sh.stages) + "/rows_b:" + std::to_string(sh.rows_b);
  if (sh.rows_a_box > 0)
    n += "/a_box:" + std::to_string(sh.rows_a_box) + "/a_valid:" + std::to_string(sh.rows_a_valid);
  return n;
}

}  // namespace

void register_tma_stream_benchmarks() {
  std::vector<StreamShape> shapes;
  // B alone: the loaded latency of a stage against CTAs streaming and bytes in flight.
  for (int ctas : {8, 16, 32, 64, 96, 132})
    for (int stages : {2, 3, 4, 6, 8})
      for (int rows : {64, 128, 192, 256}) shapes.push_back({ctas, stages, rows, 0, 0});
  // A GEMM's stage: B box plus a shared A box, in bounds or partly zero-filled (M below
  // the box rows).
  for (int ctas : {8, 32, 64, 132})
    for (auto [a_box, a_valid] : {std::pair{128, 128}, std::pair{128, 64}, std::pair{256, 256},
                                  std::pair{256, 192}, std::pair{256, 128}, std::pair{256, 64}})
      shapes.push_back({ctas, 4, 128, a_box, a_valid});
  constexpr int kRingBudgetBytes = 200 * 1024;  // leaves room below the 227 KiB opt-in
  for (const StreamShape& sh : shapes) {
    if (sh.stages * 128 * (sh.rows_b + sh.rows_a_box) > kRingBudgetBytes) continue;
    register_gpu_benchmark(stream_name(sh), [sh](benchmark::State& s) { bench_stream(s, sh); });
  }
}

}  // namespace tilesim::microbench
