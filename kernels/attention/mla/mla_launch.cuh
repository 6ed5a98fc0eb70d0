// Host launcher for one mla_decode instantiation (included by the generated per-instance
// translation units only).
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "decode_splitkv.cuh"  // decode_combine_kernel: the same split layout
#include "mla_heads_on_m.cuh"
#include "mla_kv_on_m.cuh"
#include "mla_registry.hpp"
#include "tensor_map.hpp"

namespace tilesim::mla {

template <int kKvOnM, int kBlockQ, int kStages>
struct MlaLauncher {
  static_assert(kKvOnM == 1 || kBlockQ == 64, "heads on M: 64 query rows per CTA (wgmma M)");
  using Sm = MlaSmem<kBlockQ, kStages>;
  static constexpr auto kernel() {
    if constexpr (kKvOnM != 0)
      return mla_kv_on_m_kernel<kBlockQ, kStages>;
    else
      return mla_heads_on_m_kernel<kStages>;
  }
  // Combine: one warp per output row, 4 warps per block (as decode_splitkv).
  static constexpr int kCombineWarpsPerBlock = 4;

  static std::function<void(cudaStream_t)> prepare(const MlaParams& p, const MlaBuffers& buf) {
    auto fail = [](const std::string& what) { throw std::invalid_argument("mla launch: " + what); };
    if (p.batch < 1 || p.heads_q < 1 || p.q_per_seq < 1 || p.rows != p.heads_q * p.q_per_seq)
      fail("batch, heads_q, q_per_seq must be >= 1 and rows = heads_q * q_per_seq");
    if (p.splits < 1 || p.blocks_per_split < 1) fail("splits and blocks_per_split must be >= 1");
    if (p.splits > 1 && (p.o_part == nullptr || p.lse_part == nullptr)) fail("splits > 1 needs o_part and lse_part");
    if (buf.q == nullptr || buf.kv_pool == nullptr || buf.num_pages < 1 || p.block_table == nullptr ||
        p.seq_lens == nullptr || p.out == nullptr)
      fail("null buffer");
    static bool smem_set = false;  // the runner is single-threaded
    if (!smem_set) {
      TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel(), cudaFuncAttributeMaxDynamicSharedMemorySize, Sm::kSmemBytes));
      smem_set = true;
    }
    constexpr cuuint64_t kRowBytes = static_cast<cuuint64_t>(kHeadDimQk) * 2;
    // Q as [batch][rows][576]: rows past a sequence's query rows are out of bounds (zeros).
    const cuuint64_t q_dims[3] = {kHeadDimQk, static_cast<cuuint64_t>(p.rows), static_cast<cuuint64_t>(p.batch)};
    const cuuint64_t q_strides[2] = {kRowBytes, kRowBytes * static_cast<cuuint64_t>(p.rows)};
    const cuuint32_t q_box[3] = {64, kBlockQ, 1};
    const CUtensorMap tm_q = cuda::make_tensor_map_bf16_sw128(buf.q, 3, q_dims, q_strides, q_box);
    // The pool as [num_pages][64][576]: one box column panel of one page per load.
    const cuuint64_t kv_dims[3] = {kHeadDimQk, kPageSize, static_cast<cuuint64_t>(buf.num_pages)};
    const cuuint64_t kv_strides[2] = {kRowBytes, kRowBytes * kPageSize};
    const cuuint32_t kv_box[3] = {64, kPageSize, 1};
    const CUtensorMap tm_kv = cuda::make_tensor_map_bf16_sw128(buf.kv_pool, 3, kv_dims, kv_strides, kv_box);
    // Row blocks fastest: the CTAs that read the same pages (one sequence and split, several
    // row blocks) are launched together and share them in L2.
    const dim3 grid(static_cast<unsigned>((p.rows + kBlockQ - 1) / kBlockQ), static_cast<unsigned>(p.splits),
                    static_cast<unsigned>(p.batch));
    return [=](cudaStream_t stream) {
      kernel()<<<grid, Sm::kThreads, Sm::kSmemBytes, stream>>>(tm_q, tm_kv, p);
      TILESIM_CHECK_LAUNCH("mla decode kernel");
      if (p.splits == 1) return;
      const int rows = p.batch * p.rows;
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(static_cast<unsigned>((rows + kCombineWarpsPerBlock - 1) / kCombineWarpsPerBlock));
      cfg.blockDim = dim3(32 * kCombineWarpsPerBlock);
      cfg.stream = stream;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr[0].val.programmaticStreamSerializationAllowed = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      TILESIM_CUDA_CHECK(cudaLaunchKernelEx(&cfg, decode::decode_combine_kernel<kHeadDimV>,
                                            static_cast<const float*>(p.o_part),
                                            static_cast<const float*>(p.lse_part), p.out, rows, p.splits));
    };
  }

  static MlaInstance instance() {
    MlaInstance inst;
    inst.tile = MlaTile{kPageSize, kStages, kKvOnM, kBlockQ};
    inst.smem_bytes = Sm::kSmemBytes;
    inst.prepare = &prepare;
    return inst;
  }
};

}  // namespace tilesim::mla
