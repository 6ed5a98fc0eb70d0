// MLA decode, KV rows on the wgmma M dimension (the FlashMLA-ETAP arrangement), sm_90a.
//
// With few query rows (16..64 heads x q_per_seq) heads-on-M pads M to 64; here the 64 KV
// rows of a page are M and the kN query rows are N (16, 32 or 64: no padding to 64):
//   WG1: S^T = K Q^T (64 x kN, K = 576: 36 wgmma m64nNk16; A = the page, B = Q, both
//        K-major in shared memory), mask, online softmax down each column (a query row):
//        column max over the 16 rows of a warp by shuffles, over the 4 warps through
//        shared memory (the extra reduction this layout costs); row sums stay per thread
//        until the end. P^T -> shared memory as [kN][64 KV] bf16, swizzled (the B operand).
//   WG1, WG2: O^T[d, n] = O^T * corr[n] + V^T P^T, d = 256 output columns each as 4
//        m64nN tiles (A = V^T: the page's panels read MN-major with wgmma's transpose-A;
//        B = P^T from shared memory, K-major).
// Each thread's accumulator columns (query rows) are the same in S^T and O^T, so the
// rescale factor a thread computes for a column is the one its O^T columns need. O^T is
// written to global memory straight from the registers (no transpose pass).
// More than kN query rows: several CTAs (grid x), kN rows each.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>

#include <cstdint>

#include "mla_common.cuh"
#include "softmax.cuh"

namespace tilesim::mla {

template <int kN, int kStages>
struct KvOnMTraits {
  using Sm = MlaSmem<kN, kStages>;
  static constexpr int kMTilesPerConsumer = kHeadDimV / 2 / 64;  // 4 m64 tiles of V^T each
  static constexpr int kCols = kN / 4;                           // query columns per thread
  static_assert(kN == 16 || kN == 32 || kN == 64, "query rows per CTA: 16, 32 or 64");
};

template <int kN, int kStages>
__global__ void __launch_bounds__(384, 1)
    mla_kv_on_m_kernel(const __grid_constant__ CUtensorMap tm_q, const __grid_constant__ CUtensorMap tm_kv,
                       const MlaParams p) {
  using namespace ::tilesim::ptx;
  using T = KvOnMTraits<kN, kStages>;
  using Sm = typename T::Sm;
  constexpr int kS = kStages, kMT = T::kMTilesPerConsumer, kC = T::kCols;
  constexpr int kWarps = 4;

  extern __shared__ __align__(1024) std::uint8_t smem_raw[];
  __shared__ __align__(8) std::uint64_t bar_q, kv_full[kS], kv_empty[kS];
  // Per-warp column max (loop), column sums (epilogue), then 1/l in red[0] and the LSE in
  // red[1] (each written by the one thread that summed that column).
  __shared__ float red[kWarps][kN];
  __shared__ float col_corr[kN];  // rescale factors of the current block, for WG2
  __shared__ int col_limit[kN];   // KV rows visible to each query column (0: padding)
  std::uint8_t* smem = smem_raw + ((1024u - (smem_u32(smem_raw) & 1023u)) & 1023u);
  std::uint8_t* q_smem = smem;
  std::uint8_t* kv_smem = q_smem + Sm::kQBytes;
  std::uint8_t* pt_smem = kv_smem + kS * Sm::kKvBytes;

  const int n_block = blockIdx.x, split = blockIdx.y, b = blockIdx.z;
  const SplitRange range = split_range(p, b, split);
  const int wg = threadIdx.x / 128;
  if (threadIdx.x == 0) {
    mbar_init(smem_u32(&bar_q), 1);
    for (int s = 0; s < kS; ++s) {
      mbar_init(smem_u32(&kv_full[s]), 1);
      mbar_init(smem_u32(&kv_empty[s]), 2);
    }
    fence_mbar_init();
  }
  __syncthreads();

  if (wg == 0) {
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0)
      produce<Sm, kS>(&tm_q, &tm_kv, q_smem, kv_smem, &bar_q, kv_full, kv_empty, p, b, n_block * kN, range);
    return;
  }
  setmaxnreg_inc<kConsumerRegs>();
  const int cw = wg - 1;
  const int tid = threadIdx.x % 128, warp = tid / 32, lane = tid % 32;
  // Accumulator fragment of m64nN: element 4 jb + 2 h + e is (row 16 warp + lane/4 + 8 h,
  // column 8 jb + 2 (lane % 4) + e). Column index ci = 2 jb + e of this thread.
  auto col_of = [&](int ci) { return 8 * (ci / 2) + 2 * (lane % 4) + (ci % 2); };
  const int kv_row[2] = {warp * 16 + lane / 4, warp * 16 + lane / 4 + 8};
  const std::uint32_t q_base = smem_u32(q_smem), pt_base = smem_u32(pt_smem);

  float o[kMT][kN / 2];
#pragma unroll
  for (int t = 0; t < kMT; ++t)
#pragma unroll
    for (int j = 0; j < kN / 2; ++j) o[t][j] = 0.f;
  float m_col[kC], l_col[kC], corr[kC];  // WG1: running max (log2 units) and partial sums
#pragma unroll
  for (int ci = 0; ci < kC; ++ci) {
    m_col[ci] = -INFINITY;
    l_col[ci] = 0.f;
    corr[ci] = 1.f;
  }

  if (cw == 0) {
    for (int n = tid; n < kN; n += kOneWarpgroup) col_limit[n] = visible_kv(p, range.len, n_block * kN + n);
    named_bar_sync(kBarWg1, kOneWarpgroup);
    if (range.count > 0) mbar_wait(smem_u32(&bar_q), 0);
  }
  PipelineState st;
  for (int i = 0; i < range.count; ++i, st.advance(kS)) {
    const int kv0 = (range.first + i) * kPageSize;
    std::uint8_t* page = kv_smem + st.index * Sm::kKvBytes;
    const std::uint32_t page_base = smem_u32(page);
    mbar_wait(smem_u32(&kv_full[st.index]), st.phase);
    if (cw == 0) {
      if (kv0 + kPageSize > range.len) {
        zero_tail_rows<Sm>(page, range.len - kv0, tid);
        fence_proxy_async_shared();
        named_bar_sync(kBarWg1, kOneWarpgroup);
      }
      float s[kN / 2];
      fence_operands(s);
      wgmma_fence();
#pragma unroll
      for (int ks = 0; ks < kHeadDimQk / 16; ++ks) {
        const std::uint32_t koff = (ks % 4) * 32;
        const std::uint64_t da = make_desc_sw128(page_base + (ks / 4) * Sm::kKvPanelBytes + koff, 16, 1024);
        const std::uint64_t db = make_desc_sw128(q_base + (ks / 4) * Sm::kQPanelBytes + koff, 16, 1024);
        Wgmma<DType::bf16, kN>::ss(s, da, db, ks > 0 ? 1 : 0);
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_operands(s);
      // Mask, then the column max: own 2 rows, the 8 lanes of a column (lane bits 2..4),
      // then the 4 warps through shared memory.
      float mx[kC];
#pragma unroll
      for (int ci = 0; ci < kC; ++ci) {
        const int lim = col_limit[col_of(ci)];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          float& x = s[4 * (ci / 2) + 2 * h + (ci % 2)];
          if (kv0 + kv_row[h] >= lim) x = -INFINITY;
        }
        mx[ci] = fmaxf(s[4 * (ci / 2) + (ci % 2)], s[4 * (ci / 2) + 2 + (ci % 2)]);
#pragma unroll
        for (int off = 4; off < 32; off *= 2) mx[ci] = fmaxf(mx[ci], __shfl_xor_sync(0xffffffffu, mx[ci], off));
        if (lane < 4) red[warp][col_of(ci)] = mx[ci];
      }
      named_bar_sync(kBarWg1, kOneWarpgroup);
#pragma unroll
      for (int ci = 0; ci < kC; ++ci) {
        const int n = col_of(ci);
        const float m_blk = fmaxf(fmaxf(red[0][n], red[1][n]), fmaxf(red[2][n], red[3][n])) * p.scale_log2;
        corr[ci] = 1.f;
        if (m_blk > m_col[ci]) {
          corr[ci] = attention::exp2_mufu(m_col[ci] - m_blk);  // -inf - finite: 0
          m_col[ci] = m_blk;
        }
        const float base = m_col[ci] == -INFINITY ? 0.f : m_col[ci];
        float sum = 0.f;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          float& x = s[4 * (ci / 2) + 2 * h + (ci % 2)];
          x = attention::exp2_mufu(fmaf(x, p.scale_log2, -base));
          sum += x;
        }
        l_col[ci] = fmaf(l_col[ci], corr[ci], sum);
      }
      // P^T [n][kv] to shared memory once WG2 has read the previous block's.
      if (i > 0) named_bar_sync(kBarPEmpty, kTwoConsumers);
#pragma unroll
      for (int ci = 0; ci < kC; ++ci) {
        const int n = col_of(ci);
#pragma unroll
        for (int h = 0; h < 2; ++h)
          *reinterpret_cast<__nv_bfloat16*>(pt_smem + sw128_offset(n, kv_row[h])) =
              __float2bfloat16_rn(s[4 * (ci / 2) + 2 * h + (ci % 2)]);
        if (warp == 0 && lane < 4) col_corr[n] = corr[ci];
      }
      fence_proxy_async_shared();
      named_bar_sync(kBarWg1, kOneWarpgroup);  // all of P^T written before WG1's own wgmma
      named_bar_arrive(kBarPFull, kTwoConsumers);
    } else {
      named_bar_sync(kBarPFull, kTwoConsumers);
#pragma unroll
      for (int ci = 0; ci < kC; ++ci) corr[ci] = col_corr[col_of(ci)];
    }
    // Both consumers: O^T = O^T * corr + V^T P^T over this consumer's 4 m64 tiles of V^T.
#pragma unroll
    for (int t = 0; t < kMT; ++t)
#pragma unroll
      for (int j = 0; j < kN / 2; ++j) o[t][j] *= corr[2 * (j / 4) + (j % 2)];
    fence_operands(o);
    wgmma_fence();
#pragma unroll
    for (int t = 0; t < kMT; ++t) {
      const std::uint32_t v_panel = page_base + (cw * kMT + t) * Sm::kKvPanelBytes;
#pragma unroll
      for (int kk = 0; kk < kPageSize / 16; ++kk) {
        // A = V^T: one 64-column panel (M = 64), read MN-major; 16 KV rows = 2 x 1024 B.
        const std::uint64_t da = make_desc_sw128(v_panel + kk * 2048, Sm::kKvPanelBytes, 1024);
        const std::uint64_t db = make_desc_sw128(pt_base + kk * 32, 16, 1024);
        Wgmma<DType::bf16, kN>::template ss<1, 0>(o[t], da, db, 1);
      }
    }
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(o);
    if (cw == 1 && i + 1 < range.count) named_bar_arrive(kBarPEmpty, kTwoConsumers);
    if (tid == 0) mbar_arrive(smem_u32(&kv_empty[st.index]));
  }

  // Column sums: the 8 lanes of a column, then the 4 warps; WG1 publishes 1/l and the LSE.
  if (cw == 0) {
    if (range.count > 0) named_bar_sync(kBarWg1, kOneWarpgroup);  // every read of red[] is done
#pragma unroll
    for (int ci = 0; ci < kC; ++ci) {
      float l = l_col[ci];
#pragma unroll
      for (int off = 4; off < 32; off *= 2) l += __shfl_xor_sync(0xffffffffu, l, off);
      if (lane < 4) red[warp][col_of(ci)] = l;
    }
    named_bar_sync(kBarWg1, kOneWarpgroup);
    if (warp == 0 && lane < 4) {
#pragma unroll
      for (int ci = 0; ci < kC; ++ci) {
        const int n = col_of(ci);
        const float l = red[0][n] + red[1][n] + red[2][n] + red[3][n];
        red[0][n] = l > 0.f ? 1.f / l : 0.f;
        red[1][n] = l > 0.f ? m_col[ci] + log2f(l) : -INFINITY;
      }
    }
  }
  named_bar_sync(kBarEpilogue, kTwoConsumers);
  const int64_t rows_all = static_cast<int64_t>(p.batch) * p.rows;
#pragma unroll
  for (int ci = 0; ci < kC; ++ci) {
    const int n = col_of(ci), row = n_block * kN + n;
    if (row >= p.rows) continue;
    const float inv = red[0][n];
    const int64_t grow = static_cast<int64_t>(b) * p.rows + row;
    const int64_t prow = split * rows_all + grow;
#pragma unroll
    for (int t = 0; t < kMT; ++t) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int d = (cw * kMT + t) * 64 + kv_row[h];  // O^T row = output column
        const float v = o[t][4 * (ci / 2) + 2 * h + (ci % 2)] * inv;
        if (p.splits == 1)
          p.out[grow * kHeadDimV + d] = __float2bfloat16_rn(v);
        else
          p.o_part[prow * kHeadDimV + d] = v;
      }
    }
    if (p.splits > 1 && cw == 0 && warp == 0 && lane < 4) p.lse_part[prow] = red[1][n];
  }
}

}  // namespace tilesim::mla
