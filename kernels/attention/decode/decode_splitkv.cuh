// decode_splitkv: flash-decoding on Hopper with mma.sync (bf16 in, fp32 accumulate).
//
// Grid (splits, heads_kv, batch). One CTA = one (batch, kv head, KV split): it owns all
// query rows that read this kv head, i.e. group = heads_q / heads_kv query heads times
// q_per_seq tokens (M = group * q_per_seq <= 16 * m_tiles rows, padded to 16-row MMA tiles),
// so each K/V byte is loaded once per CTA and reused by every query head of the group.
//
// Data path: 4 warps stream the split's KV range in blocks of block_n rows through a
// `stages`-deep cp.async ring (16-byte copies, XOR-swizzled rows so ldmatrix is conflict
// free). Each warp owns block_n / 4 rows of every block and keeps its own online-softmax
// state (running max, running sum, O accumulator in registers); the four partial states are
// merged once at the end through shared memory. No per-block cross-warp reduction, one
// __syncthreads per block (the ring's reuse barrier).
//
// With l2_prefetch the CTA also asks the copy engine (cp.async.bulk.prefetch.L2) to pull the
// KV block `stages` blocks beyond the last one in the shared-memory ring into L2, doubling
// the bytes requested ahead of use without spending shared memory.
//
// Output: with splits == 1 the CTA writes bf16 O directly; otherwise it writes its
// normalised partial O (fp32) and log-sum-exp (log2 units), and decode_combine merges them.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "decode_params.hpp"
#include "ptx/all.cuh"

namespace tilesim::decode {

template <int kHeadDim, int kBlockN, int kStages, int kMTiles, bool kPaged, bool kL2Prefetch>
struct SplitKvTraits {
  static constexpr int kWarps = 4;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kRowsPerWarp = kBlockN / kWarps;  // KV rows of a block one warp owns
  static constexpr int kChunks = kHeadDim / 8;           // 16-byte chunks per K/V row
  static constexpr int kRowsPerPass = kThreads / kChunks;
  static constexpr int kM = 16 * kMTiles;  // padded query rows per CTA
  static constexpr int kNTiles = kRowsPerWarp / 8;
  static constexpr int kDTiles = kHeadDim / 8;
  static constexpr int kQBytes = kM * kHeadDim * 2;
  static constexpr int kTileBytes = kBlockN * kHeadDim * 2;  // one K (or V) block
  static constexpr int kStageBytes = 2 * kTileBytes;
  // Final cross-warp merge buffer: fp32 O of every warp; +8 floats per row keeps the
  // float2 stores of a half-warp on distinct banks.
  static constexpr int kRedStride = kHeadDim + 8;
  static constexpr int kRedBytes = kWarps * kM * kRedStride * 4;
  static constexpr int kRingBytes = kStages * kStageBytes;
  static constexpr int kMainBytes = kRingBytes > kRedBytes ? kRingBytes : kRedBytes;
  static constexpr int kStatBytes = (2 * kWarps + 2) * kM * 4;
  static constexpr int kSmemBytes = kQBytes + kMainBytes + kStatBytes;

  static_assert(kHeadDim == 64 || kHeadDim == 128, "head_dim 64 or 128");
  static_assert(kRowsPerWarp % 16 == 0, "block_n / 4 warps must be a multiple of 16 (MMA k)");
  static_assert(kBlockN % kRowsPerPass == 0, "loader passes must tile the block");
  static_assert(kStages >= 2, "need at least a double buffer");
  static_assert(kMTiles == 1 || kMTiles == 2, "m_tiles 1 or 2 (group * q_per_seq <= 32)");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory per CTA exceeds the sm_90 limit");
};

// L2 prefetch distance in KV blocks beyond the newest block in the shared-memory ring.
// Measured on an H200 (data/measurements/decode/20261121_h200_*_sweep.json): `stages` blocks
// ahead (smoke run) lost up to 25%; 2 blocks ahead loses 6-22% against the same tile without
// prefetch (run 2: 46 of 48 tile/shape pairs, median 12%; run 3: 48 of 48, median 11%).
// The cause is not established (candidates: prefetched lines evicted before use, extra L2 /
// copy-engine traffic competing with the cp.async stream). Kept as the tested variant.
inline constexpr int kL2PrefetchAhead = 2;

namespace detail {

// Physical 16-byte chunk of logical chunk c in row r of a swizzled tile: the 8 rows an
// ldmatrix phase reads at one logical chunk land on 8 distinct chunks of a 128-byte span.
__device__ __forceinline__ int swz(int r, int c) { return c ^ (r & 7); }

}  // namespace detail

template <int kHeadDim, int kBlockN, int kStages, int kMTiles, bool kPaged, bool kL2Prefetch>
__global__ void __launch_bounds__(128)
    decode_splitkv_kernel(const __grid_constant__ DecodeParams p) {
  using T = SplitKvTraits<kHeadDim, kBlockN, kStages, kMTiles, kPaged, kL2Prefetch>;
  extern __shared__ __align__(128) unsigned char smem[];
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(smem);
  unsigned char* ring = smem + T::kQBytes;
  float* red_o = reinterpret_cast<float*>(ring);  // aliases the ring after the last block
  float* red_m = reinterpret_cast<float*>(smem + T::kQBytes + T::kMainBytes);
  float* red_l = red_m + T::kWarps * T::kM;
  float* fin_m = red_l + T::kWarps * T::kM;
  float* fin_l = fin_m + T::kM;

  const int split = blockIdx.x;
  const int kvh = blockIdx.y;
  const int b = blockIdx.z;
  const int tid = threadIdx.x;
  if (tid == 0) ptx::clock_span_mark(p.clock_span, cuda::kSpanFirstCycles);
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int g = lane / 4;  // MMA fragment row
  const int t = lane % 4;  // MMA fragment column pair
  const int rows_real = p.group * p.q_per_seq;

  const int blocks_total = (p.seq_kv + kBlockN - 1) / kBlockN;
  const int blk0 = split * p.blocks_per_split;
  const int nblk = max(0, min(p.blocks_per_split, blocks_total - blk0));
  const int row_end = min(p.seq_kv, (blk0 + nblk) * kBlockN);

  // ---- Q tile -> shared (swizzled rows, zero padding rows) ----
  for (int idx = tid; idx < T::kM * T::kChunks; idx += T::kThreads) {
    const int r = idx / T::kChunks;
    const int c = idx % T::kChunks;
    uint4 val = make_uint4(0u, 0u, 0u, 0u);
    if (r < rows_real) {
      const int qi = r / p.group;
      const int hq = kvh * p.group + r % p.group;
      const int64_t off =
          ((static_cast<int64_t>(b) * p.q_per_seq + qi) * p.heads_q + hq) * kHeadDim + c * 8;
      val = *reinterpret_cast<const uint4*>(p.q + off);
    }
    reinterpret_cast<uint4*>(q_s)[r * T::kChunks + detail::swz(r, c)] = val;
  }

  // ---- KV addressing ----
  const int64_t head_rows = (static_cast<int64_t>(b) * p.heads_kv + kvh) * p.seq_kv;
  const int* page_row = kPaged ? p.page_table + static_cast<int64_t>(b) * p.max_pages : nullptr;
  const int page_mask = (1 << p.page_size_log2) - 1;
  // Element offset of KV row `row` (which lives in pool page `page` when paged).
  auto row_offset = [&](int row, int page) -> int64_t {
    if constexpr (kPaged) {
      return (((static_cast<int64_t>(page) * p.heads_kv + kvh) << p.page_size_log2) +
              (row & page_mask)) *
             kHeadDim;
    } else {
      return (head_rows + row) * kHeadDim;
    }
  };
  auto page_of = [&](int row) -> int {
    return kPaged && row < row_end ? __ldg(page_row + (row >> p.page_size_log2)) : 0;
  };

  // Loader: thread owns chunk ld_chunk of rows ld_row0 + it * kRowsPerPass. Page ids of the
  // next block are read one iteration ahead (into ld_page), so the page-table latency hides
  // behind a block of compute instead of stalling the cp.async issue.
  constexpr int kPasses = kBlockN / T::kRowsPerPass;
  const int ld_chunk = tid % T::kChunks;
  const int ld_row0 = tid / T::kChunks;
  int ld_page[kPasses];
  auto fetch_pages = [&](int blk) {
#pragma unroll
    for (int it = 0; it < kPasses; ++it)
      ld_page[it] = page_of(blk * kBlockN + ld_row0 + it * T::kRowsPerPass);
  };
  auto load_block = [&](int blk, int stage) {
    unsigned char* k_tile = ring + stage * T::kStageBytes;
    const uint32_t k_base = ptx::smem_u32(k_tile);
    const uint32_t v_base = k_base + T::kTileBytes;
#pragma unroll
    for (int it = 0; it < kPasses; ++it) {
      const int rr = ld_row0 + it * T::kRowsPerPass;
      const int row = blk * kBlockN + rr;
      const bool valid = row < row_end;
      const int64_t off = valid ? row_offset(row, ld_page[it]) + ld_chunk * 8 : 0;
      const uint32_t dst = (rr * T::kChunks + detail::swz(rr, ld_chunk)) * 16;
      ptx::cp_async_16(k_base + dst, p.k + off, valid ? 16u : 0u);
      ptx::cp_async_16(v_base + dst, p.v + off, valid ? 16u : 0u);
    }
  };

  // L2 prefetch: block i + stages - 1 + kL2PrefetchAhead is requested while block i is
  // computed, i.e. kL2PrefetchAhead blocks beyond the newest block in the smem ring. A block
  // is `runs` contiguous runs of run_rows rows per tensor (contiguous KV: one run; paged KV:
  // one run per page the block touches); lanes 0..runs-1 of warp 0 prefetch K, of warp 1 V.
  // Each prefetching lane reads its page id one iteration ahead (pf_page).
  const int run_rows = kPaged ? min(kBlockN, 1 << p.page_size_log2) : kBlockN;
  const int runs = kBlockN / run_rows;
  const int pf_run = lane;
  const bool pf_lane = kL2Prefetch && warp < 2 && pf_run < runs;
  const __nv_bfloat16* pf_base = warp == 0 ? p.k : p.v;
  auto prefetch_run = [&](int blk, int page) {
    const int first = blk * kBlockN + pf_run * run_rows;
    const int rows = min(run_rows, row_end - first);
    if (rows > 0) ptx::prefetch_l2_bulk(pf_base + row_offset(first, page), rows * kHeadDim * 2);
  };
  auto pf_page_of = [&](int blk) { return page_of(blk * kBlockN + pf_run * run_rows); };

  // ---- pipeline prologue ----
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < nblk) {
      fetch_pages(blk0 + s);
      load_block(blk0 + s, s);
    }
    ptx::cp_async_commit();
  }
  fetch_pages(blk0 + kStages - 1);
  int pf_page = 0;
  if (pf_lane) {
    // Blocks the ring requests in iterations 1 .. kL2PrefetchAhead - 1 get their prefetch here.
    for (int blk = kStages; blk < kStages - 1 + kL2PrefetchAhead && blk < nblk; ++blk)
      prefetch_run(blk0 + blk, pf_page_of(blk0 + blk));
    pf_page = pf_page_of(blk0 + kStages - 1 + kL2PrefetchAhead);
  }

  // Per-thread query rows: (m tile, half) -> row mt*16 + g + 8*half. Rows of query token qi
  // see KV rows < seq_kv - (q_per_seq - 1 - qi) (bottom-right causal among the draft tokens).
  int lim[kMTiles][2];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = mt * 16 + g + 8 * h;
      lim[mt][h] =
          r < rows_real ? min(row_end, p.seq_kv - (p.q_per_seq - 1 - r / p.group)) : row_end;
    }
  }
  const int lim_min = min(row_end, p.seq_kv - (p.q_per_seq - 1));

  __syncthreads();  // Q tile visible
  // Q fragments: with one m tile they stay in registers for the whole split (32 registers
  // at head_dim 128). With two, registers would hit the 255 cap next to the 128-register O
  // accumulator (measured: spills in the paged variant), so they are re-read from shared
  // memory per k step (one ldmatrix.x4 per m tile and k step; shared-memory bandwidth is
  // idle in this memory-bound kernel).
  constexpr bool kQInRegs = kMTiles == 1;
  constexpr int kQRegTiles = kQInRegs ? kMTiles : 1;
  const uint32_t q_base = ptx::smem_u32(q_s);
  auto load_q_frag = [&](int mt, int kk, uint32_t(&a)[4]) {
    const int r = mt * 16 + (lane & 15);
    const int c = kk * 2 + lane / 16;
    ptx::ldmatrix_x4(q_base + (r * T::kChunks + detail::swz(r, c)) * 16, a);
  };
  uint32_t qf[kQRegTiles][kHeadDim / 16][4];
  if constexpr (kQInRegs) {
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk) load_q_frag(0, kk, qf[0][kk]);
  }

  float o[kMTiles][T::kDTiles][4];
  float m_run[kMTiles][2];
  float l_run[kMTiles][2];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int dt = 0; dt < T::kDTiles; ++dt)
      o[mt][dt][0] = o[mt][dt][1] = o[mt][dt][2] = o[mt][dt][3] = 0.f;
    m_run[mt][0] = m_run[mt][1] = -INFINITY;
    l_run[mt][0] = l_run[mt][1] = 0.f;
  }

  const int warp_row0 = warp * T::kRowsPerWarp;  // first row of a block this warp owns

  for (int i = 0; i < nblk; ++i) {
    ptx::cp_async_wait<kStages - 2>();
    __syncthreads();  // block i landed for all threads; stage (i-1) % kStages is free
    const int nxt = i + kStages - 1;
    if (nxt < nblk) load_block(blk0 + nxt, nxt % kStages);
    ptx::cp_async_commit();
    if (nxt + 1 < nblk) fetch_pages(blk0 + nxt + 1);  // consumed next iteration
    if (pf_lane) {
      const int pf_blk = nxt + kL2PrefetchAhead;
      if (pf_blk < nblk) prefetch_run(blk0 + pf_blk, pf_page);
      pf_page = pf_page_of(blk0 + pf_blk + 1);  // consumed next iteration
    }

    const int blk = blk0 + i;
    const uint32_t k_base = ptx::smem_u32(ring + (i % kStages) * T::kStageBytes);
    const uint32_t v_base = k_base + T::kTileBytes;

    // S = Q K^T over this warp's rows.
    float s[kMTiles][T::kNTiles][4];
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int nt = 0; nt < T::kNTiles; ++nt)
        s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk) {
#pragma unroll
      for (int np = 0; np < T::kNTiles / 2; ++np) {
        const int r = warp_row0 + np * 16 + (lane / 16) * 8 + (lane & 7);
        const int c = kk * 2 + ((lane / 8) & 1);
        uint32_t b[4];
        ptx::ldmatrix_x4(k_base + (r * T::kChunks + detail::swz(r, c)) * 16, b);
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          if constexpr (kQInRegs) {
            ptx::mma_m16n8k16_bf16(s[mt][2 * np], qf[0][kk], b[0], b[1]);
            ptx::mma_m16n8k16_bf16(s[mt][2 * np + 1], qf[0][kk], b[2], b[3]);
          } else {
            uint32_t a[4];
            load_q_frag(mt, kk, a);
            ptx::mma_m16n8k16_bf16(s[mt][2 * np], a, b[0], b[1]);
            ptx::mma_m16n8k16_bf16(s[mt][2 * np + 1], a, b[2], b[3]);
          }
        }
      }
    }

    // Scale into log2 units; mask rows past the split end / the causal limit.
    const bool need_mask = (blk + 1) * kBlockN > lim_min;
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
      for (int nt = 0; nt < T::kNTiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float x = s[mt][nt][e] * p.scale_log2;
          if (need_mask) {
            const int kv = blk * kBlockN + warp_row0 + nt * 8 + 2 * t + (e & 1);
            if (kv >= lim[mt][e / 2]) x = -INFINITY;
          }
          s[mt][nt][e] = x;
        }
      }
    }

    // Online softmax per row (each row's 8 * kNTiles columns live in a quad of lanes).
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float mx = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < T::kNTiles; ++nt)
          mx = fmaxf(mx, fmaxf(s[mt][nt][2 * h], s[mt][nt][2 * h + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = fmaxf(m_run[mt][h], mx);
        // A row with nothing visible yet keeps max -inf: use 0 as the base so that
        // exp2(-inf - base) = 0 instead of NaN.
        const float base = m_new == -INFINITY ? 0.f : m_new;
        const float alpha = exp2f(m_run[mt][h] - base);
        m_run[mt][h] = m_new;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < T::kNTiles; ++nt) {
          const float p0 = exp2f(s[mt][nt][2 * h] - base);
          const float p1 = exp2f(s[mt][nt][2 * h + 1] - base);
          s[mt][nt][2 * h] = p0;
          s[mt][nt][2 * h + 1] = p1;
          sum += p0 + p1;
        }
        l_run[mt][h] = l_run[mt][h] * alpha + sum;  // per-lane partial; quad-reduced at the end
#pragma unroll
        for (int dt = 0; dt < T::kDTiles; ++dt) {
          o[mt][dt][2 * h] *= alpha;
          o[mt][dt][2 * h + 1] *= alpha;
        }
      }
    }

    // O += P V: P's accumulator layout is the A-fragment layout (two 8-column tiles per k16).
#pragma unroll
    for (int j = 0; j < T::kRowsPerWarp / 16; ++j) {
      uint32_t pa[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        pa[mt][0] = ptx::pack_bf16x2(s[mt][2 * j][0], s[mt][2 * j][1]);
        pa[mt][1] = ptx::pack_bf16x2(s[mt][2 * j][2], s[mt][2 * j][3]);
        pa[mt][2] = ptx::pack_bf16x2(s[mt][2 * j + 1][0], s[mt][2 * j + 1][1]);
        pa[mt][3] = ptx::pack_bf16x2(s[mt][2 * j + 1][2], s[mt][2 * j + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < T::kDTiles / 2; ++dp) {
        const int r = warp_row0 + j * 16 + ((lane / 8) & 1) * 8 + (lane & 7);
        const int c = dp * 2 + lane / 16;
        uint32_t b[4];
        ptx::ldmatrix_x4_trans(v_base + (r * T::kChunks + detail::swz(r, c)) * 16, b);
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          ptx::mma_m16n8k16_bf16(o[mt][2 * dp], pa[mt], b[0], b[1]);
          ptx::mma_m16n8k16_bf16(o[mt][2 * dp + 1], pa[mt], b[2], b[3]);
        }
      }
    }
  }
  ptx::cp_async_wait<0>();  // nothing may still be writing the ring we are about to reuse
  // Let the combine kernel (launched with programmatic stream serialisation) start its
  // launch now; it waits in griddepcontrol.wait until this grid's writes are visible.
  ptx::launch_dependents();

  // ---- merge the four warps' states ----
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float l = l_run[mt][h];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      l_run[mt][h] = l;
      if (t == 0) {
        const int r = mt * 16 + g + 8 * h;
        red_m[warp * T::kM + r] = m_run[mt][h];
        red_l[warp * T::kM + r] = l;
      }
    }
  }
  __syncthreads();  // stats visible; every warp is past its last read of the ring
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = mt * 16 + g + 8 * h;
      float mx = -INFINITY;
#pragma unroll
      for (int w = 0; w < T::kWarps; ++w) mx = fmaxf(mx, red_m[w * T::kM + r]);
      float total = 0.f;
#pragma unroll
      for (int w = 0; w < T::kWarps; ++w) {
        const float mw = red_m[w * T::kM + r];
        if (mw != -INFINITY) total += red_l[w * T::kM + r] * exp2f(mw - mx);
      }
      const float f = m_run[mt][h] == -INFINITY ? 0.f : exp2f(m_run[mt][h] - mx);
      float* dst = red_o + (warp * T::kM + r) * T::kRedStride + 2 * t;
#pragma unroll
      for (int dt = 0; dt < T::kDTiles; ++dt) {
        *reinterpret_cast<float2*>(dst + dt * 8) =
            make_float2(o[mt][dt][2 * h] * f, o[mt][dt][2 * h + 1] * f);
      }
      if (warp == 0 && t == 0) {
        fin_m[r] = mx;
        fin_l[r] = total;
      }
    }
  }
  __syncthreads();

  constexpr int kVec = 4;  // floats per thread-step of the output pass
  for (int idx = tid; idx < T::kM * (kHeadDim / kVec); idx += T::kThreads) {
    const int r = idx / (kHeadDim / kVec);
    const int c = (idx % (kHeadDim / kVec)) * kVec;
    if (r >= rows_real) continue;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int w = 0; w < T::kWarps; ++w) {
      const float4 x =
          *reinterpret_cast<const float4*>(red_o + (w * T::kM + r) * T::kRedStride + c);
      acc.x += x.x;
      acc.y += x.y;
      acc.z += x.z;
      acc.w += x.w;
    }
    const float total = fin_l[r];
    const float inv = total > 0.f ? 1.f / total : 0.f;
    const int qi = r / p.group;
    const int hq = kvh * p.group + r % p.group;
    const int64_t row_q = (static_cast<int64_t>(b) * p.q_per_seq + qi) * p.heads_q + hq;
    if (p.splits == 1) {
      __nv_bfloat162 lo = __floats2bfloat162_rn(acc.x * inv, acc.y * inv);
      __nv_bfloat162 hi = __floats2bfloat162_rn(acc.z * inv, acc.w * inv);
      uint2 packed;
      packed.x = *reinterpret_cast<uint32_t*>(&lo);
      packed.y = *reinterpret_cast<uint32_t*>(&hi);
      *reinterpret_cast<uint2*>(p.out + row_q * kHeadDim + c) = packed;
    } else {
      const int64_t rows_all = static_cast<int64_t>(p.batch) * p.q_per_seq * p.heads_q;
      const int64_t prow = split * rows_all + row_q;
      *reinterpret_cast<float4*>(p.o_part + prow * kHeadDim + c) =
          make_float4(acc.x * inv, acc.y * inv, acc.z * inv, acc.w * inv);
      if (c == 0) p.lse_part[prow] = total > 0.f ? fin_m[r] + log2f(total) : -INFINITY;
    }
  }
  if (tid == 0) ptx::clock_span_mark(p.clock_span, cuda::kSpanLastCycles);
}

// Merges the splits' partial outputs: O = sum_s 2^(lse_s - max) O_s / sum_s 2^(lse_s - max).
// One warp per (batch, token, query head) row; splits whose lse is -inf (nothing visible)
// weigh nothing (their partial O must be finite: the split kernels write zeros).
// kHeadDim 64: 2 floats per lane; otherwise kHeadDim / 128 float4 chunks per lane, chunk i
// of lane l at column (32 i + l) * 4, so each warp load is 512 contiguous bytes (head dim
// 128 has one chunk; MLA's 512-column V has four).
template <int kHeadDim>
__global__ void __launch_bounds__(128)
    decode_combine_kernel(const float* __restrict__ o_part, const float* __restrict__ lse_part,
                          __nv_bfloat16* __restrict__ out, int rows, int splits) {
  static_assert(kHeadDim == 64 || kHeadDim % 128 == 0, "combine: head dim 64 or a multiple of 128");
  constexpr int kPerLane = kHeadDim / 32;
  constexpr int kChunks = kHeadDim / 128;  // float4 chunks per lane (kHeadDim % 128 == 0)
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  ptx::wait_prerequisite_grids();  // the split kernel's partials are complete and visible
  if (row >= rows) return;
  float mx = -INFINITY;
  for (int s = lane; s < splits; s += 32)
    mx = fmaxf(mx, lse_part[static_cast<int64_t>(s) * rows + row]);
#pragma unroll
  for (int off = 16; off > 0; off /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  float acc[kPerLane] = {};
  float wsum = 0.f;
#pragma unroll 4
  for (int s = 0; s < splits; ++s) {
    const int64_t prow = static_cast<int64_t>(s) * rows + row;
    const float lse = lse_part[prow];
    const float w = lse == -INFINITY ? 0.f : exp2f(lse - mx);
    wsum += w;
    const float* src = o_part + prow * kHeadDim;
    if constexpr (kHeadDim == 64) {
      const float2 x = *reinterpret_cast<const float2*>(src + lane * 2);
      acc[0] += w * x.x;
      acc[1] += w * x.y;
    } else {
#pragma unroll
      for (int i = 0; i < kChunks; ++i) {
        const float4 x = *reinterpret_cast<const float4*>(src + (32 * i + lane) * 4);
        acc[4 * i + 0] += w * x.x;
        acc[4 * i + 1] += w * x.y;
        acc[4 * i + 2] += w * x.z;
        acc[4 * i + 3] += w * x.w;
      }
    }
  }
  const float inv = wsum > 0.f ? 1.f / wsum : 0.f;
  __nv_bfloat16* dst = out + static_cast<int64_t>(row) * kHeadDim;
  if constexpr (kHeadDim == 64) {
    *reinterpret_cast<__nv_bfloat162*>(dst + lane * 2) = __floats2bfloat162_rn(acc[0] * inv, acc[1] * inv);
  } else {
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      __nv_bfloat16* d = dst + (32 * i + lane) * 4;
      *reinterpret_cast<__nv_bfloat162*>(d) = __floats2bfloat162_rn(acc[4 * i] * inv, acc[4 * i + 1] * inv);
      *reinterpret_cast<__nv_bfloat162*>(d + 2) =
          __floats2bfloat162_rn(acc[4 * i + 2] * inv, acc[4 * i + 3] * inv);
    }
  }
}

}  // namespace tilesim::decode
