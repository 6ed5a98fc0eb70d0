// MLA decode, query rows on the wgmma M dimension (FlashMLA's arrangement), sm_90a.
//
// CTA = (64-row block of the sequence's heads x q_per_seq query rows, split, sequence).
// Rows past heads x q_per_seq are padding (TMA zero-fills their Q); they cost the same
// tensor-core time as real rows: 16 heads do the work of 64.
// Per page of 64 KV rows (one ring slot, TMA):
//   WG1: S = Q K^T (64 x 64, K = 576: 36 wgmma m64n64k16, both operands in shared memory),
//        mask, online softmax in registers (fwd/softmax.cuh), P -> bf16 registers and a
//        swizzled copy in shared memory with the per-row rescale factors;
//        O[:, 0:256] = O * corr + P V[:, 0:256]   (wgmma RS, P from registers)
//   WG2: O[:, 256:512] = O * corr + P V[:, 256:512] (wgmma SS, P from shared memory)
// O is 64 x 512 fp32: 128 registers per thread in each consumer. V is read MN-major from
// the page's first 8 panels (transpose-B), exactly as FA3 reads V.
// splits == 1: bf16 O; else normalised fp32 partial O + LSE for decode's combine kernel.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>

#include <cstdint>

#include "mla_common.cuh"
#include "softmax.cuh"

namespace tilesim::mla {

template <int kStages>
struct HeadsOnMTraits {
  static constexpr int kRows = 64;  // wgmma M
  using Sm = MlaSmem<kRows, kStages>;
  static constexpr int kHalfV = kHeadDimV / 2;       // output columns per consumer
  static constexpr int kHalfVPanels = kHalfV / 64;   // 4
  static_assert(kHalfV == 256, "one m64n256 accumulator per consumer");
};

template <int kStages>
__global__ void __launch_bounds__(384, 1)
    mla_heads_on_m_kernel(const __grid_constant__ CUtensorMap tm_q, const __grid_constant__ CUtensorMap tm_kv,
                          const MlaParams p) {
  using namespace ::tilesim::ptx;
  using T = HeadsOnMTraits<kStages>;
  using Sm = typename T::Sm;
  constexpr int kS = kStages;

  extern __shared__ __align__(1024) std::uint8_t smem_raw[];
  __shared__ __align__(8) std::uint64_t bar_q, kv_full[kS], kv_empty[kS];
  __shared__ float row_corr[T::kRows], row_inv[T::kRows], row_lse[T::kRows];
  std::uint8_t* smem = smem_raw + ((1024u - (smem_u32(smem_raw) & 1023u)) & 1023u);
  std::uint8_t* q_smem = smem;
  std::uint8_t* kv_smem = q_smem + Sm::kQBytes;
  std::uint8_t* p_smem = kv_smem + kS * Sm::kKvBytes;

  const int m_block = blockIdx.x, split = blockIdx.y, b = blockIdx.z;
  const SplitRange range = split_range(p, b, split);
  const int wg = threadIdx.x / 128;
  if (threadIdx.x == 0) {
    mbar_init(smem_u32(&bar_q), 1);
    for (int s = 0; s < kS; ++s) {
      mbar_init(smem_u32(&kv_full[s]), 1);
      mbar_init(smem_u32(&kv_empty[s]), 2);  // both consumers release a page
    }
    fence_mbar_init();
  }
  __syncthreads();

  if (wg == 0) {
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0)
      produce<Sm, kS>(&tm_q, &tm_kv, q_smem, kv_smem, &bar_q, kv_full, kv_empty, p, b, m_block * T::kRows, range);
    return;
  }
  setmaxnreg_inc<kConsumerRegs>();
  const int cw = wg - 1;  // 0: softmax + O[:, 0:256]; 1: O[:, 256:512]
  const int tid = threadIdx.x % 128, warp = tid / 32, lane = tid % 32;
  const int r_loc[2] = {warp * 16 + lane / 4, warp * 16 + lane / 4 + 8};  // rows of this thread
  const int limit[2] = {visible_kv(p, range.len, m_block * T::kRows + r_loc[0]),
                        visible_kv(p, range.len, m_block * T::kRows + r_loc[1])};
  const std::uint32_t q_base = smem_u32(q_smem), p_base = smem_u32(p_smem);

  float o[T::kHalfV / 2];
#pragma unroll
  for (int j = 0; j < T::kHalfV / 2; ++j) o[j] = 0.f;
  attention::OnlineSoftmax<kPageSize, 0, 0> sm;  // used by cw == 0 only
  float corr[2] = {1.f, 1.f};

  if (cw == 0 && range.count > 0) mbar_wait(smem_u32(&bar_q), 0);
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
      // S = Q K^T: 36 k-steps of 16 columns, 4 per 128-byte swizzle row.
      float s[kPageSize / 2];
      fence_operands(s);
      wgmma_fence();
#pragma unroll
      for (int ks = 0; ks < kHeadDimQk / 16; ++ks) {
        const std::uint32_t koff = (ks % 4) * 32;
        const std::uint64_t da = make_desc_sw128(q_base + (ks / 4) * Sm::kQPanelBytes + koff, 16, 1024);
        const std::uint64_t db = make_desc_sw128(page_base + (ks / 4) * Sm::kKvPanelBytes + koff, 16, 1024);
        Wgmma<DType::bf16, kPageSize>::ss(s, da, db, ks > 0 ? 1 : 0);
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_operands(s);
      // Mask KV rows past each query row's causal limit (and past the sequence end).
#pragma unroll
      for (int j = 0; j < kPageSize / 2; ++j) {
        const int col = kv0 + (j / 4) * 8 + 2 * (lane % 4) + (j % 2);
        if (col >= limit[(j / 2) % 2]) s[j] = -INFINITY;
      }
      sm.step(s, p.scale_log2, corr);
      std::uint32_t pf[kPageSize / 16][4];
      attention::pack_p<kPageSize>(s, pf);
      // Hand P and the factors to WG2 once it has read the previous block's.
      if (i > 0) named_bar_sync(kBarPEmpty, kTwoConsumers);
#pragma unroll
      for (int kk = 0; kk < kPageSize / 16; ++kk) {
        // pf[kk]: {row r0: cols 16kk + 2t..+1 | row r1: same | row r0: +8 | row r1: +8}
        const int c0 = 16 * kk + 2 * (lane % 4);
        *reinterpret_cast<std::uint32_t*>(p_smem + sw128_offset(r_loc[0], c0)) = pf[kk][0];
        *reinterpret_cast<std::uint32_t*>(p_smem + sw128_offset(r_loc[1], c0)) = pf[kk][1];
        *reinterpret_cast<std::uint32_t*>(p_smem + sw128_offset(r_loc[0], c0 + 8)) = pf[kk][2];
        *reinterpret_cast<std::uint32_t*>(p_smem + sw128_offset(r_loc[1], c0 + 8)) = pf[kk][3];
      }
      if (lane % 4 == 0) {
        row_corr[r_loc[0]] = corr[0];
        row_corr[r_loc[1]] = corr[1];
      }
      fence_proxy_async_shared();
      named_bar_arrive(kBarPFull, kTwoConsumers);
      attention::rescale_rows(o, corr);
      fence_operands(o);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kPageSize / 16; ++kk) {
        // 16 KV rows = 2 groups of 8 rows (1024 B each); LBO = stride between V panels.
        const std::uint64_t dv = make_desc_sw128(page_base + kk * 2048, Sm::kKvPanelBytes, 1024);
        Wgmma<DType::bf16, T::kHalfV>::template rs<1>(o, pf[kk], dv, 1);
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_operands(o);
      fence_operands(pf);
    } else {
      named_bar_sync(kBarPFull, kTwoConsumers);
      corr[0] = row_corr[r_loc[0]];
      corr[1] = row_corr[r_loc[1]];
      attention::rescale_rows(o, corr);
      fence_operands(o);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kPageSize / 16; ++kk) {
        const std::uint64_t dp = make_desc_sw128(p_base + kk * 32, 16, 1024);
        const std::uint64_t dv =
            make_desc_sw128(page_base + T::kHalfVPanels * Sm::kKvPanelBytes + kk * 2048, Sm::kKvPanelBytes, 1024);
        Wgmma<DType::bf16, T::kHalfV>::template ss<0, 1>(o, dp, dv, 1);
      }
      wgmma_commit();
      wgmma_wait<0>();
      fence_operands(o);
      if (i + 1 < range.count) named_bar_arrive(kBarPEmpty, kTwoConsumers);
    }
    if (tid == 0) mbar_arrive(smem_u32(&kv_empty[st.index]));
  }

  // Row statistics from WG1 to both consumers.
  if (cw == 0) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = sm.l[r];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      if (lane % 4 == 0) {
        row_inv[r_loc[r]] = l > 0.f ? 1.f / l : 0.f;
        row_lse[r_loc[r]] = l > 0.f ? sm.m[r] + log2f(l) : -INFINITY;
      }
    }
  }
  named_bar_sync(kBarEpilogue, kTwoConsumers);
  const int64_t rows_all = static_cast<int64_t>(p.batch) * p.rows;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = m_block * T::kRows + r_loc[r];
    if (row >= p.rows) continue;
    const float inv = row_inv[r_loc[r]];
    const int64_t grow = static_cast<int64_t>(b) * p.rows + row;
    const int col0 = cw * T::kHalfV + 2 * (lane % 4);
    if (p.splits == 1) {
      __nv_bfloat16* dst = p.out + grow * kHeadDimV + col0;
#pragma unroll
      for (int cb = 0; cb < T::kHalfV / 8; ++cb)
        *reinterpret_cast<__nv_bfloat162*>(dst + cb * 8) =
            __floats2bfloat162_rn(o[cb * 4 + 2 * r] * inv, o[cb * 4 + 2 * r + 1] * inv);
    } else {
      const int64_t prow = split * rows_all + grow;
      float* dst = p.o_part + prow * kHeadDimV + col0;
#pragma unroll
      for (int cb = 0; cb < T::kHalfV / 8; ++cb)
        *reinterpret_cast<float2*>(dst + cb * 8) = make_float2(o[cb * 4 + 2 * r] * inv, o[cb * 4 + 2 * r + 1] * inv);
      if (cw == 0 && lane % 4 == 0) p.lse_part[prow] = row_lse[r_loc[r]];
    }
  }
}

}  // namespace tilesim::mla
