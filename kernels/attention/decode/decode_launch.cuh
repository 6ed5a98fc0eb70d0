// Host launcher for one decode_splitkv instantiation (included by the generated
// per-instance translation units only).
#pragma once

#include <cuda_runtime.h>

#include "cuda_check.hpp"
#include "decode_registry.hpp"
#include "decode_splitkv.cuh"

namespace tilesim::decode {

template <int kHeadDim, int kBlockN, int kStages, int kMTiles, bool kPaged, bool kL2Prefetch>
struct SplitKvLauncher {
  using T = SplitKvTraits<kHeadDim, kBlockN, kStages, kMTiles, kPaged, kL2Prefetch>;
  static constexpr auto kKernel =
      decode_splitkv_kernel<kHeadDim, kBlockN, kStages, kMTiles, kPaged, kL2Prefetch>;
  // Combine: one warp per output row; 4 warps per block is a small block (128 threads) that
  // still gives the scheduler many blocks (rows / 4) to spread over the SMs.
  static constexpr int kCombineWarpsPerBlock = 4;

  static void opt_in_smem() {
    static bool done = false;  // the runner is single-threaded
    if (done) return;
    TILESIM_CUDA_CHECK(
        cudaFuncSetAttribute(kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, T::kSmemBytes));
    done = true;
  }

  static void launch(const DecodeParams& p, cudaStream_t stream) {
    opt_in_smem();
    const dim3 grid(static_cast<unsigned>(p.splits), static_cast<unsigned>(p.heads_kv),
                    static_cast<unsigned>(p.batch));
    kKernel<<<grid, T::kThreads, T::kSmemBytes, stream>>>(p);
    TILESIM_CHECK_LAUNCH("decode_splitkv_kernel");
    if (p.splits > 1) {
      const int rows = p.batch * p.q_per_seq * p.heads_q;
      const int blocks = (rows + kCombineWarpsPerBlock - 1) / kCombineWarpsPerBlock;
      // Programmatic stream serialisation: the combine grid is launched while the split grid
      // drains (hides one launch latency); griddepcontrol.wait inside orders the data.
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(static_cast<unsigned>(blocks));
      cfg.blockDim = dim3(32 * kCombineWarpsPerBlock);
      cfg.dynamicSmemBytes = 0;
      cfg.stream = stream;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr[0].val.programmaticStreamSerializationAllowed = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      TILESIM_CUDA_CHECK(cudaLaunchKernelEx(
          &cfg, decode_combine_kernel<kHeadDim>, static_cast<const float*>(p.o_part),
          static_cast<const float*>(p.lse_part), p.out, rows, p.splits));
    }
  }

  static int ctas_per_sm() {
    opt_in_smem();
    int n = 0;
    TILESIM_CUDA_CHECK(
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kKernel, T::kThreads, T::kSmemBytes));
    return n;
  }

  static DecodeInstance instance() {
    DecodeInstance inst;
    inst.tile = DecodeTile{kHeadDim, kBlockN, kStages, kMTiles, kPaged, kL2Prefetch};
    inst.smem_bytes = T::kSmemBytes;
    inst.launch = &launch;
    inst.ctas_per_sm = &ctas_per_sm;
    return inst;
  }
};

}  // namespace tilesim::decode
