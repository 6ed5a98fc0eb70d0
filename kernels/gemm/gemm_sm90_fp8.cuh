// gemm_sm90_fp8: warp-specialized, persistent Hopper GEMM with fine-grained scaled e4m3
// inputs (sm_90a), in the style of DeepSeek-V3's training recipe and DeepGEMM.
//
//   C[M,N] (bf16) = sum_g (A_g[M,128] * B_g[N,128]^T) (*) scale_a[g][row] * scale_b[col/128][g]
//   A, B e4m3 row-major (both K-major, "TN"); the scale layouts are in gemm_registry.hpp.
//
// Same structure as gemm_sm90_ws (gemm_sm90_common.cuh holds the shared pieces): one
// producer warpgroup (TMA, 128B swizzle; optional 2-CTA multicast of the shared operand),
// `consumers` wgmma warpgroups, persistent grid in grouped (`raster`) order, bf16 TMA-store
// epilogue. What differs:
//  - block_k = 128 = one 128-byte swizzle row of e4m3 = one scale group, so every stage is
//    exactly one K group; wgmma.m64nNk32.f32.e4m3.e4m3 (4 per m64 block per stage).
//  - Promotion: Hopper's fp8 wgmma accumulates with limited precision (DeepSeek-V3 reports
//    about 14 bits kept), so a long K in the tensor core's accumulator loses accuracy. Each
//    consumer therefore keeps two accumulator sets: `tile` (wgmma, one K group, overwritten
//    by the group's first wgmma) and `sum` (fp32, CUDA cores). After each group it waits for
//    its wgmmas and does sum += tile * (scale_a[row] * scale_b[block]) in FFMA: one FFMA per
//    accumulator per group. Waiting for the group (wait_group 0) keeps no group in flight
//    as the bf16 kernel does unless promote_overlap adds a third set (below). The promotion
//    is the tensor pipe's idle time, so it is kept to the FFMAs: which B scale a column uses
//    is a compile-time constant (with_first_cols: a 192-wide tile starts at column 0 or 64
//    of a 128-column scale block, one instantiation of the K loop each), and the row scales
//    are in registers before the wgmmas are issued. A runtime choice per column cost an
//    FSEL + compare per 8 columns; removing both took 128x192 from 78 % to 88 % of
//    cuBLASLt on 8192^3 (H100, kernels/gemm/README.md).
//  - Scale loads: scale_a (a CTA's block_m rows of one group, contiguous because M-major)
//    comes by TMA into the stage with A and B, so it is covered by the same full barrier and
//    is read from shared memory right after that wait, before the wgmmas. scale_b is one
//    fp32 per 128 columns per group (one or two per tile, uniform across the warpgroup):
//    each consumer thread reads it from global memory (L2-resident, 4 B per group) before
//    it waits for the group's stage, so its latency hides behind the wait and the group's
//    wgmmas; a TMA box would need 16-byte rows for 4-8 useful bytes.
//  - mma_order (2+ consumers): the consumers issue their wgmmas of a K group in turn
//    (consumer 0, 1, ..., then consumer 0 of the next group), handing the turn on with a
//    named barrier. Without it both consumers wait on the same full barrier and issue at
//    once, their wgmmas interleave on the tensor pipe, both finish together and both promote
//    together while the tensor pipe idles. mma_order = 1 hands the turn on right after the
//    issue: measured slower on H100 (the tensor pipe interleaves the in-flight wgmmas of both
//    turns, so nothing is staggered). mma_order = 2 commits the group in two halves and hands
//    the turn on when the first half is done (wgmma.wait_group 1): the next consumer's
//    wgmmas start half a group later, so while one consumer promotes the other still has
//    wgmmas in flight.
//  - promote_overlap = 1: two wgmma accumulator sets alternate between K groups, so a
//    consumer issues group g+1 before it waits for group g (wgmma.wait_group 1) and promotes
//    g while g+1 runs, as the bf16 kernel keeps one group in flight. Costs a third set of
//    accumulators: 128x128 (2 consumers) and 64x128 (1 consumer) fit.
//  - split_k (a launch parameter, as in gemm_sm90_ws): the work units are (split, tile)
//    pairs, split-major; a unit promotes its own contiguous range of K groups and writes the
//    promoted fp32 sum as a partial tile to a workspace, and a second pass (SplitK::reduce,
//    gemm_sm90_common.cuh) sums the partials into bf16 C. For few output tiles (small M):
//    64 x 2112 has 17 tiles of 64 x 128 for 132 SMs.
//  - Two accumulator sets bound the tile: (block_m / consumers / 64) x block_n / 2 fp32 per
//    set and thread; 128x256 and 256x128 with 2 consumers would need 256 registers for the
//    accumulators alone (setmaxnreg gives a consumer 232), so the widest tiles are 128x192.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "cuda_check.hpp"
#include "gemm_registry.hpp"
#include "gemm_sm90_common.cuh"
#include "ptx/all.cuh"
#include "tensor_map.hpp"

namespace tilesim::gemm::sm90 {

template <int BlockM, int BlockN, int Stages, int Consumers, int ClusterM, int ClusterN,
          int Raster, int MmaOrder, int PromoteOverlap>
struct Fp8Config {
  static constexpr int block_m = BlockM, block_n = BlockN, block_k = kFp8ScaleGroup,
                       stages = Stages, consumers = Consumers, cluster_m = ClusterM,
                       cluster_n = ClusterN, raster = Raster, mma_order = MmaOrder,
                       promote_overlap = PromoteOverlap;
  static constexpr int kTileSets = 1 + PromoteOverlap;  // wgmma accumulator sets
  // Named barriers: 0 = __syncthreads, 1..consumers = each consumer's epilogue,
  // 1 + consumers + w = consumer w's turn to issue (mma_order).
  static constexpr int kEpilogueBar = 1, kOrderBar = 1 + Consumers;
  static constexpr int kThreads = kWarpgroupThreads * (1 + Consumers);
  static constexpr int kClusterSize = ClusterM * ClusterN;
  static constexpr int kElemBytes = 1;  // e4m3
  static constexpr int kWgmmaK = 32;    // wgmma K for 8-bit inputs
  static constexpr int kRowsPerConsumer = BlockM / Consumers;
  static constexpr int kMmaPerK = kRowsPerConsumer / kWgmmaM;  // m64 blocks per consumer
  static constexpr int kABytes = BlockM * block_k * kElemBytes;
  static constexpr int kBBytes = BlockN * block_k * kElemBytes;
  static constexpr int kSfaBytes = BlockM * 4;  // fp32 row scales of one K group
  static constexpr int kStageBytes = kABytes + kBBytes + kSfaBytes;
  static constexpr int kABoxRows = BlockM / ClusterN;
  static constexpr int kBBoxRows = BlockN / ClusterM;
  static constexpr int kBarrierBytes = 2 * Stages * 8;
  static constexpr int kSmemBytes = kSwizzleAlign + Stages * (kABytes + kBBytes) +
                                    Consumers * kEpiBufs * kEpiBufBytes + Stages * kSfaBytes +
                                    kBarrierBytes;
  // With three consumers the producer drops to setmaxnreg's minimum of 24 (its TMA issue
  // loop fits) so that each consumer gets 160 (24 + 3 x 160 <= 64K / 128 threads).
  static constexpr int kProducerRegs = Consumers > 2 ? ptx::kSetmaxnregMin : sm90::kProducerRegs;
  static constexpr int kConsumerRegs = consumer_regs(Consumers, kProducerRegs);
  // mma_order = 2 commits a K group's wgmmas in two halves so that the turn can be handed on
  // once the first half is done (wgmma.wait_group 1).
  static constexpr int kWgmmaPerGroup = block_k / kWgmmaK;
  static constexpr int kTurnAfterHalf = MmaOrder == 2;
  static constexpr int kAccPerSet = kMmaPerK * BlockN / 2;  // fp32 per thread per set
  // Registers a consumer needs besides its accumulator sets (addresses, scales, loop
  // state): the 3-consumer 192x128 tile (128 accumulators) compiles in 160 with no spills.
  static constexpr int kConsumerOverheadRegs = 32;
  static constexpr int kTmaSmemAlign = 128;  // shared destination of a non-swizzled TMA box

  static_assert(block_k * kElemBytes == kSwizzleRowBytes, "block_k = one 128-byte swizzle row");
  static_assert(Consumers >= 1 && Consumers <= 3, "consumers must be 1..3");
  static_assert(BlockM % (Consumers * kWgmmaM) == 0,
                "block_m / consumers must be a multiple of 64");
  static_assert(BlockN % kEpiTile == 0 && BlockN <= 256, "block_n must be 64, 128, 192 or 256");
  static_assert(BlockN <= kFp8ScaleGroup || BlockN % kFp8ScaleGroup != 0 ||
                    BlockN == 2 * kFp8ScaleGroup,
                "a tile spans at most two 128-column scale blocks of B");
  static_assert(kClusterSize >= 1 && kClusterSize <= 2, "cluster of 1 or 2 CTAs");
  static_assert(kABoxRows % 8 == 0 && kBBoxRows % 8 == 0, "multicast slices of whole 8-row atoms");
  static_assert(kABoxRows <= 256 && kBBoxRows <= 256 && BlockM <= 256, "TMA box rows <= 256");
  static_assert(Raster >= 1, "raster >= 1");
  static_assert(MmaOrder == 0 || ((MmaOrder == 1 || MmaOrder == 2) && Consumers > 1),
                "mma_order = 1 or 2 orders 2+ consumers' wgmma issue");
  static_assert(kOrderBar + Consumers <= 16, "16 named barriers per CTA");
  static_assert(PromoteOverlap == 0 || PromoteOverlap == 1, "promote_overlap is 0 or 1");
  static_assert(!(MmaOrder && PromoteOverlap), "mma_order and promote_overlap are alternatives");
  static_assert((kTileSets + 1) * kAccPerSet + kConsumerOverheadRegs <=
                    (Consumers > 1 ? kConsumerRegs : 255),
                "the accumulator sets (wgmma tile(s) + promoted sum) do not fit the consumer's registers");
  static_assert(kSfaBytes % kTmaSmemAlign == 0, "scale boxes stay 128-byte aligned");
  static constexpr int kMaxSmemOptin = 232448;  // 227 KB per block on sm_90
  static_assert(kSmemBytes <= kMaxSmemOptin, "shared memory over the 227 KB per-block limit");

  static std::string name() {
    return "sm90_fp8_" + std::to_string(BlockM) + "x" + std::to_string(BlockN) + "x" +
           std::to_string(block_k) + "_s" + std::to_string(Stages) + "_c" +
           std::to_string(Consumers) + "_cl" + std::to_string(ClusterM) + "x" +
           std::to_string(ClusterN) + "_r" + std::to_string(Raster) +
           (MmaOrder == 1 ? "_o" : MmaOrder == 2 ? "_o2" : "") +
           (PromoteOverlap ? "_p" : "");
  }
};

// Calls f(std::integral_constant<int, C>) with C = the number of a tile's columns that fall
// in its first 128-column scale block of B (the rest use the next block), given the tile's
// first column modulo 128 (a multiple of gcd(BN, 128)); C >= BN means one block. A tile
// column offset is a multiple of BN, so the cases are few: 128 % BN == 0 -> one (uniform),
// BN = 192 -> two (offset 0 or 64).
template <int BN, int kOffset = 0, class F>
__device__ __forceinline__ void with_first_cols(int col_in_block, F&& f) {
  constexpr int kStep = BN % kFp8ScaleGroup == 0 ? kFp8ScaleGroup : kEpiTile;
  static_assert(BN % kEpiTile == 0, "tile columns in 64-column steps");
  if constexpr (kFp8ScaleGroup % BN == 0) {
    f(std::integral_constant<int, BN>{});
  } else if constexpr (kOffset + kStep >= kFp8ScaleGroup) {
    f(std::integral_constant<int, kFp8ScaleGroup - kOffset>{});
  } else {
    if (col_in_block == kOffset) {
      f(std::integral_constant<int, kFp8ScaleGroup - kOffset>{});
    } else {
      with_first_cols<BN, kOffset + kStep>(col_in_block, f);
    }
  }
}

template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    gemm_sm90_fp8_kernel(const __grid_constant__ CUtensorMap tma_a,
                         const __grid_constant__ CUtensorMap tma_b,
                         const __grid_constant__ CUtensorMap tma_sfa,
                         const __grid_constant__ CUtensorMap tma_c,
                         const float* __restrict__ scale_b, int m, int n, int k, int splits,
                         int kb_per_split, float* __restrict__ partials, const StageTrace trace) {
  constexpr int BM = Cfg::block_m, BN = Cfg::block_n, BK = Cfg::block_k;
  constexpr int kStages = Cfg::stages, kCM = Cfg::cluster_m, kCN = Cfg::cluster_n;
  constexpr int kCluster = Cfg::kClusterSize;
  constexpr int kGroup = kFp8ScaleGroup;

  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = smem_u32(smem_raw);
  const uint32_t base = (raw + kSwizzleAlign - 1) & ~uint32_t(kSwizzleAlign - 1);
  uint8_t* smem = smem_raw + (base - raw);
  const uint32_t smem_a = base;
  const uint32_t smem_b = smem_a + kStages * Cfg::kABytes;
  const uint32_t smem_c = smem_b + kStages * Cfg::kBBytes;
  const uint32_t smem_sfa = smem_c + Cfg::consumers * kEpiBufs * kEpiBufBytes;
  const uint32_t bar_full = smem_sfa + kStages * Cfg::kSfaBytes;
  const uint32_t bar_empty = bar_full + kStages * 8;

  const int warpgroup = threadIdx.x / kWarpgroupThreads;
  const int tid_in_wg = threadIdx.x % kWarpgroupThreads;
  const uint32_t cta_rank = kCluster > 1 ? cluster_ctarank() : 0;
  const int m_rank = static_cast<int>(cta_rank) % kCM;
  const int n_rank = static_cast<int>(cta_rank) / kCM;
  const int cluster_id = blockIdx.x / kCluster;
  const int num_clusters = gridDim.x / kCluster;

  if (threadIdx.x == 0) {
    tma_prefetch_desc(&tma_a);
    tma_prefetch_desc(&tma_b);
    tma_prefetch_desc(&tma_sfa);
    tma_prefetch_desc(&tma_c);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(bar_full + 8 * s, 1);  // the local producer's arrive.expect_tx
      mbar_init(bar_empty + 8 * s, Cfg::consumers * 4 * kCluster);  // every consumer warp
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
  const int num_kb = (k + BK - 1) / BK;  // = K groups of the scales
  const int n_blocks = (n + kGroup - 1) / kGroup;
  // Work units = (split, tile) pairs, split-major (as gemm_sm90_ws); the host gives every
  // split at least one K group.
  const int num_units = num_ctiles * splits;

  if (warpgroup == 0) {
    // ------------------------------------------------------------------ producer
    if constexpr (Cfg::consumers > 1) setmaxnreg_dec<Cfg::kProducerRegs>();
    if (tid_in_wg == 0) {
      const uint16_t mask_a = multicast_mask_a<kCM, kCN>(m_rank);
      const uint16_t mask_b = multicast_mask_b<kCM, kCN>(n_rank);
      ptx::PipelineState ring;
      int step = 0;  // this CTA's K groups so far (the stage trace's index)
      span_mark(trace, true, cuda::kSpanFirstCycles);
      for (int u = cluster_id; u < num_units; u += num_clusters) {
        const int sp = u / num_ctiles;
        int ctm, ctn;
        raster_tile<Cfg::raster>(u - sp * num_ctiles, ctiles_m, ctiles_n, ctm, ctn);
        const int row_a = (ctm * kCM + m_rank) * BM;
        const int row_b = (ctn * kCN + n_rank) * BN;
        const int kb_end = min(num_kb, (sp + 1) * kb_per_split);
#pragma unroll 1  // one k-block per iteration, in the order the schedule describes
        for (int kb = sp * kb_per_split; kb < kb_end; ++kb) {
          const uint32_t full = bar_full + 8 * ring.index;
          mbar_wait(bar_empty + 8 * ring.index, ring.phase ^ 1);
          mbar_arrive_expect_tx(full, Cfg::kStageBytes);
          stage_mark(trace, true, step++, cuda::kMarkIssue);
          load_ab_stage<kCM, kCN, Cfg::kABoxRows, Cfg::kBBoxRows>(
              smem_a + ring.index * Cfg::kABytes, smem_b + ring.index * Cfg::kBBytes, &tma_a,
              &tma_b, full, kb * BK, row_a, row_b, m_rank, n_rank, mask_a, mask_b);
          // This CTA's own rows' scales (never multicast: the rows differ per CTA).
          tma_load_2d(smem_sfa + ring.index * Cfg::kSfaBytes, &tma_sfa, full, row_a, kb);
          ring.advance(kStages);
        }
      }
    }
    __syncwarp();
  } else {
    // ------------------------------------------------------------------ consumers
    if constexpr (Cfg::consumers > 1) setmaxnreg_inc<Cfg::kConsumerRegs>();
    const int cw = warpgroup - 1;
    const int warp = tid_in_wg / 32;
    const int lane = threadIdx.x % 32;
    const int r0 = warp * 16 + lane / 4;  // accumulator rows r0 and r0 + 8 of each m64 block
    constexpr int kSets = Cfg::kTileSets;
    float tile[kSets][Cfg::kMmaPerK][BN / 2];  // wgmma accumulators of one K group per set
    float sum[Cfg::kMmaPerK][BN / 2];          // promoted fp32 sum
    ptx::PipelineState ring;
    uint32_t epi_count = 0;
    const uint32_t cbuf = smem_c + cw * kEpiBufs * kEpiBufBytes;
    uint8_t* cbuf_gen = smem + (cbuf - base);
    const float* sfa_gen = reinterpret_cast<const float*>(smem + (smem_sfa - base));
    uint32_t groups_done = 0;  // K groups this consumer has issued (all tiles): mma_order
    const bool tracer = cw == 0 && tid_in_wg == 0;  // the stage trace's consumer marks

    for (int u = cluster_id; u < num_units; u += num_clusters) {
      const int sp = u / num_ctiles;
      int ctm, ctn;
      raster_tile<Cfg::raster>(u - sp * num_ctiles, ctiles_m, ctiles_n, ctm, ctn);
      const int tile_m = ctm * kCM + m_rank;
      const int tile_n = ctn * kCN + n_rank;
      const int col_base = tile_n * BN;
      const bool last_tile = u + num_clusters >= num_units;
      const int kb_begin = sp * kb_per_split;
      const int kb_end = min(num_kb, kb_begin + kb_per_split);
      // The tile's columns fall in at most two 128-column scale blocks of B: the first
      // columns (with_first_cols) in block nb0, the rest in the next (clamped at the last
      // block: columns past N are never stored).
      const int nb0 = col_base / kGroup;
      const float* sfb0 = scale_b + static_cast<size_t>(nb0) * num_kb;
      const float* sfb1 = scale_b + static_cast<size_t>(min(nb0 + 1, n_blocks - 1)) * num_kb;
      float sb[kSets][2];                // B scales (two column blocks) of the group each set holds
      float sa[kSets][Cfg::kMmaPerK][2];  // A scales of the thread's rows r0, r0 + 8, per set
      int stage_of[kSets];
      int step_of[kSets];  // the CTA's K group index of the group each set holds

#pragma unroll
      for (int mi = 0; mi < Cfg::kMmaPerK; ++mi)
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) sum[mi][i] = 0.f;

      // mma_order: hand the issue turn to the next consumer; the last consumer's final group
      // has no successor (a barrier must not be left half-arrived).
      auto hand_turn = [&](int kb) {
        const bool final_group = last_tile && kb == kb_end - 1;
        if (cw < Cfg::consumers - 1 || !final_group)
          named_bar_arrive(Cfg::kOrderBar + (cw + 1) % Cfg::consumers, 2 * kWarpgroupThreads);
      };

      // Issue K group kb's wgmmas into tile set S from the stage at the ring head. The B
      // scales are loaded first (their latency hides behind the barrier wait and the MMAs),
      // the row scales right after the wait: the promotion then waits for nothing but the
      // wgmmas.
      auto issue = [&](auto set, int kb) {
        constexpr int S = decltype(set)::value;
        sb[S][0] = __ldg(sfb0 + kb);
        sb[S][1] = __ldg(sfb1 + kb);
        mbar_wait(bar_full + 8 * ring.index, ring.phase);
        stage_mark(trace, tracer, static_cast<int>(groups_done), cuda::kMarkFull);
        const float* sfa = sfa_gen + ring.index * (Cfg::kSfaBytes / 4) + cw * Cfg::kRowsPerConsumer;
#pragma unroll
        for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) {
          sa[S][mi][0] = sfa[mi * kWgmmaM + r0];
          sa[S][mi][1] = sfa[mi * kWgmmaM + r0 + 8];
        }
        if constexpr (Cfg::mma_order) {
          // My turn: the previous consumer has issued this group (mma_order 1) or finished
          // its first half (mma_order 2); consumer 0 waits for the last consumer's previous
          // group, nothing to wait for at the start.
          if (cw > 0 || groups_done > 0) named_bar_sync(Cfg::kOrderBar + cw, 2 * kWarpgroupThreads);
        }
        wgmma_fence();
        const uint32_t a_base = smem_a + ring.index * Cfg::kABytes +
                                cw * Cfg::kRowsPerConsumer * kSwizzleRowBytes;
        const uint32_t b_base = smem_b + ring.index * Cfg::kBBytes;
#pragma unroll
        for (int kk = 0; kk < Cfg::kWgmmaPerGroup; ++kk) {
          // +32 B (one k32 step of e4m3) inside the swizzled 128 B row.
          const uint64_t desc_b = make_desc_sw128(b_base + kk * 32);
#pragma unroll
          for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) {
            const uint64_t desc_a =
                make_desc_sw128(a_base + mi * kWgmmaM * kSwizzleRowBytes + kk * 32);
            Wgmma<DType::e4m3, BN>::ss(tile[S][mi], desc_a, desc_b, kk > 0 ? 1 : 0);
          }
          if constexpr (Cfg::kTurnAfterHalf) {
            if (kk == Cfg::kWgmmaPerGroup / 2 - 1) wgmma_commit();
          }
        }
        wgmma_commit();
        if constexpr (Cfg::mma_order == 1) hand_turn(kb);
        step_of[S] = static_cast<int>(groups_done);
        ++groups_done;
        stage_of[S] = ring.index;
        ring.advance(kStages);
      };

      // Wait until at most `pending` groups are in flight (set S's group is done), hand its
      // stage back and promote it: sum += tile * scale_a[row] * scale_b[column block], one
      // FFMA each (the 4 combined scales of a thread's two rows x two column blocks first).
      // kFirstCols (compile time): the tile's columns that use the first B scale block, so
      // that the choice of scale per column costs no instruction.
      auto finish = [&](auto set, auto pending, int kb, auto first_cols) {
        constexpr int S = decltype(set)::value;
        constexpr int kFirstCols = decltype(first_cols)::value;
        if constexpr (Cfg::kTurnAfterHalf) {
          wgmma_wait<1>();  // the group's first half is done: the next consumer issues
          hand_turn(kb);
        }
        wgmma_wait<decltype(pending)::value>();
#pragma unroll
        for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) fence_operands(tile[S][mi]);
        release_stage<kCluster>(bar_empty + 8 * stage_of[S], lane);
        stage_mark(trace, tracer, step_of[S], cuda::kMarkRelease);
#pragma unroll
        for (int mi = 0; mi < Cfg::kMmaPerK; ++mi) {
          const float lo0 = sa[S][mi][0] * sb[S][0], lo1 = sa[S][mi][0] * sb[S][1];
          const float hi0 = sa[S][mi][1] * sb[S][0], hi1 = sa[S][mi][1] * sb[S][1];
#pragma unroll
          for (int j = 0; j < BN / 8; ++j) {
            const bool first = 8 * j < kFirstCols;
            const float s_lo = first ? lo0 : lo1, s_hi = first ? hi0 : hi1;
            const float* t = &tile[S][mi][j * 4];
            float* d = &sum[mi][j * 4];
            d[0] = fmaf(t[0], s_lo, d[0]);
            d[1] = fmaf(t[1], s_lo, d[1]);
            d[2] = fmaf(t[2], s_hi, d[2]);
            d[3] = fmaf(t[3], s_hi, d[3]);
          }
        }
      };
      using Set0 = std::integral_constant<int, 0>;
      using Set1 = std::integral_constant<int, kSets - 1>;
      using Wait0 = std::integral_constant<int, 0>;
      using Wait1 = std::integral_constant<int, 1>;

      auto main_loop = [&](auto first_cols) {
        if constexpr (kSets == 1) {
#pragma unroll 1  // as the producer loop: one k-block per iteration
          for (int kb = kb_begin; kb < kb_end; ++kb) {
            issue(Set0{}, kb);
            finish(Set0{}, Wait0{}, kb, first_cols);
          }
        } else {
          // Groups in pairs (set 0, set 1), one group always in flight while the previous
          // one is promoted.
          issue(Set0{}, kb_begin);
          int kb = kb_begin + 1;
#pragma unroll 1
          for (; kb + 1 < kb_end; kb += 2) {
            issue(Set1{}, kb);
            finish(Set0{}, Wait1{}, kb - 1, first_cols);
            issue(Set0{}, kb + 1);
            finish(Set1{}, Wait1{}, kb, first_cols);
          }
          if (kb < kb_end) {
            issue(Set1{}, kb);
            finish(Set0{}, Wait1{}, kb - 1, first_cols);
            finish(Set1{}, Wait0{}, kb, first_cols);
          } else {
            finish(Set0{}, Wait0{}, kb - 1, first_cols);
          }
        }
      };
      with_first_cols<BN>(col_base % kGroup, main_loop);

      const int row_base = tile_m * BM + cw * Cfg::kRowsPerConsumer;
      if (splits > 1) {  // split-K: the promoted fp32 sum as this split's partial tile
        store_partials_f32<Cfg::kMmaPerK, BN>(sum, partials + static_cast<size_t>(sp) * m * n, tid_in_wg,
                                              row_base, col_base, m, n);
        continue;
      }
      store_tile_bf16<Cfg::kMmaPerK, BN>(sum, &tma_c, cbuf, cbuf_gen, epi_count, Cfg::kEpilogueBar + cw,
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
inline std::string sm90_fp8_unsupported_reason(const GemmArgs& g) {
  if (g.m < 1 || g.n < 1 || g.k < 1) return "M, N, K must be >= 1";
  if (g.k % 16 != 0) return "K must be a multiple of 16 (TMA needs 16-byte rows of e4m3 A and B)";
  if (g.n % 8 != 0) return "N must be a multiple of 8 (TMA needs 16-byte rows of bf16 C)";
  if (g.fp8.a == nullptr || g.fp8.b == nullptr || g.fp8.scale_a == nullptr ||
      g.fp8.scale_b == nullptr)
    return "fp8 operands (e4m3 A, B and their scales) are not set";
  if (g.fp8.scale_a_ld < g.m || g.fp8.scale_a_ld % 4 != 0)
    return "scale_a leading dimension must be >= M and a multiple of 4 (16-byte TMA rows)";
  return "";
}

template <class Cfg>
Prepared sm90_fp8_prepare(const GemmArgs& g, int split_k) {
  const std::string why = sm90_fp8_unsupported_reason(g);
  if (!why.empty()) throw std::invalid_argument(Cfg::name() + ": " + why);
  auto kernel = gemm_sm90_fp8_kernel<Cfg>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const int k_groups = (g.k + kFp8ScaleGroup - 1) / kFp8ScaleGroup;
  const CUtensorMap map_a =
      cuda::make_tensor_map_e4m3_sw128(g.fp8.a, g.m, g.k, Cfg::kABoxRows, Cfg::block_k);
  const CUtensorMap map_b =
      cuda::make_tensor_map_e4m3_sw128(g.fp8.b, g.n, g.k, Cfg::kBBoxRows, Cfg::block_k);
  // scale_a as a [k_groups][M] matrix (row stride scale_a_ld): one box = block_m rows' scales
  // of one group; rows past M read as zeros (their outputs are clipped by the store).
  const CUtensorMap map_sfa =
      cuda::make_tensor_map_f32(g.fp8.scale_a, k_groups, g.m, g.fp8.scale_a_ld, 1, Cfg::block_m);
  const CUtensorMap map_c =
      cuda::make_tensor_map_bf16_sw128(g.c, g.m, g.n, kEpiTile, kEpiTile);

  const int tiles_m = (g.m + Cfg::block_m - 1) / Cfg::block_m;
  const int tiles_n = (g.n + Cfg::block_n - 1) / Cfg::block_n;
  const int ctiles = ((tiles_m + Cfg::cluster_m - 1) / Cfg::cluster_m) *
                     ((tiles_n + Cfg::cluster_n - 1) / Cfg::cluster_n);
  const SplitK sk = SplitK::make(k_groups, split_k, g.m, g.n);
  const int splits = sk.splits, kb_per_split = sk.kb_per_split;
  const PersistentGrid pg = persistent_grid(kernel, Cfg::name(), Cfg::kThreads, Cfg::kSmemBytes,
                                            Cfg::kClusterSize, static_cast<long long>(ctiles) * splits,
                                            g.reserve_sms);
  const unsigned grid = pg.grid_ctas;
  const float* sfb = g.fp8.scale_b;
  const int m = g.m, n = g.n, k = g.k;
  const StageTrace trace = g.stage_trace;
  Prepared p;
  p.launch_info = {{"grid_ctas", grid},
                   {"threads_per_cta", Cfg::kThreads},
                   {"smem_bytes", Cfg::kSmemBytes},
                   {"cluster_ctas", Cfg::kClusterSize},
                   {"resident_clusters", pg.resident_clusters},
                   {"output_tiles", tiles_m * tiles_n},
                   {"k_groups", k_groups},
                   {"split_k", splits},
                   {"k_steps_per_item", kb_per_split},  // one K step = one scale group
                   {"workspace_bytes", sk.workspace_bytes()}};
  p.launch = [=](cudaStream_t stream) {
    launch_clustered(kernel, grid, Cfg::kThreads, Cfg::kSmemBytes, Cfg::kClusterSize, stream,
                     map_a, map_b, map_sfa, map_c, sfb, m, n, k, splits, kb_per_split,
                     sk.partials.get(), trace);
    sk.reduce(stream, g.c);
  };
  return p;
}

template <int BM, int BN, int BK, int S, int C, int CM, int CN, int R, int O, int P>
KernelEntry sm90_fp8_entry(int split_k = 1) {
  static_assert(BK == kFp8ScaleGroup, "gemm_sm90_fp8: block_k is the 128-wide scale group");
  using Cfg = Fp8Config<BM, BN, S, C, CM, CN, R, O, P>;
  if (split_k < 1) throw std::invalid_argument("split_k must be >= 1");
  KernelEntry e;
  e.name = Cfg::name() + (split_k > 1 ? "_sk" + std::to_string(split_k) : "");
  e.schedule = "gemm_sm90_fp8";
  e.dtype = "fp8";
  e.tile = {{"block_m", BM},   {"block_n", BN},  {"block_k", BK},
            {"stages", S},     {"consumers", C}, {"cluster_m", CM},
            {"cluster_n", CN}, {"raster", R},    {"mma_order", O},
            {"promote_overlap", P}, {"split_k", split_k}};
  e.unsupported_reason = sm90_fp8_unsupported_reason;
  e.prepare = [split_k](const GemmArgs& g) { return sm90_fp8_prepare<Cfg>(g, split_k); };
  return e;
}

}  // namespace tilesim::gemm::sm90
