// cuDNN's fused scaled-dot-product attention, built through the cuDNN frontend's graph API
// on the runner's own buffers: the vendor reference timed in the same process, with the same
// inputs, checks and round-robin passes as our kernels (torch_sdpa_ref.py reaches the same
// cuDNN engines through torch, in another process). Compiled only where the frontend headers
// (scripts/setup.sh puts them in .tools/) and the cuDNN library were found: CMake then
// defines TILESIM_HAVE_CUDNN_SDPA (else TILESIM_NO_CUDNN_SDPA_REASON says why).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "attn_types.hpp"

namespace tilesim::attention {

// "cuDNN 9.19.0 (library at run time), frontend 1.32.0": what a measurement records.
std::string cudnn_sdpa_versions();

class CudnnSdpa {
 public:
  // Builds and plans the graph for `p` (BHSD bf16 Q/O, BHSD K/V with heads_kv heads, fp32
  // softmax, scale 1/sqrt(head_dim), causal top-left as our kernels). Throws
  // std::runtime_error with cuDNN's message when cuDNN cannot serve the problem.
  explicit CudnnSdpa(const AttnProblem& p);
  ~CudnnSdpa();
  CudnnSdpa(const CudnnSdpa&) = delete;
  CudnnSdpa& operator=(const CudnnSdpa&) = delete;

  void launch(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* o,
              cudaStream_t st);
  // The execution plan (engine and knobs) cuDNN's heuristics picked.
  const std::string& plan_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tilesim::attention
