// gemm_sm90_ws: warp-specialized, persistent Hopper GEMM (sm_90a).
//
//   C[M,N] (bf16) = A[M,K] (bf16, row-major) * B[N,K]^T (bf16, row-major), fp32 accumulate.
//
// Roles (one CTA = 1 producer warpgroup + `consumers` consumer warpgroups):
//  - producer: one thread walks the CTA's tiles in scheduler order and, for each k-block,
//    waits for a free stage (empty mbarrier), announces the stage's bytes on its full
//    mbarrier and issues TMA loads of the A and B boxes (128-byte swizzle). In a 2-CTA
//    cluster each CTA loads only its share of the tile the pair has in common and
//    multicasts it to both (cluster_m = 2: B is shared; cluster_n = 2: A is shared).
//  - consumers: each owns block_m / consumers rows of the tile and issues
//    wgmma.m64n{block_n}k16 straight from shared memory; one wgmma group stays in flight
//    while the previous stage is released (arrive on the empty barrier of every CTA of the
//    cluster, since a peer's multicast writes into this CTA's stage too).
//  - setmaxnreg moves registers from the producer (40) to the consumers.
//  - epilogue: fp32 -> bf16 into a double-buffered 64x64 shared tile per consumer, written
//    in the 128B-swizzle layout (no bank conflicts), then a TMA store, which also clips the
//    parts outside M x N.
//  - optional L2 prefetch (GemmArgs::l2_prefetch, for the kernel that follows, e.g. a decode's
//    KV cache): lane 0 of the producer's idle warp 1 issues cp.async.bulk.prefetch.L2 for
//    this CTA's 1/grid of the chunks, optionally evict_last and paced over a time window.
//    It needs no SM slot of its own, unlike a prefetch kernel beside a GEMM that fills every
//    SM. With an empty list the warp only reads the count.
//  - persistent grid: as many clusters as fit on the GPU walk the tile list with a
//    grouped ("swizzled") order: `raster` tile rows are visited together so that the B
//    columns they share stay in L2 (raster = 1: plain row-major).
//  - split_k (a launch parameter, not a template one): with split_k > 1 the work units are
//    (split, tile) pairs, split-major so that concurrent CTAs share K-slices of A and B;
//    each unit covers a contiguous k-block range and writes fp32 partials to a workspace
//    that a small second kernel sums and converts to bf16. For shapes with too few output
//    tiles to fill the GPU (K-heavy, skinny).
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "gemm_registry.hpp"
#include "gemm_sm90_common.cuh"
#include "ptx/all.cuh"
#include "tensor_map.hpp"

namespace tilesim::gemm::sm90 {

using namespace ::tilesim::ptx;

template <int BlockM, int BlockN, int BlockK, int Stages, int Consumers, int ClusterM, int ClusterN,
          int Raster>
struct WsConfig {
  static constexpr int block_m = BlockM, block_n = BlockN, block_k = BlockK, stages = Stages,
                       consumers = Consumers, cluster_m = ClusterM, cluster_n = ClusterN,
                       raster = Raster;
  static constexpr int kWarpgroupThreads = sm90::kWarpgroupThreads;
  static constexpr int kThreads = kWarpgroupThreads * (1 + Consumers);
  static constexpr int kClusterSize = ClusterM * ClusterN;
  static constexpr int kElemBytes = 2;          // bf16
  static constexpr int kSwizzleRowBytes = sm90::kSwizzleRowBytes;  // = 64 bf16 of K
  static constexpr int kWgmmaM = sm90::kWgmmaM, kWgmmaK = 16;
  static constexpr int kRowsPerConsumer = BlockM / Consumers;
  static constexpr int kMmaPerK = kRowsPerConsumer / kWgmmaM;  // m64 wgmmas per k16 step
  static constexpr int kABytes = BlockM * BlockK * kElemBytes;
  static constexpr int kBBytes = BlockN * BlockK * kElemBytes;
  static constexpr int kStageBytes = kABytes + kBBytes;
  // Each CTA of a cluster loads 1/cluster of the operand it shares with its peers.
  static constexpr int kABoxRows = BlockM / ClusterN;
  static constexpr int kBBoxRows = BlockN / ClusterM;
  static constexpr int kEpiTile = sm90::kEpiTile;
  static constexpr int kEpiBufBytes = sm90::kEpiBufBytes;
  static constexpr int kEpiBufs = sm90::kEpiBufs;
  static constexpr int kSwizzleAlign = sm90::kSwizzleAlign;
  static constexpr int kBarrierBytes = 2 * Stages * 8;
  static constexpr int kSmemBytes =
      kSwizzleAlign + Stages * kStageBytes + Consumers * kEpiBufs * kEpiBufBytes + kBarrierBytes;
  static constexpr int kProducerRegs = sm90::kProducerRegs;
  static constexpr int kConsumerRegs = sm90::consumer_regs(Consumers);

  static_assert(BlockK * kElemBytes == kSwizzleRowBytes, "block_k must be 64 (one 128B row)");
  static_assert(Consumers >= 1 && Consumers <= 3, "consumers must be 1..3");
  static_assert(BlockM % (Consumers * kWgmmaM) == 0,
                "block_m / consumers must be a multiple of 64");
  static_assert(BlockN % kEpiTile == 0 && BlockN <= 256, "block_n must be 64, 128, 192 or 256");
  static_assert(kClusterSize >= 1 && kClusterSize <= 2, "cluster of 1 or 2 CTAs");
  static_assert(kABoxRows % 8 == 0 && kBBoxRows % 8 == 0, "multicast slices of whole 8-row atoms");
  static_assert(kABoxRows <= 256 && kBBoxRows <= 256, "TMA box rows <= 256");
  static_assert(Raster >= 1, "raster >= 1");
  static_assert(kMmaPerK * (BlockN / 2) <= 128, "accumulators per consumer thread > 128");
  static constexpr int kMaxSmemOptin = 232448;  // 227 KB per block on sm_90
  static_assert(kSmemBytes <= kMaxSmemOptin, "shared memory over the 227 KB per-block limit");

  static std::string name() {
    return "sm90_ws_" + std::to_string(BlockM) + "x" + std::to_string(BlockN) + "x" +
           std::to_string(BlockK) + "_s" + std::to_string(Stages) + "_c" +
           std::to_string(Consumers) + "_cl" + std::to_string(ClusterM) + "x" +
           std::to_string(ClusterN) + "_r" + std::to_string(Raster);
  }
};

// This CTA's share of an L2 prefetch list: chunk c of the concatenated ranges goes to CTA
// c % grid (neighbouring chunks from different SMs), issued by one thread. The CTA's j-th
// chunk waits until start + delay_ns + j * pace_ns / chunks, so that the prefetch's HBM
// traffic can be spread over (or moved to a later part of) the GEMM instead of landing on
// its first k-blocks.
__device__ __forceinline__ void issue_l2_prefetch_share(const L2PrefetchList& pf) {
  const std::uint64_t grid = gridDim.x, me = blockIdx.x;
  std::uint64_t policy = 0;
  if (pf.evict_last) policy = l2_policy_evict_last();
  std::uint64_t total_chunks = 0;
  for (int i = 0; i < pf.count; ++i) total_chunks += (pf.bytes[i] + pf.chunk_bytes - 1) / pf.chunk_bytes;
  const std::uint64_t mine = total_chunks / grid + (me < total_chunks % grid ? 1 : 0);
  const bool timed = pf.pace_ns != 0 || pf.delay_ns != 0;
  const std::uint64_t t0 = timed ? global_timer_ns() + pf.delay_ns : 0;
  std::uint64_t first_chunk = 0, j = 0;  // range i's first global chunk; this CTA's count so far
  for (int i = 0; i < pf.count; ++i) {
    const std::uint64_t chunks = (pf.bytes[i] + pf.chunk_bytes - 1) / pf.chunk_bytes;
    const char* base = static_cast<const char*>(pf.ptr[i]);
#pragma unroll 1
    for (std::uint64_t c = (me + grid - first_chunk % grid) % grid; c < chunks; c += grid, ++j) {
      if (timed) {
        const std::uint64_t due = t0 + j * pf.pace_ns / mine;
        while (global_timer_ns() < due) __nanosleep(256);
      }
      const std::uint64_t at = c * pf.chunk_bytes;
      const std::uint64_t left = pf.bytes[i] - at;
      const auto n = static_cast<std::uint32_t>(left < pf.chunk_bytes ? left : pf.chunk_bytes);
      if (pf.evict_last)
        prefetch_l2_bulk_hint(base + at, n, policy);
      else
        prefetch_l2_bulk(base + at, n);
    }
    first_chunk += chunks;
  }
}

template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    gemm_sm90_ws_kernel(const __grid_constant__ CUtensorMap tma_a,
                        const __grid_constant__ CUtensorMap tma_b,
                        const __grid_constant__ CUtensorMap tma_c, int m, int n, int k, int splits,
                        int kb_per_split, float* __restrict__ partials,
                        const __grid_constant__ L2PrefetchList l2_prefetch, const StageTrace trace) {
  constexpr int BM = Cfg::block_m, BN = Cfg::block_n, BK = Cfg::block_k;
  constexpr int kStages = Cfg::stages, kCM = Cfg::cluster_m, kCN = Cfg::cluster_n;
  constexpr int kCluster = Cfg::kClusterSize;
  constexpr int kRowBytes = Cfg::kSwizzleRowBytes;

  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = smem_u32(smem_raw);
  const uint32_t base = (raw + Cfg::kSwizzleAlign - 1) & ~uint32_t(Cfg::kSwizzleAlign - 1);
  uint8_t* smem = smem_raw + (base - raw);
  const uint32_t smem_a = base;
  const uint32_t smem_b = smem_a + kStages * Cfg::kABytes;
  const uint32_t smem_c = smem_b + kStages * Cfg::kBBytes;
  const uint32_t bar_full = smem_c + Cfg::consumers * Cfg::kEpiBufs * Cfg::kEpiBufBytes;
  const uint32_t bar_empty = bar_full + kStages * 8;

  const int warpgroup = threadIdx.x / Cfg::kWarpgroupThreads;
  const int tid_in_wg = threadIdx.x % Cfg::kWarpgroupThreads;
  const uint32_t cta_rank = kCluster > 1 ? cluster_ctarank() : 0;
  const int m_rank = static_cast<int>(cta_rank) % kCM;
  const int n_rank = static_cast<int>(cta_rank) / kCM;
  const int cluster_id = blockIdx.x / kCluster;
  const int num_clusters = gridDim.x / kCluster;

  if (threadIdx.x == 0) {
    tma_prefetch_desc(&tma_a);
    tma_prefetch_desc(&tma_b);
    tma_prefetch_desc(&tma_c);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(bar_full + 8 * s, 1);  // the local producer's arrive.expect_tx
      // one arrive per consumer warp of every CTA in the cluster
      mbar_init(bar_empty + 8 * s, Cfg::consumers * 4 * kCluster);
    }
    fence_mbar_init();
  }
  if constexpr (kCluster > 1) {
    cluster_sync();
  } else {
    __syncthreads();
  }

  const int tiles_m = (m + BM - 1) / BM, tiles_n = (n + BN - 1) / BN;
  const int ctiles_m = (tiles_m + kCM - 1) / kCM, ctiles_n = (tiles_n + kCN - 1) / kCN;
  const int num_ctiles = ctiles_m * ctiles_n;
  const int num_kb = (k + BK - 1) / BK;
  // Host guarantees every split has at least one k-block: (splits-1)*kb_per_split < num_kb.
  const int num_units = num_ctiles * splits;

  if (warpgroup == 0) {
    // ------------------------------------------------------------------ producer
    // With 1 consumer (256 threads) every thread may already hold 255 registers, and an
    // .inc below the entry count would be undefined: reallocate only for 2-3 consumers.
    if constexpr (Cfg::consumers > 1) setmaxnreg_dec<Cfg::kProducerRegs>();
    if (tid_in_wg == 0) {
      // CTAs that receive this CTA's share of A (same m, all n of the cluster) and of B.
      const uint16_t mask_a = multicast_mask_a<kCM, kCN>(m_rank);
      const uint16_t mask_b = multicast_mask_b<kCM, kCN>(n_rank);
      ptx::PipelineState ring;
      int step = 0;  // this CTA's K steps so far (the stage trace's index)
      span_mark(trace, true, cuda::kSpanFirstCycles);
      for (int u = cluster_id; u < num_units; u += num_clusters) {
        const int sp = u / num_ctiles;
        int ctm, ctn;
        raster_tile<Cfg::raster>(u - sp * num_ctiles, ctiles_m, ctiles_n, ctm, ctn);
        const int row_a = (ctm * kCM + m_rank) * BM;
        const int row_b = (ctn * kCN + n_rank) * BN;
        const int kb_begin = sp * kb_per_split;
        const int kb_end = min(num_kb, kb_begin + kb_per_split);
        // Not unrolled: one k-block per iteration keeps the issue order the schedule
        // describes (the spin of mbar_wait lives inside its PTX, so the compiler would
        // otherwise unroll this loop and batch the TMA issues of several stages).
#pragma unroll 1
        for (int kb = kb_begin; kb < kb_end; ++kb) {
          const uint32_t full = bar_full + 8 * ring.index;
          mbar_wait(bar_empty + 8 * ring.index, ring.phase ^ 1);
          mbar_arrive_expect_tx(full, Cfg::kStageBytes);
          stage_mark(trace, true, step++, cuda::kMarkIssue);
          load_ab_stage<kCM, kCN, Cfg::kABoxRows, Cfg::kBBoxRows>(
              smem_a + ring.index * Cfg::kABytes, smem_b + ring.index * Cfg::kBBytes, &tma_a,
              &tma_b, full, kb * BK, row_a, row_b, m_rank, n_rank, mask_a, mask_b);
          ring.advance(kStages);
        }
      }
    } else if (tid_in_wg == 32 && l2_prefetch.count > 0) {
      issue_l2_prefetch_share(l2_prefetch);
    }
    __syncwarp();
  } else {
    // ------------------------------------------------------------------ consumers
    if constexpr (Cfg::consumers > 1) setmaxnreg_inc<Cfg::kConsumerRegs>();
    const int cw = warpgroup - 1;
    const int lane = threadIdx.x % 32;
    float acc[Cfg::kMmaPerK][BN / 2];
    ptx::PipelineState ring;
    uint32_t epi_count = 0;
    const uint32_t cbuf = smem_c + cw * Cfg::kEpiBufs * Cfg::kEpiBufBytes;
    uint8_t* cbuf_gen = smem + (cbuf - base);

    auto release = [&](int s) { release_stage<kCluster>(bar_empty + 8 * s, lane); };
    const bool tracer = cw == 0 && tid_in_wg == 0;
    int step = 0;  // this CTA's K steps so far (the stage trace's index)

    for (int u = cluster_id; u < num_units; u += num_clusters) {
      const int sp = u / num_ctiles;
      int ctm, ctn;
      raster_tile<Cfg::raster>(u - sp * num_ctiles, ctiles_m, ctiles_n, ctm, ctn);
      const int kb_begin = sp * kb_per_split;
      const int kb_end = min(num_kb, kb_begin + kb_per_split);
      const int tile_m = ctm * kCM + m_rank;
      const int tile_n = ctn * kCN + n_rank;

      int prev_stage = 0;
#pragma unroll 1  // as the producer loop: one k-block per iteration
      for (int kb = kb_begin; kb < kb_end; ++kb) {
        mbar_wait(bar_full + 8 * ring.index, ring.phase);
        stage_mark(trace, tracer, step, cuda::kMarkFull);
        wgmma_fence();
        const uint32_t a_base =
            smem_a + ring.index * Cfg::kABytes + cw * Cfg::kRowsPerConsumer * kRowBytes;
        const uint32_t b_base = smem_b + ring.index * Cfg::kBBytes;
#pragma unroll
        for (int kk = 0; kk < BK / Cfg::kWgmmaK; ++kk) {
          // +32 B per k16 step inside the swizzled 128 B row.
          const uint64_t desc_b = make_desc_sw128(b_base + kk * 32);
#pragma unroll
          for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) {
            const uint64_t desc_a =
                make_desc_sw128(a_base + mi * Cfg::kWgmmaM * kRowBytes + kk * 32);
            Wgmma<DType::bf16, BN>::ss(acc[mi], desc_a, desc_b, (kb > kb_begin || kk > 0) ? 1 : 0);
          }
        }
        wgmma_commit();
        if (kb > kb_begin) {
          wgmma_wait<1>();  // the previous stage's wgmmas are done: hand it back
          release(prev_stage);
          stage_mark(trace, tracer, step - 1, cuda::kMarkRelease);
        }
        prev_stage = ring.index;
        ring.advance(kStages);
        ++step;
      }
      wgmma_wait<0>();
      release(prev_stage);
      stage_mark(trace, tracer, step - 1, cuda::kMarkRelease);
#pragma unroll
      for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) fence_operands(acc[mi]);

      const int row_base = tile_m * BM + cw * Cfg::kRowsPerConsumer;
      const int col_base = tile_n * BN;
      if (splits > 1) {
        // ---- split-K epilogue: fp32 partials straight from registers
        store_partials_f32<Cfg::kMmaPerK, BN>(acc, partials + static_cast<size_t>(sp) * m * n,
                                              tid_in_wg, row_base, col_base, m, n);
        continue;
      }
      // ---- epilogue: 64x64 sub-tiles through a double-buffered swizzled SMEM tile
      store_tile_bf16<Cfg::kMmaPerK, BN>(acc, &tma_c, cbuf, cbuf_gen, epi_count, 1 + cw,
                                         tid_in_wg, row_base, col_base, m, n);
    }
    if (tid_in_wg == 0) bulk_wait_group<0>();
    span_mark(trace, tracer, cuda::kSpanLastCycles);
    __syncwarp();
  }

  // No CTA may leave while a peer can still multicast into its shared memory or arrive
  // on its barriers.
  if constexpr (kCluster > 1) cluster_sync();
}

// ---------------------------------------------------------------------- host side
inline std::string sm90_unsupported_reason(const GemmArgs& g) {
  if (g.m < 1 || g.n < 1 || g.k < 1) return "M, N, K must be >= 1";
  const L2PrefetchList& pf = g.l2_prefetch;
  if (pf.count < 0 || pf.count > kMaxL2PrefetchRanges)
    return "l2_prefetch.count must be in [0, " + std::to_string(kMaxL2PrefetchRanges) + "]";
  if (pf.count > 0 && (pf.chunk_bytes == 0 || pf.chunk_bytes % 16 != 0))
    return "l2_prefetch.chunk_bytes must be a positive multiple of 16";
  for (int i = 0; i < pf.count; ++i)
    if (pf.ptr[i] == nullptr || reinterpret_cast<std::uintptr_t>(pf.ptr[i]) % 16 != 0 || pf.bytes[i] % 16 != 0)
      return "l2_prefetch range " + std::to_string(i) + " must be non-null, 16-byte aligned, a multiple of 16 bytes";
  if (g.k % 8 != 0) return "K must be a multiple of 8 (TMA needs 16-byte row strides)";
  if (g.n % 8 != 0) return "N must be a multiple of 8 (TMA needs 16-byte row strides)";
  return "";
}

template <class Cfg>
Prepared sm90_prepare(const GemmArgs& g, int split_k) {
  const std::string why = sm90_unsupported_reason(g);
  if (!why.empty()) throw std::invalid_argument(Cfg::name() + ": " + why);
  auto kernel = gemm_sm90_ws_kernel<Cfg>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const CUtensorMap map_a =
      cuda::make_tensor_map_bf16_sw128(g.a, g.m, g.k, Cfg::kABoxRows, Cfg::block_k);
  const CUtensorMap map_b =
      cuda::make_tensor_map_bf16_sw128(g.b, g.n, g.k, Cfg::kBBoxRows, Cfg::block_k);
  const CUtensorMap map_c =
      cuda::make_tensor_map_bf16_sw128(g.c, g.m, g.n, Cfg::kEpiTile, Cfg::kEpiTile);

  const int tiles_m = (g.m + Cfg::block_m - 1) / Cfg::block_m;
  const int tiles_n = (g.n + Cfg::block_n - 1) / Cfg::block_n;
  const int ctiles = ((tiles_m + Cfg::cluster_m - 1) / Cfg::cluster_m) *
                     ((tiles_n + Cfg::cluster_n - 1) / Cfg::cluster_n);

  const SplitK sk = SplitK::make((g.k + Cfg::block_k - 1) / Cfg::block_k, split_k, g.m, g.n);
  const int splits = sk.splits, kb_per_split = sk.kb_per_split;
  const PersistentGrid pg =
      persistent_grid(kernel, Cfg::name(), Cfg::kThreads, Cfg::kSmemBytes, Cfg::kClusterSize,
                      static_cast<long long>(ctiles) * splits, g.reserve_sms);
  const unsigned grid = pg.grid_ctas;
  const int m = g.m, n = g.n, k = g.k;
  const L2PrefetchList pf = g.l2_prefetch;
  const StageTrace trace = g.stage_trace;
  Prepared p;
  p.launch_info = {{"grid_ctas", grid},
                   {"threads_per_cta", Cfg::kThreads},
                   {"smem_bytes", Cfg::kSmemBytes},
                   {"cluster_ctas", Cfg::kClusterSize},
                   {"resident_clusters", pg.resident_clusters},
                   {"output_tiles", tiles_m * tiles_n},
                   {"split_k", splits},
                   {"kb_per_split", kb_per_split},
                   {"k_steps_per_item", kb_per_split},  // one K step = one k-block
                   {"workspace_bytes", sk.workspace_bytes()},
                   {"l2_prefetch_ranges", pf.count}};
  p.launch = [=](cudaStream_t stream) {
    launch_clustered(kernel, grid, Cfg::kThreads, Cfg::kSmemBytes, Cfg::kClusterSize, stream,
                     map_a, map_b, map_c, m, n, k, splits, kb_per_split, sk.partials.get(), pf, trace);
    sk.reduce(stream, g.c);
  };
  return p;
}

template <int BM, int BN, int BK, int S, int C, int CM, int CN, int R>
KernelEntry sm90_entry(int split_k = 1) {
  using Cfg = WsConfig<BM, BN, BK, S, C, CM, CN, R>;
  if (split_k < 1) throw std::invalid_argument("split_k must be >= 1");
  KernelEntry e;
  e.name = Cfg::name() + (split_k > 1 ? "_sk" + std::to_string(split_k) : "");
  e.schedule = "gemm_sm90_ws";
  // Every compiled parameter under the model's name, split_k included (a launch
  // parameter here, a tile parameter of the model's gemm_sm90_ws schedule).
  e.tile = {{"block_m", BM},   {"block_n", BN},  {"block_k", BK},
            {"stages", S},     {"consumers", C}, {"cluster_m", CM},
            {"cluster_n", CN}, {"raster", R},    {"split_k", split_k}};
  e.unsupported_reason = sm90_unsupported_reason;
  e.prepare = [split_k](const GemmArgs& g) { return sm90_prepare<Cfg>(g, split_k); };
  return e;
}

}  // namespace tilesim::gemm::sm90
