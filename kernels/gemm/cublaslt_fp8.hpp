// The vendor side of the fp8 GEMM comparison: cuBLASLt e4m3 x e4m3 -> bf16 with fp32
// compute, in the runner's convention C[M,N] = A[M,K] * B[N,K]^T (row-major, both K-major).
//
// On Hopper, cuBLASLt scales fp8 operands per TENSOR only (CUBLASLT_MATMUL_DESC_A_SCALE_POINTER
// / B_SCALE_POINTER: one fp32 each); it has no per-1x128 / per-128x128 block scales, so it does
// less work than the block-scaled kernel (no per-group promotion with scales, no scale loads).
// Its runs are recorded as impl "cublaslt_fp8_tensor_scale" (and "..._fast_accum" with
// CUBLASLT_MATMUL_DESC_FAST_ACCUM = 1: no promotion out of the tensor core's accumulator).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace tilesim::gemm {

class CublasLtFp8 {
 public:
  // Plans the matmul for one shape (heuristic algorithm pick) with unit per-tensor scales.
  CublasLtFp8(int m, int n, int k, bool fast_accum);
  ~CublasLtFp8();
  CublasLtFp8(const CublasLtFp8&) = delete;
  CublasLtFp8& operator=(const CublasLtFp8&) = delete;

  // Empty when a plan exists, else why cuBLASLt cannot run this shape.
  const std::string& unsupported_reason() const { return why_; }
  // d[M,N] bf16 = a[M,K] e4m3 * b[N,K]^T e4m3.
  void run(const void* a, const void* b, void* d, cudaStream_t stream) const;

 private:
  std::string why_;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t lay_a_ = nullptr, lay_b_ = nullptr, lay_d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  void* workspace_ = nullptr;
  float* unit_scale_ = nullptr;  // device fp32 1.0 for the A and B scale pointers
};

}  // namespace tilesim::gemm
