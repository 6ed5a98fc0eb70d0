// Pieces shared by the Hopper GEMM kernels (gemm_sm90_ws for bf16, gemm_sm90_fp8 for
// block-scaled e4m3): the warpgroup register split, the grouped tile order, the producer's
// A/B stage load with 2-CTA multicast, the consumers' stage release, the bf16 TMA-store
// epilogue of a wgmma accumulator tile and its split-K fp32 form, and the persistent grid
// size and launch.
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "gemm_registry.hpp"
#include "ptx/all.cuh"

namespace tilesim::gemm::sm90 {

using namespace ::tilesim::ptx;

inline constexpr int kWarpgroupThreads = 128;
inline constexpr int kWgmmaM = 64;             // wgmma rows per instruction (per warpgroup)
inline constexpr int kSwizzleRowBytes = 128;   // one 128B-swizzle row of a K-major tile
inline constexpr int kSwizzleAlign = 1024;     // 128B-swizzle atoms are 8 rows x 128 B
inline constexpr int kEpiTile = 64;            // epilogue sub-tile: 64 x 64 bf16, one TMA store box
inline constexpr int kEpiBufBytes = kEpiTile * kEpiTile * 2;  // bf16 output
inline constexpr int kEpiBufs = 2;  // double buffer: write one while the other is stored
// Register split (64K 32-bit registers per SM; setmaxnreg counts are multiples of 8).
inline constexpr int kRegsPerSm = 65536;
inline constexpr int kProducerRegs = 40;
inline constexpr int kMaxConsumerRegs = 240;
constexpr int consumer_regs(int consumers, int producer_regs = kProducerRegs) {
  return std::min(kMaxConsumerRegs,
                  ((kRegsPerSm / kWarpgroupThreads - producer_regs) / consumers) / 8 * 8);
}

// Grouped tile order over the cluster-tile grid: `raster` rows at a time, column-major
// inside a group, so that concurrently running clusters share A rows and B columns.
template <int Raster>
__device__ __forceinline__ void raster_tile(int t, int tiles_m, int tiles_n, int& tm, int& tn) {
  const int per_group = Raster * tiles_n;
  const int group = t / per_group;
  const int first_m = group * Raster;
  const int group_rows = min(tiles_m - first_m, Raster);
  const int r = t - group * per_group;
  tm = first_m + r % group_rows;
  tn = r / group_rows;
}

// CTAs of a cluster (rank = m_rank + cluster_m * n_rank) that receive this CTA's share of
// A (same m, every n of the cluster) and of B (same n, every m).
template <int kCM, int kCN>
__device__ __forceinline__ uint16_t multicast_mask_a(int m_rank) {
  uint16_t mask = 0;
  for (int j = 0; j < kCN; ++j) mask |= uint16_t(1u << (m_rank + kCM * j));
  return mask;
}
template <int kCM, int kCN>
__device__ __forceinline__ uint16_t multicast_mask_b(int n_rank) {
  uint16_t mask = 0;
  for (int i = 0; i < kCM; ++i) mask |= uint16_t(1u << (i + kCM * n_rank));
  return mask;
}

// One stage's A box (rows row_a.., K from kc) and B box (rows row_b..) into dst_a / dst_b,
// completing on `full`. In a 2-CTA cluster each CTA loads its slice (kABoxRows or
// kBBoxRows rows) of the operand the pair shares and multicasts it to both CTAs.
template <int kCM, int kCN, int kABoxRows, int kBBoxRows>
__device__ __forceinline__ void load_ab_stage(uint32_t dst_a, uint32_t dst_b,
                                              const CUtensorMap* tma_a, const CUtensorMap* tma_b,
                                              uint32_t full, int kc, int row_a, int row_b,
                                              int m_rank, int n_rank, uint16_t mask_a,
                                              uint16_t mask_b) {
  if constexpr (kCN == 1) {
    tma_load_2d(dst_a, tma_a, full, kc, row_a);
  } else {
    tma_load_2d_multicast(dst_a + n_rank * kABoxRows * kSwizzleRowBytes, tma_a, full, kc,
                          row_a + n_rank * kABoxRows, mask_a);
  }
  if constexpr (kCM == 1) {
    tma_load_2d(dst_b, tma_b, full, kc, row_b);
  } else {
    tma_load_2d_multicast(dst_b + m_rank * kBBoxRows * kSwizzleRowBytes, tma_b, full, kc,
                          row_b + m_rank * kBBoxRows, mask_b);
  }
}

// A consumer warp hands a stage back: one arrive per warp on the empty barrier of every CTA
// of the cluster (a peer's multicast writes into this CTA's stage too).
template <int kCluster>
__device__ __forceinline__ void release_stage(uint32_t empty_bar, int lane) {
  if (lane < kCluster) {
    if constexpr (kCluster == 1) {
      mbar_arrive(empty_bar);
    } else {
      mbar_arrive_cluster(empty_bar, static_cast<uint32_t>(lane));
    }
  }
}

// Epilogue of one consumer warpgroup: its kMmaPerK m64 x BN fp32 accumulator blocks (wgmma
// layout) -> bf16, 64x64 sub-tiles through a double-buffered shared tile written in the
// 128B-swizzle layout (conflict-free for the accumulator layout), then one TMA store per
// sub-tile (TMA clips at M, N). `cbuf` / `cbuf_gen`: the warpgroup's kEpiBufs buffers
// (shared-window and generic address); `bar_id`: the warpgroup's named barrier.
template <int kMmaPerK, int BN>
__device__ __forceinline__ void store_tile_bf16(const float (&acc)[kMmaPerK][BN / 2],
                                                const CUtensorMap* tma_c, uint32_t cbuf,
                                                uint8_t* cbuf_gen, uint32_t& epi_count,
                                                int bar_id, int tid_in_wg, int row_base,
                                                int col_base, int m, int n) {
  static_assert(BN % kEpiTile == 0, "block_n must be a multiple of the 64-column sub-tile");
  const int warp = tid_in_wg / 32;
  const int lane = tid_in_wg % 32;
  const int r0 = warp * 16 + lane / 4;  // accumulator rows r0 and r0 + 8
  const int swz = r0 % 8;               // 128B swizzle: 16-B chunk ^= row % 8
#pragma unroll
  for (int mi = 0; mi < kMmaPerK; ++mi) {
#pragma unroll
    for (int nj = 0; nj < BN / kEpiTile; ++nj) {
      const uint32_t buf = epi_count & 1;
      ++epi_count;
      if (tid_in_wg == 0) bulk_wait_group_read<kEpiBufs - 1>();
      named_bar_sync(bar_id, kWarpgroupThreads);
      uint8_t* dst = cbuf_gen + buf * kEpiBufBytes;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float* v = &acc[mi][(nj * 8 + j) * 4];
        const int off = ((j ^ swz) * 16) + (lane % 4) * 4;
        *reinterpret_cast<__nv_bfloat162*>(dst + r0 * kSwizzleRowBytes + off) =
            __floats2bfloat162_rn(v[0], v[1]);
        *reinterpret_cast<__nv_bfloat162*>(dst + (r0 + 8) * kSwizzleRowBytes + off) =
            __floats2bfloat162_rn(v[2], v[3]);
      }
      fence_proxy_async_shared();
      named_bar_sync(bar_id, kWarpgroupThreads);
      if (tid_in_wg == 0) {
        const int row = row_base + mi * kWgmmaM;
        const int col = col_base + nj * kEpiTile;
        if (row < m && col < n) tma_store_2d(tma_c, cbuf + buf * kEpiBufBytes, col, row);
        bulk_commit_group();
      }
    }
  }
}

// Split-K epilogue of one consumer warpgroup: its kMmaPerK m64 x BN fp32 accumulator blocks
// (wgmma layout) stored as they are into the fp32 partial tile `part` (m x n, row-major)
// straight from registers: each thread writes float2 pairs, 4 lanes 32 contiguous bytes of a
// row (n % 8 == 0 and col even, so col < n covers the pair).
template <int kMmaPerK, int BN>
__device__ __forceinline__ void store_partials_f32(const float (&acc)[kMmaPerK][BN / 2], float* part,
                                                   int tid_in_wg, int row_base, int col_base, int m,
                                                   int n) {
  const int warp = tid_in_wg / 32;
  const int lane = tid_in_wg % 32;
  const int r0 = warp * 16 + lane / 4;  // accumulator rows r0 and r0 + 8
#pragma unroll
  for (int mi = 0; mi < kMmaPerK; ++mi) {
    const int row = row_base + mi * kWgmmaM + r0;
#pragma unroll
    for (int j = 0; j < BN / 8; ++j) {
      const int col = col_base + 8 * j + 2 * (lane % 4);
      const float* v = &acc[mi][j * 4];
      if (col < n) {
        if (row < m) {
          *reinterpret_cast<float2*>(part + static_cast<size_t>(row) * n + col) = make_float2(v[0], v[1]);
        }
        if (row + 8 < m) {
          *reinterpret_cast<float2*>(part + static_cast<size_t>(row + 8) * n + col) = make_float2(v[2], v[3]);
        }
      }
    }
  }
}

// Split-K second pass: C = bf16(sum over splits of the fp32 partials), 4 elements per
// thread (m * n is a multiple of 8 since n % 8 == 0).
// (A template only so that the header can be included by several translation units.)
template <class OutT>
__global__ void splitk_reduce_kernel(const float* __restrict__ partials, OutT* __restrict__ c,
                                     size_t count, int splits) {
  const size_t vec = count / 4;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < vec;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    float4 sum = reinterpret_cast<const float4*>(partials)[i];
    for (int s = 1; s < splits; ++s) {
      const float4 p =
          reinterpret_cast<const float4*>(partials + static_cast<size_t>(s) * count)[i];
      sum.x += p.x;
      sum.y += p.y;
      sum.z += p.z;
      sum.w += p.w;
    }
    static_assert(sizeof(OutT) == 2, "bf16 output");
    __nv_bfloat162* out = reinterpret_cast<__nv_bfloat162*>(c) + 2 * i;
    out[0] = __floats2bfloat162_rn(sum.x, sum.y);
    out[1] = __floats2bfloat162_rn(sum.z, sum.w);
  }
}

// Split-K of a work item's K steps: every split gets >= 1 K step (kb_per_split =
// ceil(K steps / split_k), then the split count that leaves non-empty), each split writes
// its fp32 partial C tile to the workspace, and the reduce pass sums them into C.
struct SplitK {
  int kb_per_split = 0;
  int splits = 1;
  std::size_t count = 0;            // elements of C
  std::shared_ptr<float> partials;  // splits x count fp32 (none with one split)
  unsigned reduce_blocks = 0;
  static constexpr int kReduceThreads = 256;
  static constexpr unsigned kMaxReduceBlocks = 65535;

  static SplitK make(int k_steps, int split_k, int m, int n) {
    if (split_k < 1) throw std::invalid_argument("split_k must be >= 1");
    SplitK s;
    s.kb_per_split = (k_steps + split_k - 1) / split_k;
    s.splits = (k_steps + s.kb_per_split - 1) / s.kb_per_split;
    s.count = static_cast<std::size_t>(m) * n;
    if (s.splits > 1) {
      float* p = nullptr;
      TILESIM_CUDA_CHECK(cudaMalloc(&p, static_cast<std::size_t>(s.splits) * s.count * sizeof(float)));
      s.partials = std::shared_ptr<float>(p, [](float* q) { cudaFree(q); });
    }
    s.reduce_blocks = static_cast<unsigned>(
        std::min<std::size_t>((s.count / 4 + kReduceThreads - 1) / kReduceThreads, kMaxReduceBlocks));
    return s;
  }
  std::size_t workspace_bytes() const { return splits > 1 ? splits * count * sizeof(float) : 0; }
  // The second pass (none with one split).
  void reduce(cudaStream_t stream, __nv_bfloat16* c) const {
    if (splits <= 1) return;
    splitk_reduce_kernel<__nv_bfloat16><<<reduce_blocks, kReduceThreads, 0, stream>>>(partials.get(), c, count, splits);
    TILESIM_CHECK_LAUNCH("splitk_reduce_kernel");
  }
};

// ---------------------------------------------------------------------- host side
// Persistent grid: as many clusters as fit on the GPU (cudaOccupancyMaxActiveClusters),
// capped by the number of work units.
struct PersistentGrid {
  unsigned grid_ctas = 0;
  int resident_clusters = 0;
};

inline cudaLaunchAttribute cluster_attribute(int cluster_ctas) {
  cudaLaunchAttribute a{};
  a.id = cudaLaunchAttributeClusterDimension;
  a.val.clusterDim.x = static_cast<unsigned>(cluster_ctas);
  a.val.clusterDim.y = 1;
  a.val.clusterDim.z = 1;
  return a;
}

template <class Kernel>
PersistentGrid persistent_grid(Kernel kernel, const std::string& name, int threads,
                               int smem_bytes, int cluster_ctas, long long work_units,
                               int reserve_sms = 0) {
  int device = 0, sms = 0;
  TILESIM_CUDA_CHECK(cudaGetDevice(&device));
  TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  cudaLaunchAttribute attr[1] = {cluster_attribute(cluster_ctas)};
  cudaLaunchConfig_t probe{};
  probe.gridDim = dim3(static_cast<unsigned>(sms / cluster_ctas * cluster_ctas));
  probe.blockDim = dim3(static_cast<unsigned>(threads));
  probe.dynamicSmemBytes = static_cast<size_t>(smem_bytes);
  probe.attrs = attr;
  probe.numAttrs = 1;
  PersistentGrid g;
  TILESIM_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&g.resident_clusters, kernel, &probe));
  if (g.resident_clusters < 1) throw std::runtime_error(name + ": no cluster fits on the GPU");
  // reserve_sms: SMs left without a CTA of this GEMM (a concurrent kernel gets them).
  if (reserve_sms < 0 || reserve_sms > sms - cluster_ctas)
    throw std::invalid_argument(name + ": reserve_sms must be in [0, SMs - cluster size]");
  const long long max_clusters = (sms - reserve_sms) / cluster_ctas;
  const long long clusters = std::min({static_cast<long long>(g.resident_clusters), max_clusters, work_units});
  g.grid_ctas = static_cast<unsigned>(clusters * cluster_ctas);
  return g;
}

template <class Kernel, class... Args>
void launch_clustered(Kernel kernel, unsigned grid_ctas, int threads, int smem_bytes,
                      int cluster_ctas, cudaStream_t stream, Args... args) {
  cudaLaunchAttribute a[1] = {cluster_attribute(cluster_ctas)};
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(grid_ctas);
  cfg.blockDim = dim3(static_cast<unsigned>(threads));
  cfg.dynamicSmemBytes = static_cast<size_t>(smem_bytes);
  cfg.stream = stream;
  cfg.attrs = a;
  cfg.numAttrs = 1;
  TILESIM_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, args...));
}

// One mark of the stage trace (GemmArgs::stage_trace), by the thread that owns it.
__device__ __forceinline__ void stage_mark(const StageTrace& t, bool owner, int step, int mark) {
  if constexpr (kStageTraceMarks) {
    if (owner && t.cycles != nullptr && step < t.steps)
      t.cycles[(static_cast<std::size_t>(blockIdx.x) * t.steps + step) * cuda::kStageMarks + mark] = clock64();
  }
}

// One end of the CTA's span in the stage trace (ptx::clock_span_mark): when its producer
// starts walking the tiles and when consumer warpgroup 0 is done, its last tile's stores
// complete.
__device__ __forceinline__ void span_mark(const StageTrace& t, bool owner, int at) {
  if (owner && t.cycles != nullptr) clock_span_mark(t.span, at);
}

}  // namespace tilesim::gemm::sm90
