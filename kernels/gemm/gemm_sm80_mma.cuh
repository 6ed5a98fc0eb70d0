// gemm_sm80_mma: the Ampere-style contrast kernel (runs on Hopper through the legacy
// tensor-core path): cp.async multi-stage shared-memory pipeline, ldmatrix, and
// mma.sync.m16n8k16 (bf16 in, fp32 accumulate). Same problem convention as the Hopper
// kernel: C[M,N] = A[M,K] * B[N,K]^T, row-major bf16.
//
// The block's warps form a warps_m x warps_n grid; each warp owns a
// (block_m/warps_m) x (block_n/warps_n) sub-tile as (16 x 8) mma fragments. Shared rows are
// padded by 16 bytes so that the eight 16-byte row reads of one ldmatrix phase fall in
// distinct bank groups. Out-of-range rows are zero-filled by cp.async (src-size 0) and
// the final stores are guarded.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cuda_check.hpp"
#include "gemm_registry.hpp"
#include "ptx/all.cuh"

namespace tilesim::gemm::sm80 {

using namespace ::tilesim::ptx;

template <int BlockM, int BlockN, int BlockK, int Stages, int WarpsM, int WarpsN>
struct MmaConfig {
  static constexpr int block_m = BlockM, block_n = BlockN, block_k = BlockK, stages = Stages,
                       warps_m = WarpsM, warps_n = WarpsN;
  static constexpr int kThreads = 32 * WarpsM * WarpsN;
  static constexpr int kWarpM = BlockM / WarpsM, kWarpN = BlockN / WarpsN;
  static constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 16;
  static constexpr int kFragM = kWarpM / kMmaM, kFragN = kWarpN / kMmaN;
  static constexpr int kElemBytes = 2;
  static constexpr int kChunkElems = 16 / kElemBytes;  // one 16-byte cp.async / ldmatrix row
  static constexpr int kPadElems = kChunkElems;        // 16-byte row pad against bank conflicts
  static constexpr int kRowElems = BlockK + kPadElems;
  static constexpr int kChunksPerRow = BlockK / kChunkElems;
  static constexpr int kAStageElems = BlockM * kRowElems;
  static constexpr int kBStageElems = BlockN * kRowElems;
  static constexpr int kSmemBytes = Stages * (kAStageElems + kBStageElems) * kElemBytes;
  static_assert(Stages >= 2, "stages >= 2");
  static_assert(BlockK % kMmaK == 0, "block_k must be a multiple of 16");
  static_assert(kWarpM % kMmaM == 0 && kWarpN % (2 * kMmaN) == 0,
                "warp tile must be a multiple of 16 x 16");
  static_assert(kSmemBytes <= 232448, "shared memory over the 227 KB per-block limit");

  static std::string name() {
    return "sm80_mma_" + std::to_string(BlockM) + "x" + std::to_string(BlockN) + "x" +
           std::to_string(BlockK) + "_s" + std::to_string(Stages) + "_w" + std::to_string(WarpsM) +
           "x" + std::to_string(WarpsN);
  }
};

template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads)
    gemm_sm80_mma_kernel(const __nv_bfloat16* __restrict__ a, const __nv_bfloat16* __restrict__ b,
                         __nv_bfloat16* __restrict__ c, int m, int n, int k) {
  constexpr int BM = Cfg::block_m, BN = Cfg::block_n, BK = Cfg::block_k;
  constexpr int kStages = Cfg::stages;
  extern __shared__ __align__(16) __nv_bfloat16 smem[];
  __nv_bfloat16* sa = smem;
  __nv_bfloat16* sb = smem + kStages * Cfg::kAStageElems;

  const int row0 = blockIdx.y * BM;
  const int col0 = blockIdx.x * BN;
  const int num_kb = (k + BK - 1) / BK;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / Cfg::warps_n, wn = warp % Cfg::warps_n;

  auto load_stage = [&](int slot, int kb) {
    const int kc = kb * BK;
    for (int i = threadIdx.x; i < BM * Cfg::kChunksPerRow; i += Cfg::kThreads) {
      const int r = i / Cfg::kChunksPerRow, ch = i % Cfg::kChunksPerRow;
      const int gr = row0 + r, gk = kc + ch * Cfg::kChunkElems;
      const bool ok = gr < m && gk < k;
      const __nv_bfloat16* src = ok ? a + static_cast<size_t>(gr) * k + gk : a;
      cp_async_16(
          smem_u32(sa + slot * Cfg::kAStageElems + r * Cfg::kRowElems + ch * Cfg::kChunkElems), src,
          ok ? 16u : 0u);
    }
    for (int i = threadIdx.x; i < BN * Cfg::kChunksPerRow; i += Cfg::kThreads) {
      const int r = i / Cfg::kChunksPerRow, ch = i % Cfg::kChunksPerRow;
      const int gr = col0 + r, gk = kc + ch * Cfg::kChunkElems;
      const bool ok = gr < n && gk < k;
      const __nv_bfloat16* src = ok ? b + static_cast<size_t>(gr) * k + gk : b;
      cp_async_16(
          smem_u32(sb + slot * Cfg::kBStageElems + r * Cfg::kRowElems + ch * Cfg::kChunkElems), src,
          ok ? 16u : 0u);
    }
  };

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < num_kb) load_stage(s, s);
    cp_async_commit();
  }

  float acc[Cfg::kFragM][Cfg::kFragN][4];
#pragma unroll
  for (int i = 0; i < Cfg::kFragM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::kFragN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;

  for (int kb = 0; kb < num_kb; ++kb) {
    cp_async_wait<kStages - 2>();  // stage kb has landed (for this thread's copies)
    __syncthreads();               // ... for everyone's; and slot kb-1 is free again
    const int next = kb + kStages - 1;
    if (next < num_kb) load_stage(next % kStages, next);
    cp_async_commit();

    const int slot = kb % kStages;
    const __nv_bfloat16* sa_s = sa + slot * Cfg::kAStageElems;
    const __nv_bfloat16* sb_s = sb + slot * Cfg::kBStageElems;
#pragma unroll
    for (int kk = 0; kk < BK / Cfg::kMmaK; ++kk) {
      uint32_t af[Cfg::kFragM][4];
      uint32_t bf[Cfg::kFragN][2];
#pragma unroll
      for (int mi = 0; mi < Cfg::kFragM; ++mi) {
        // lanes 0-15: rows 0-15 at k 0; lanes 16-31: rows 0-15 at k 8 -> a0..a3 of m16n8k16.
        const int r = wm * Cfg::kWarpM + mi * Cfg::kMmaM + lane % 16;
        const int col = kk * Cfg::kMmaK + (lane / 16) * 8;
        ldmatrix_x4(smem_u32(sa_s + r * Cfg::kRowElems + col), af[mi]);
      }
#pragma unroll
      for (int nj = 0; nj < Cfg::kFragN / 2; ++nj) {
        // B rows are n (K contiguous): matrices (n0-7,k0) (n0-7,k8) (n8-15,k0) (n8-15,k8).
        const int r = wn * Cfg::kWarpN + nj * 16 + lane % 8 + (lane / 16) * 8;
        const int col = kk * Cfg::kMmaK + ((lane / 8) % 2) * 8;
        uint32_t t[4];
        ldmatrix_x4(smem_u32(sb_s + r * Cfg::kRowElems + col), t);
        bf[2 * nj][0] = t[0];
        bf[2 * nj][1] = t[1];
        bf[2 * nj + 1][0] = t[2];
        bf[2 * nj + 1][1] = t[3];
      }
#pragma unroll
      for (int mi = 0; mi < Cfg::kFragM; ++mi)
#pragma unroll
        for (int ni = 0; ni < Cfg::kFragN; ++ni)
          mma_m16n8k16_bf16(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int mi = 0; mi < Cfg::kFragM; ++mi) {
#pragma unroll
    for (int ni = 0; ni < Cfg::kFragN; ++ni) {
      const int r = row0 + wm * Cfg::kWarpM + mi * Cfg::kMmaM + lane / 4;
      const int col = col0 + wn * Cfg::kWarpN + ni * Cfg::kMmaN + 2 * (lane % 4);
      if (col < n) {  // n % 8 == 0 and col even: col < n implies col + 1 < n
        if (r < m) {
          *reinterpret_cast<__nv_bfloat162*>(c + static_cast<size_t>(r) * n + col) =
              __floats2bfloat162_rn(acc[mi][ni][0], acc[mi][ni][1]);
        }
        if (r + 8 < m) {
          *reinterpret_cast<__nv_bfloat162*>(c + static_cast<size_t>(r + 8) * n + col) =
              __floats2bfloat162_rn(acc[mi][ni][2], acc[mi][ni][3]);
        }
      }
    }
  }
}

inline std::string sm80_unsupported_reason(const GemmArgs& g) {
  if (g.m < 1 || g.n < 1 || g.k < 1) return "M, N, K must be >= 1";
  if (g.k % 8 != 0) return "K must be a multiple of 8 (16-byte cp.async rows)";
  if (g.n % 8 != 0) return "N must be a multiple of 8 (paired bf16 stores)";
  return "";
}

template <class Cfg>
Prepared sm80_prepare(const GemmArgs& g) {
  const std::string why = sm80_unsupported_reason(g);
  if (!why.empty()) throw std::invalid_argument(Cfg::name() + ": " + why);
  auto kernel = gemm_sm80_mma_kernel<Cfg>;
  TILESIM_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
  const dim3 grid((g.n + Cfg::block_n - 1) / Cfg::block_n, (g.m + Cfg::block_m - 1) / Cfg::block_m);
  if (grid.y > 65535u) throw std::invalid_argument(Cfg::name() + ": M too large for grid.y");
  const GemmArgs args = g;
  Prepared p;
  p.launch_info = {{"grid_ctas", grid.x * grid.y},
                   {"threads_per_cta", Cfg::kThreads},
                   {"smem_bytes", Cfg::kSmemBytes},
                   {"cluster_ctas", 1},
                   {"output_tiles", grid.x * grid.y}};
  p.launch = [=](cudaStream_t stream) {
    kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(args.a, args.b, args.c, args.m, args.n,
                                                             args.k);
    TILESIM_CHECK_LAUNCH(Cfg::name().c_str());
  };
  return p;
}

template <int BM, int BN, int BK, int S, int WM, int WN>
KernelEntry sm80_entry() {
  using Cfg = MmaConfig<BM, BN, BK, S, WM, WN>;
  KernelEntry e;
  e.name = Cfg::name();
  e.schedule = "gemm_sm80_mma";
  e.tile = {{"block_m", BM}, {"block_n", BN}, {"block_k", BK},
            {"stages", S},   {"warps_m", WM}, {"warps_n", WN}};
  e.unsupported_reason = sm80_unsupported_reason;
  e.prepare = sm80_prepare<Cfg>;
  return e;
}

}  // namespace tilesim::gemm::sm80
