// FA3-style forward attention for Hopper (schedule "attn_fa3"), sm_90a.
//
// A tile = (batch, head, block_m=128 query rows); one CTA per tile, or (persistent) one
// CTA per SM looping over tiles. 3 warpgroups:
//   WG0      producer: one thread issues TMA loads of Q once and of K/V per KV block into
//            a `stages`-deep ring (full/empty mbarriers per stage, K and V separate so
//            S = Q K^T can start before V lands). It gives registers away (setmaxnreg 24).
//   WG1, WG2 consumers, 64 query rows each (setmaxnreg 240): S = Q K^T with wgmma
//            (both operands in SMEM, 128B-swizzled), online softmax in registers, then
//            O += P V with P from registers as the wgmma A operand and V read MN-major.
// pingpong: named barriers make the two consumers take turns issuing their GEMMs, so
//   one warpgroup's softmax (MUFU/FMA) overlaps the other's tensor-core work.
// intra_overlap: within a warpgroup, S_{n+1} = Q K_{n+1}^T and O += P_n V_n are both
//   in flight while the softmax of S_{n+1} runs (FA3 paper, Algorithm 2).
// KV blocks are visited from the last to the first, so the blocks that need masking
// (sequence tail, causal diagonal) come first and the rest run unmasked; causal CTAs
// never touch KV blocks that are fully above the diagonal, and start with the longest
// rows (reverse m order) to balance the tail of the grid.
// persistent: the K/V ring position and the Q barrier phase carry over between tiles; a
//   q_empty barrier (both consumers done with their last Q K^T) lets the producer load the
//   next tile's Q and first K/V blocks while the consumers finish the current tile.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "attn_types.hpp"
#include "cuda_check.hpp"
#include "ptx/all.cuh"
#include "softmax.cuh"
#include "tensor_map.hpp"

namespace tilesim::attention {

// Compile-time tile configuration; member names are the model's attn_fa3 parameter names.
template <int HeadDim, int BlockN, int Stages, int Pingpong, int IntraOverlap, int EmuPercent,
          int RescaleThresholdLog2, int Persistent = 0>
struct Fa3Config {
  static constexpr int head_dim = HeadDim;
  static constexpr int block_m = 128;  // 2 consumer warpgroups x 64 rows
  static constexpr int block_n = BlockN;
  static constexpr int stages = Stages;
  static constexpr int consumers = 2;
  static constexpr bool pingpong = Pingpong != 0;
  static constexpr bool intra_overlap = IntraOverlap != 0;
  static constexpr int exp_emu_percent = EmuPercent;
  static constexpr float exp_emu_fraction = EmuPercent / 100.0f;
  static constexpr int rescale_threshold = RescaleThresholdLog2;
  // Not a model parameter: 1 = one CTA per SM looping over tiles (next tile's loads overlap
  // this tile's last blocks and epilogue); 0 = one CTA per tile.
  static constexpr bool persistent = Persistent != 0;

  static constexpr int kPanels = HeadDim / 64;  // 64-column (128-byte) swizzle panels
  static constexpr int kPanelRowBytes = 128;
  static constexpr int kQPanelBytes = block_m * kPanelRowBytes;
  static constexpr int kKVPanelBytes = block_n * kPanelRowBytes;
  static constexpr int kQBytes = kPanels * kQPanelBytes;
  static constexpr int kKVBytes = kPanels * kKVPanelBytes;  // one K (or V) tile
  static constexpr int kAlignSlack = 1024;                  // 128B swizzle needs 1024-B alignment
  static constexpr int kSmemBytes = kQBytes + 2 * stages * kKVBytes + kAlignSlack;
  static constexpr int kThreads = 384;
  static_assert(HeadDim == 64 || HeadDim == 128, "head_dim 64 or 128");
  static_assert(BlockN % 16 == 0 && BlockN <= 256,
                "block_n: multiple of 16, at most 256 (TMA box)");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory over the 227 KB per-block limit");
};

namespace fa3_detail {

constexpr int kProducerRegs = 24;
constexpr int kConsumerRegs = 240;  // 128*24 + 256*240 = 64512 <= 65536 registers per SM
constexpr int kBarConsumer0 = 1;    // named barrier ids 1, 2: pingpong turns (0 = __syncthreads)
constexpr int kPingpongThreads = 256;

template <class Cfg>
__device__ __forceinline__ void gemm_qk(float (&s)[Cfg::block_n / 2], uint32_t q_base,
                                        uint32_t k_base) {
  using namespace ::tilesim::ptx;
  fence_operands(s);
  wgmma_fence();
#pragma unroll
  for (int ks = 0; ks < Cfg::head_dim / 16; ++ks) {
    const uint32_t koff = (ks % 4) * 32;  // 16-column K step inside a 128-byte swizzle row
    const uint64_t da = make_desc_sw128(q_base + (ks / 4) * Cfg::kQPanelBytes + koff, 16, 1024);
    const uint64_t db = make_desc_sw128(k_base + (ks / 4) * Cfg::kKVPanelBytes + koff, 16, 1024);
    Wgmma<DType::bf16, Cfg::block_n>::ss(s, da, db, ks > 0 ? 1 : 0);
  }
  wgmma_commit();
  fence_operands(s);
}

template <class Cfg>
__device__ __forceinline__ void gemm_pv(float (&o)[Cfg::head_dim / 2],
                                        uint32_t (&p)[Cfg::block_n / 16][4], uint32_t v_base) {
  using namespace ::tilesim::ptx;
  fence_operands(o);
  wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < Cfg::block_n / 16; ++kk) {
    // 16 KV rows = 2 groups of 8 rows (1024 B each); LBO = stride between 64-column panels.
    const uint64_t db = make_desc_sw128(v_base + kk * 2048, Cfg::kKVPanelBytes, 1024);
    // V is read MN-major: transpose-B immediate 1.
    Wgmma<DType::bf16, Cfg::head_dim>::template rs<1>(o, p[kk], db, 1);
  }
  wgmma_commit();
  fence_operands(o);
}

}  // namespace fa3_detail

// Tile t -> (m_block, head, batch). m runs fastest so that CTAs running at the same time
// share one head's K/V in L2; causal tiles go longest-first (m reversed) to balance the end.
struct TileCoord {
  int m_block, h, b;
};
__device__ __forceinline__ TileCoord decode_tile(int t, int num_m, int heads, bool causal) {
  const int m = t % num_m, hb = t / num_m;
  return {causal ? num_m - 1 - m : m, hb % heads, hb / heads};
}

template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    fa3_fwd_kernel(const __grid_constant__ CUtensorMap tm_q,
                   const __grid_constant__ CUtensorMap tm_k,
                   const __grid_constant__ CUtensorMap tm_v, const AttnArgs args) {
  using namespace ::tilesim::ptx;
  using namespace fa3_detail;
  constexpr int D = Cfg::head_dim, BM = Cfg::block_m, BN = Cfg::block_n, S = Cfg::stages;

  extern __shared__ __align__(1024) uint8_t smem_raw[];
  __shared__ __align__(8) uint64_t bar_q_full, bar_q_empty;
  __shared__ __align__(8) uint64_t bar_k_full[S], bar_v_full[S], bar_k_empty[S], bar_v_empty[S];

  const uint32_t raw_addr = smem_u32(smem_raw);
  uint8_t* smem = smem_raw + ((1024u - (raw_addr & 1023u)) & 1023u);
  uint8_t* q_smem = smem;
  uint8_t* k_smem = q_smem + Cfg::kQBytes;
  uint8_t* v_smem = k_smem + S * Cfg::kKVBytes;

  const AttnProblem& pr = args.prob;
  const int num_m = (pr.seq_q + BM - 1) / BM;
  const int num_tiles = num_m * pr.heads_q * pr.batch;
  const int group = pr.heads_q / pr.heads_kv;
  // KV blocks of a tile: all of them, or (causal) those at or below the diagonal.
  auto kv_blocks = [&](int m_block) {
    int n = (pr.seq_kv + BN - 1) / BN;
    if (pr.causal) n = min(n, ((m_block + 1) * BM + BN - 1) / BN);
    return n;
  };

  const int wg = threadIdx.x / 128;
  if (threadIdx.x == 0) {
    clock_span_mark(args.clock_span, cuda::kSpanFirstCycles);
    mbar_init(smem_u32(&bar_q_full), 1);
    mbar_init(smem_u32(&bar_q_empty), Cfg::consumers);
#pragma unroll
    for (int s = 0; s < S; ++s) {
      mbar_init(smem_u32(&bar_k_full[s]), 1);
      mbar_init(smem_u32(&bar_v_full[s]), 1);
      mbar_init(smem_u32(&bar_k_empty[s]), Cfg::consumers);
      mbar_init(smem_u32(&bar_v_empty[s]), Cfg::consumers);
    }
    fence_mbar_init();
  }
  __syncthreads();

  // Non-persistent: one tile per CTA (gridDim.x == num_tiles). Persistent: one CTA per SM
  // strides over the tiles; the K/V ring position `ring` and the Q phase carry over from
  // tile to tile, so the producer loads the next tile while the consumers finish this one.
  if (wg == 0) {
    // ---------------- producer ----------------
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0) {
      tma_prefetch_desc(&tm_q);
      tma_prefetch_desc(&tm_k);
      tma_prefetch_desc(&tm_v);
      int ring = 0, tile_iter = 0;
      for (int t = blockIdx.x; t < num_tiles; t += gridDim.x, ++tile_iter) {
        const TileCoord tc = decode_tile(t, num_m, pr.heads_q, pr.causal);
        const int q_z = tc.b * pr.heads_q + tc.h, kv_z = tc.b * pr.heads_kv + tc.h / group;
        const int n_blocks = kv_blocks(tc.m_block);
        mbar_wait(smem_u32(&bar_q_empty),
                  (tile_iter & 1) ^ 1);  // both consumers done with the last Q
        mbar_arrive_expect_tx(smem_u32(&bar_q_full), Cfg::kQBytes);
#pragma unroll
        for (int p = 0; p < Cfg::kPanels; ++p)
          tma_load_3d(smem_u32(q_smem + p * Cfg::kQPanelBytes), &tm_q, smem_u32(&bar_q_full),
                      p * 64, tc.m_block * BM, q_z);
        for (int i = 0; i < n_blocks; ++i, ++ring) {
          const int n = n_blocks - 1 - i;
          const PipelineState st = PipelineState::at(ring, S);
          const int s = st.index;
          const uint32_t phase = st.phase;
          mbar_wait(smem_u32(&bar_k_empty[s]), phase ^ 1);
          mbar_arrive_expect_tx(smem_u32(&bar_k_full[s]), Cfg::kKVBytes);
#pragma unroll
          for (int p = 0; p < Cfg::kPanels; ++p)
            tma_load_3d(smem_u32(k_smem + s * Cfg::kKVBytes + p * Cfg::kKVPanelBytes), &tm_k,
                        smem_u32(&bar_k_full[s]), p * 64, n * BN, kv_z);
          mbar_wait(smem_u32(&bar_v_empty[s]), phase ^ 1);
          mbar_arrive_expect_tx(smem_u32(&bar_v_full[s]), Cfg::kKVBytes);
#pragma unroll
          for (int p = 0; p < Cfg::kPanels; ++p)
            tma_load_3d(smem_u32(v_smem + s * Cfg::kKVBytes + p * Cfg::kKVPanelBytes), &tm_v,
                        smem_u32(&bar_v_full[s]), p * 64, n * BN, kv_z);
        }
      }
    }
  } else {
    // ---------------- consumers ----------------
    setmaxnreg_inc<kConsumerRegs>();
    const int cw = wg - 1;
    const int tid = threadIdx.x % 128, warp = tid / 32, lane = tid % 32;
    const uint32_t q_base = smem_u32(q_smem) + cw * 64 * Cfg::kPanelRowBytes;
    const uint32_t k_base0 = smem_u32(k_smem), v_base0 = smem_u32(v_smem);

    auto turn_begin = [&]() {
      if constexpr (Cfg::pingpong) named_bar_sync(kBarConsumer0 + cw, kPingpongThreads);
    };
    auto turn_end = [&]() {
      if constexpr (Cfg::pingpong) named_bar_arrive(kBarConsumer0 + (1 - cw), kPingpongThreads);
    };
    if constexpr (Cfg::pingpong) {
      if (cw == 1) named_bar_arrive(kBarConsumer0 + 0, kPingpongThreads);  // consumer 0 goes first
    }

    int ring = 0, tile_iter = 0;
    for (int t = blockIdx.x; t < num_tiles; t += gridDim.x, ++tile_iter) {
      const TileCoord tc = decode_tile(t, num_m, pr.heads_q, pr.causal);
      const int n_blocks = kv_blocks(tc.m_block);
      const int row0 = tc.m_block * BM + cw * 64 + warp * 16 + lane / 4;
      const int rows[2] = {row0, row0 + 8};
      const int first_row_of_cta = tc.m_block * BM;
      auto needs_mask = [&](int n) {
        const int col0 = n * BN;
        return col0 + BN > pr.seq_kv || (pr.causal && col0 + BN - 1 > first_row_of_cta);
      };

      float o[D / 2];
#pragma unroll
      for (int j = 0; j < D / 2; ++j) o[j] = 0.f;
      float s_acc[BN / 2];
      uint32_t p_frag[BN / 16][4];
      OnlineSoftmax<BN, Cfg::exp_emu_percent, Cfg::rescale_threshold> sm;
      float corr[2];
      auto softmax_block = [&](int n) -> bool {
        if (needs_mask(n)) apply_mask<BN>(s_acc, n * BN, rows, pr.seq_kv, pr.causal);
        return sm.step(s_acc, args.scale_log2, corr);
      };
      auto stage = [&](int i) { return PipelineState::at(ring + i, S).index; };
      auto phase = [&](int i) { return PipelineState::at(ring + i, S).phase; };

      mbar_wait(smem_u32(&bar_q_full), tile_iter & 1);

      if constexpr (Cfg::intra_overlap) {
        // Block i = 0 (KV block n_blocks-1): S, softmax, P; its PV is issued next iteration.
        mbar_wait(smem_u32(&bar_k_full[stage(0)]), phase(0));
        turn_begin();
        gemm_qk<Cfg>(s_acc, q_base, k_base0 + stage(0) * Cfg::kKVBytes);
        turn_end();
        wgmma_wait<0>();
        fence_operands(s_acc);
        if (tid == 0) mbar_arrive(smem_u32(&bar_k_empty[stage(0)]));
        softmax_block(n_blocks - 1);  // nothing accumulated in O yet: no rescale needed
        pack_p<BN>(s_acc, p_frag);
        for (int i = 1; i < n_blocks; ++i) {
          const int n = n_blocks - 1 - i, s = stage(i), sp = stage(i - 1);
          mbar_wait(smem_u32(&bar_k_full[s]), phase(i));
          turn_begin();
          gemm_qk<Cfg>(s_acc, q_base, k_base0 + s * Cfg::kKVBytes);
          mbar_wait(smem_u32(&bar_v_full[sp]), phase(i - 1));
          gemm_pv<Cfg>(o, p_frag, v_base0 + sp * Cfg::kKVBytes);
          turn_end();
          wgmma_wait<1>();  // S_i done, PV_{i-1} may still run
          fence_operands(s_acc);
          if (tid == 0) mbar_arrive(smem_u32(&bar_k_empty[s]));
          const bool rescale = softmax_block(n);
          wgmma_wait<0>();
          fence_operands(o);
          fence_operands(p_frag);
          if (tid == 0) mbar_arrive(smem_u32(&bar_v_empty[sp]));
          if (rescale) rescale_rows(o, corr);
          pack_p<BN>(s_acc, p_frag);
        }
        if (tid == 0)
          mbar_arrive(smem_u32(&bar_q_empty));  // every Q K^T of this tile has completed
        const int sl = stage(n_blocks - 1);
        mbar_wait(smem_u32(&bar_v_full[sl]), phase(n_blocks - 1));
        turn_begin();
        gemm_pv<Cfg>(o, p_frag, v_base0 + sl * Cfg::kKVBytes);
        turn_end();
        wgmma_wait<0>();
        fence_operands(o);
        fence_operands(p_frag);
        if (tid == 0) mbar_arrive(smem_u32(&bar_v_empty[sl]));
      } else {
        for (int i = 0; i < n_blocks; ++i) {
          const int n = n_blocks - 1 - i, s = stage(i);
          mbar_wait(smem_u32(&bar_k_full[s]), phase(i));
          turn_begin();
          gemm_qk<Cfg>(s_acc, q_base, k_base0 + s * Cfg::kKVBytes);
          turn_end();
          wgmma_wait<0>();
          fence_operands(s_acc);
          if (tid == 0) mbar_arrive(smem_u32(&bar_k_empty[s]));
          if (softmax_block(n)) rescale_rows(o, corr);
          pack_p<BN>(s_acc, p_frag);
          mbar_wait(smem_u32(&bar_v_full[s]), phase(i));
          gemm_pv<Cfg>(o, p_frag, v_base0 + s * Cfg::kKVBytes);
          wgmma_wait<0>();
          fence_operands(o);
          fence_operands(p_frag);
          if (tid == 0) mbar_arrive(smem_u32(&bar_v_empty[s]));
        }
        if (tid == 0) mbar_arrive(smem_u32(&bar_q_empty));
      }
      ring += n_blocks;

      float inv[2];
      sm.finish(inv);
      __nv_bfloat16* o_head = args.o + static_cast<size_t>(tc.b * pr.heads_q + tc.h) * pr.seq_q * D;
      store_o<D>(o, inv, rows, pr.seq_q, o_head);
    }
    if (cw == 0 && tid == 0) clock_span_mark(args.clock_span, cuda::kSpanLastCycles);
    // Consumer 1's last turn_end() arrives on consumer 0's barrier: take it, so no
    // named-barrier arrival is left pending when the CTA exits.
    if constexpr (Cfg::pingpong) {
      if (cw == 0) named_bar_sync(kBarConsumer0 + 0, kPingpongThreads);
    }
  }
}

// ---- host side ------------------------------------------------------------------------

// [batch*heads][seq][head_dim] bf16 as a 3-D map (innermost first), boxes of 64 columns x
// box_rows rows x 1 head. Rows past `seq` are out of bounds of dim 1 and read as zeros, so
// a tile never bleeds into the next head.
inline CUtensorMap make_tensor_map_3d(const __nv_bfloat16* base, int head_dim, int seq,
                                      int heads_total, int box_rows) {
  const cuuint64_t dims[3] = {static_cast<cuuint64_t>(head_dim), static_cast<cuuint64_t>(seq),
                              static_cast<cuuint64_t>(heads_total)};
  const cuuint64_t strides[2] = {
      static_cast<cuuint64_t>(head_dim) * 2,
      static_cast<cuuint64_t>(head_dim) * 2 * static_cast<cuuint64_t>(seq)};
  const cuuint32_t box[3] = {64, static_cast<cuuint32_t>(box_rows), 1};
  return cuda::make_tensor_map_bf16_sw128(base, 3, dims, strides, box);
}

// Builds the tensor maps once and returns the launch (so timing excludes host set-up).
template <class Cfg>
std::function<void(cudaStream_t)> prepare_fa3(const AttnArgs& a) {
  validate(a.prob);
  if (a.prob.head_dim != Cfg::head_dim)
    throw std::invalid_argument("fa3: head_dim does not match the instantiation");
  const AttnProblem& p = a.prob;
  const CUtensorMap tq =
      make_tensor_map_3d(a.q, p.head_dim, p.seq_q, p.batch * p.heads_q, Cfg::block_m);
  const CUtensorMap tk =
      make_tensor_map_3d(a.k, p.head_dim, p.seq_kv, p.batch * p.heads_kv, Cfg::block_n);
  const CUtensorMap tv =
      make_tensor_map_3d(a.v, p.head_dim, p.seq_kv, p.batch * p.heads_kv, Cfg::block_n);
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(
      fa3_fwd_kernel<Cfg>, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const long long num_tiles =
      static_cast<long long>((p.seq_q + Cfg::block_m - 1) / Cfg::block_m) * p.heads_q * p.batch;
  if (num_tiles > 0x7fffffffLL) throw std::invalid_argument("fa3: too many tiles for one grid");
  int device = 0, sms = 0;
  TILESIM_CUDA_CHECK(cudaGetDevice(&device));
  TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const dim3 grid(
      static_cast<unsigned>(Cfg::persistent ? std::min<long long>(num_tiles, sms) : num_tiles));
  return [=](cudaStream_t stream) {
    fa3_fwd_kernel<Cfg><<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(tq, tk, tv, a);
  };
}

}  // namespace tilesim::attention
