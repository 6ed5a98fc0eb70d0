// FA2-style forward attention (schedule "attn_fa2"): mma.sync m16n8k16 bf16 with fp32
// accumulators, ldmatrix fragment loads, cp.async multi-stage (stages = 2: double
// buffering) K/V tiles in XOR-swizzled shared memory, online softmax in the same warps
// (no warp specialisation). Each warp owns 16 query rows; warps = block_m / 16.
// Runs on any sm_80+ GPU; built here for sm_90a like everything else.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <stdexcept>

#include "attn_types.hpp"
#include "cuda_check.hpp"
#include "ptx/all.cuh"
#include "softmax.cuh"

namespace tilesim::attention {

template <int HeadDim, int BlockM, int BlockN, int Stages>
struct Fa2Config {
  static constexpr int head_dim = HeadDim;
  static constexpr int block_m = BlockM;
  static constexpr int block_n = BlockN;
  static constexpr int warps = BlockM / 16;
  static constexpr int stages = Stages;
  static constexpr int kThreads = warps * 32;
  static constexpr int kRowBytes = HeadDim * 2;
  static constexpr int kChunksPerRow = kRowBytes / 16;  // 16-byte chunks (cp.async / ldmatrix rows)
  static constexpr int kQBytes = BlockM * kRowBytes;
  static constexpr int kKVBytes = BlockN * kRowBytes;
  static constexpr int kSmemBytes = kQBytes + 2 * Stages * kKVBytes;
  static_assert(BlockM % 16 == 0 && BlockN % 16 == 0, "tiles must be multiples of 16");
  static_assert(Stages >= 2, "stages >= 2");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory over the 227 KB per-block limit");
};

namespace fa2_detail {

using namespace ::tilesim::ptx;

// Byte offset of 16-byte chunk `c` of row `r`: chunks XOR-swizzled with r % 8 so that the
// 8 rows an ldmatrix phase reads hit 8 different bank groups.
template <int ChunksPerRow>
__device__ __forceinline__ uint32_t swz(int r, int c) {
  return static_cast<uint32_t>(r * ChunksPerRow * 16 + ((c ^ (r % 8)) * 16));
}

// Copies `rows` rows (starting at global row row0 of a [seq][D] head) into swizzled smem.
template <class Cfg>
__device__ __forceinline__ void load_tile(uint32_t smem_base, const __nv_bfloat16* head, int row0,
                                          int rows, int seq) {
  constexpr int kC = Cfg::kChunksPerRow;
  for (int idx = threadIdx.x; idx < rows * kC; idx += Cfg::kThreads) {
    const int r = idx / kC, c = idx % kC;
    const int g = row0 + r;
    const bool valid = g < seq;
    const __nv_bfloat16* src = head + static_cast<size_t>(valid ? g : 0) * Cfg::head_dim + c * 8;
    cp_async_16(smem_base + swz<kC>(r, c), src, valid ? 16u : 0u);  // 0: zero-fill
  }
}

}  // namespace fa2_detail

template <class Cfg, int EmuPercent, int RescaleThreshold>
__global__ void __launch_bounds__(Cfg::kThreads, 1) fa2_fwd_kernel(const AttnArgs args) {
  using namespace fa2_detail;
  constexpr int D = Cfg::head_dim, BM = Cfg::block_m, BN = Cfg::block_n, S = Cfg::stages;
  constexpr int kC = Cfg::kChunksPerRow;
  extern __shared__ __align__(128) uint8_t smem[];
  const uint32_t q_s = smem_u32(smem);
  const uint32_t k_s = q_s + Cfg::kQBytes;
  const uint32_t v_s = k_s + S * Cfg::kKVBytes;

  const AttnProblem& pr = args.prob;
  const int m_block =
      pr.causal ? static_cast<int>(gridDim.x - 1 - blockIdx.x) : static_cast<int>(blockIdx.x);
  const int h = blockIdx.y, b = blockIdx.z;
  const int hkv = h / (pr.heads_q / pr.heads_kv);
  int n_blocks = (pr.seq_kv + BN - 1) / BN;
  if (pr.causal) n_blocks = min(n_blocks, ((m_block + 1) * BM + BN - 1) / BN);

  const __nv_bfloat16* q_head = args.q + static_cast<size_t>(b * pr.heads_q + h) * pr.seq_q * D;
  const __nv_bfloat16* k_head = args.k + static_cast<size_t>(b * pr.heads_kv + hkv) * pr.seq_kv * D;
  const __nv_bfloat16* v_head = args.v + static_cast<size_t>(b * pr.heads_kv + hkv) * pr.seq_kv * D;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row0 = m_block * BM + warp * 16 + lane / 4;
  const int rows[2] = {row0, row0 + 8};

  // Prologue: Q with KV block 0 (i.e. the last KV block: we go from high n to low n).
  load_tile<Cfg>(q_s, q_head, m_block * BM, BM, pr.seq_q);
#pragma unroll
  for (int st = 0; st < S - 1; ++st) {
    if (st < n_blocks) {
      const int n = n_blocks - 1 - st;
      load_tile<Cfg>(k_s + st * Cfg::kKVBytes, k_head, n * BN, BN, pr.seq_kv);
      load_tile<Cfg>(v_s + st * Cfg::kKVBytes, v_head, n * BN, BN, pr.seq_kv);
    }
    cp_async_commit();
  }

  float o[D / 2];
#pragma unroll
  for (int j = 0; j < D / 2; ++j) o[j] = 0.f;
  uint32_t qf[D / 16][4];
  OnlineSoftmax<BN, EmuPercent, RescaleThreshold> sm;
  float corr[2];
  const int first_row_of_cta = m_block * BM;

  for (int i = 0; i < n_blocks; ++i) {
    const int n = n_blocks - 1 - i, st = i % S;
    cp_async_wait<S - 2>();
    __syncthreads();  // block i visible to all; everyone is done with block i-1's stage
    {
      const int ip = i + S - 1;
      if (ip < n_blocks) {
        const int np = n_blocks - 1 - ip, sp = ip % S;
        load_tile<Cfg>(k_s + sp * Cfg::kKVBytes, k_head, np * BN, BN, pr.seq_kv);
        load_tile<Cfg>(v_s + sp * Cfg::kKVBytes, v_head, np * BN, BN, pr.seq_kv);
      }
      cp_async_commit();
    }
    if (i == 0) {
      // Q fragments stay in registers for the whole KV loop.
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
        const int r = warp * 16 + (lane % 8) + 8 * ((lane / 8) % 2);
        ldmatrix_x4(q_s + swz<kC>(r, ks * 2 + lane / 16), qf[ks]);
      }
    }
    // S = Q K^T
    float s[BN / 2];
#pragma unroll
    for (int j = 0; j < BN / 2; ++j) s[j] = 0.f;
    const uint32_t kb = k_s + st * Cfg::kKVBytes;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
#pragma unroll
      for (int np2 = 0; np2 < BN / 16; ++np2) {
        uint32_t bf[4];
        const int r = np2 * 16 + (lane % 8) + 8 * (lane / 16);
        ldmatrix_x4(kb + swz<kC>(r, ks * 2 + (lane / 8) % 2), bf);
        mma_m16n8k16_bf16(&s[(2 * np2) * 4], qf[ks], bf[0], bf[1]);
        mma_m16n8k16_bf16(&s[(2 * np2 + 1) * 4], qf[ks], bf[2], bf[3]);
      }
    }
    const int col0 = n * BN;
    if (col0 + BN > pr.seq_kv || (pr.causal && col0 + BN - 1 > first_row_of_cta))
      apply_mask<BN>(s, col0, rows, pr.seq_kv, pr.causal);
    if (sm.step(s, args.scale_log2, corr)) rescale_rows(o, corr);
    uint32_t pf[BN / 16][4];
    pack_p<BN>(s, pf);
    // O += P V
    const uint32_t vb = v_s + st * Cfg::kKVBytes;
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
#pragma unroll
      for (int dt2 = 0; dt2 < D / 16; ++dt2) {
        uint32_t bf[4];
        const int r = kk * 16 + (lane % 8) + 8 * ((lane / 8) % 2);
        ldmatrix_x4_trans(vb + swz<kC>(r, dt2 * 2 + lane / 16), bf);
        mma_m16n8k16_bf16(&o[(2 * dt2) * 4], pf[kk], bf[0], bf[1]);
        mma_m16n8k16_bf16(&o[(2 * dt2 + 1) * 4], pf[kk], bf[2], bf[3]);
      }
    }
  }
  cp_async_wait<0>();  // nothing may be in flight at exit (the last commits are empty groups)

  float inv[2];
  sm.finish(inv);
  __nv_bfloat16* o_head = args.o + static_cast<size_t>(b * pr.heads_q + h) * pr.seq_q * D;
  store_o<D>(o, inv, rows, pr.seq_q, o_head);
}

template <class Cfg, int EmuPercent = 0, int RescaleThreshold = 0>
std::function<void(cudaStream_t)> prepare_fa2(const AttnArgs& a) {
  validate(a.prob);
  if (a.prob.head_dim != Cfg::head_dim)
    throw std::invalid_argument("fa2: head_dim does not match the instantiation");
  auto kernel = fa2_fwd_kernel<Cfg, EmuPercent, RescaleThreshold>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const dim3 grid((a.prob.seq_q + Cfg::block_m - 1) / Cfg::block_m, a.prob.heads_q, a.prob.batch);
  return [=](cudaStream_t stream) { kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(a); };
}

}  // namespace tilesim::attention
