// Online softmax on the accumulator fragments of a 16-row MMA tile, shared by the FA2-
// (mma.sync) and FA3-style (wgmma) kernels: both give each thread 2 rows (r, r+8) and, per
// 8-column block, 4 floats [row r: c, c+1 | row r+8: c, c+1] with c = 2*(lane%4), so the
// 4 lanes of a quad together hold a row.
//
// Two FlashAttention-4 tricks are compile-time options here:
//  * exp_emu_fraction: a share of the exp2 evaluations runs on the FMA pipe as a
//    polynomial (exp2_poly) instead of MUFU.EX2.
//  * rescale_threshold (log2 units): the running max used as the exponent base is only
//    moved when a new block's row max exceeds it by more than the threshold; otherwise O
//    and the row sum keep the stale base and the warp skips the O rescale.
//    Exactness: every p = 2^(x - m_used) that enters the row sum l also enters O, and
//    whenever m_used changes both O and l are multiplied by the same 2^(m_old - m_new).
//    So at the end O = sum_j 2^(x_j - m) v_j and l = sum_j 2^(x_j - m) for one common m,
//    and O / l equals softmax(x) V whatever m is: the stale base changes only rounding.
//    Staleness bounds p <= 2^threshold, far inside fp32 and bf16 range.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "ptx/mma_sync.cuh"

namespace tilesim::attention {

// 2^f on [0,1) as 1 + c1 f + c2 f^2 + c3 f^3; minimax in relative error with p(0) = 1,
// max rel err 8.6e-5 (fit_exp2_poly.py 3), well below bf16's half-ulp 2^-9 (P is rounded
// to bf16 right after).
constexpr float kExp2C1 = 6.951132487e-01f;
constexpr float kExp2C2 = 2.276474065e-01f;
constexpr float kExp2C3 = 7.707039028e-02f;
// 1.5 * 2^23: x + kRoundShift puts floor(x) (with round-down) in the low mantissa bits.
constexpr float kRoundShift = 12582912.0f;
// Below 2^-127 the result is irrelevant next to the row max term (which is >= 1).
constexpr float kExp2MinArg = -127.0f;

// exp2 on the FMA/ALU pipes: Cody-Waite split x = j + f (j = floor x), polynomial for
// 2^f, then 2^j by adding j to the float's exponent bits. -inf maps to exactly 0.
__device__ __forceinline__ float exp2_poly(float x) {
  x = fmaxf(x, kExp2MinArg);
  const float t = __fadd_rd(x, kRoundShift);
  const float j = t - kRoundShift;
  const float f = x - j;
  const float p = fmaf(fmaf(fmaf(kExp2C3, f, kExp2C2), f, kExp2C1), f, 1.0f);
  const int ji = __float_as_int(t) - __float_as_int(kRoundShift);
  return __int_as_float(__float_as_int(p) + (ji << 23));
}

__device__ __forceinline__ float exp2_mufu(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Sets masked scores to -inf: columns >= seq_kv and, when causal, columns > the row index.
// col0 = key index of this block's column 0; rows[2] = query indices of the thread's rows.
template <int Cols>
__device__ __forceinline__ void apply_mask(float (&s)[Cols / 2], int col0, const int (&rows)[2],
                                           int seq_kv, bool causal) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int j = 0; j < Cols / 2; ++j) {
    const int col = col0 + (j / 4) * 8 + 2 * (lane % 4) + (j % 2);
    const int row = rows[(j / 2) % 2];
    if (col >= seq_kv || (causal && col > row)) s[j] = -INFINITY;
  }
}

template <int Cols, int EmuPercent, int RescaleThreshold>
struct OnlineSoftmax {
  // Elements j with (j % 8) < kEmuOf8 use the polynomial: EmuPercent is a multiple of 12.5.
  static constexpr int kEmuOf8 = (EmuPercent * 8 + 50) / 100;
  static_assert(kEmuOf8 * 100 == EmuPercent * 8, "exp_emu_fraction must be a multiple of 1/8");

  float m[2] = {-INFINITY, -INFINITY};  // exponent base per row, log2 units (maybe stale)
  float l[2] = {0.f, 0.f};              // this thread's partial row sums (quad-reduced at the end)

  // Turns the raw scores s into p = 2^(s*scale_log2 - m) in place, updates m and l, and
  // writes the O rescale factor per row to corr. Returns true when some row of the warp
  // needs its O rescaled (warp-uniform, so the caller's branch does not diverge).
  __device__ __forceinline__ bool step(float (&s)[Cols / 2], float scale_log2, float (&corr)[2]) {
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < Cols / 2; ++j) mx[(j / 2) % 2] = fmaxf(mx[(j / 2) % 2], s[j]);
    bool any = false;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float m_blk = mx[r] * scale_log2;  // -inf when the whole row block is masked
      corr[r] = 1.f;
      if (m_blk > m[r] + static_cast<float>(RescaleThreshold)) {
        corr[r] = exp2_mufu(m[r] - m_blk);  // m[r] = -inf gives 0: nothing accumulated yet
        m[r] = m_blk;
        any = true;
      }
    }
    const float base[2] = {m[0] == -INFINITY ? 0.f : m[0], m[1] == -INFINITY ? 0.f : m[1]};
    float sum[2] = {0.f, 0.f};
#pragma unroll
    for (int j = 0; j < Cols / 2; ++j) {
      const int r = (j / 2) % 2;
      const float x = fmaf(s[j], scale_log2, -base[r]);
      s[j] = ((j % 8) < kEmuOf8) ? exp2_poly(x) : exp2_mufu(x);
      sum[r] += s[j];
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) l[r] = fmaf(l[r], corr[r], sum[r]);
    return __any_sync(0xffffffffu, any);
  }

  // 1 / row sum for the final normalisation (0 for rows with nothing visible).
  __device__ __forceinline__ void finish(float (&inv)[2]) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float t = l[r];
      t += __shfl_xor_sync(0xffffffffu, t, 1);
      t += __shfl_xor_sync(0xffffffffu, t, 2);
      inv[r] = t > 0.f ? 1.f / t : 0.f;
    }
  }
};

// Multiplies the O accumulator fragment (same 2-row layout) by the per-row factors.
template <int N>
__device__ __forceinline__ void rescale_rows(float (&o)[N], const float (&corr)[2]) {
#pragma unroll
  for (int j = 0; j < N; ++j) o[j] *= corr[(j / 2) % 2];
}

// P (fp32, S-fragment layout) -> bf16 A fragments of m16n8k16 / wgmma-RS, one per 16 keys.
template <int Cols>
__device__ __forceinline__ void pack_p(const float (&s)[Cols / 2], uint32_t (&a)[Cols / 16][4]) {
#pragma unroll
  for (int kk = 0; kk < Cols / 16; ++kk) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float lo = s[8 * kk + 2 * i], hi = s[8 * kk + 2 * i + 1];
      a[kk][i] = ptx::pack_bf16x2(lo, hi);
    }
  }
}

// Writes the normalised O fragment rows (bf16) of one 16-row tile; rows >= seq_q skipped.
template <int D>
__device__ __forceinline__ void store_o(const float (&o)[D / 2], const float (&inv)[2],
                                        const int (&rows)[2], int seq_q, __nv_bfloat16* o_head) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (rows[r] >= seq_q) continue;
    __nv_bfloat16* dst = o_head + static_cast<size_t>(rows[r]) * D + 2 * (lane % 4);
#pragma unroll
    for (int cb = 0; cb < D / 8; ++cb) {
      *reinterpret_cast<uint32_t*>(dst + cb * 8) =
          ptx::pack_bf16x2(o[cb * 4 + 2 * r] * inv[r], o[cb * 4 + 2 * r + 1] * inv[r]);
    }
  }
}

}  // namespace tilesim::attention
