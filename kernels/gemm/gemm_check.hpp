// Helpers for checking GEMM outputs: random bf16 fill (never zeros), NaN poisoning of
// outputs, an error reduction against an fp32 reference that also counts non-finite outputs
// (so an unwritten, still-NaN element always fails), the cuBLAS reference and the bf16
// tolerance. Shared by tilesim-gemm-bench and tilesim-layer-bench.
#pragma once

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace tilesim::gemm {

// Uniform values in [-1, -1/64] U [1/64, 1] from a counter-based hash: reproducible per
// seed, no exact zeros (zeros run faster on tensor cores and hide indexing errors).
void fill_random_bf16(__nv_bfloat16* p, std::size_t count, uint64_t seed, cudaStream_t stream);
void fill_nan_bf16(__nv_bfloat16* p, std::size_t count, cudaStream_t stream);

struct ErrorStats {
  double sum_sq_err = 0;             // sum (out - ref)^2 over finite outputs
  double sum_sq_ref = 0;             // sum ref^2
  unsigned long long nonfinite = 0;  // outputs that are NaN or Inf
  double rel_frobenius() const;      // sqrt(err / ref); +inf if any output is non-finite
};
ErrorStats compare_bf16_to_f32(const __nv_bfloat16* out, const float* ref, std::size_t count,
                               cudaStream_t stream);

// Throws std::runtime_error naming `what` unless `s` is CUBLAS_STATUS_SUCCESS.
void cublas_check(cublasStatus_t s, const char* what);

// C[m,n] = A[m,k] * B[n,k]^T for row-major bf16 A and B with cuBLAS (fp32 accumulation), C of
// `c_type` (CUDA_R_32F: the reference kernels are checked against; CUDA_R_16BF: the library
// run they are timed against).
void cublas_gemm_bf16(cublasHandle_t h, int m, int n, int k, const __nv_bfloat16* a,
                      const __nv_bfloat16* b, void* c, cudaDataType_t c_type);

// Tolerance on the relative Frobenius error of a bf16 GEMM against the fp32 reference: the
// bf16 output rounding alone is up to 2^-9 relative per element (unit roundoff); allow twice
// that, plus K * 2^-24 for fp32 accumulation-order differences against cuBLAS. A missing
// k-block or 64x64 sub-tile is far above this; an unwritten element is NaN and fails outright.
double bf16_gemm_tolerance(int k);

}  // namespace tilesim::gemm
