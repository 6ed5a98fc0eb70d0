// Device-side helpers for checking GEMM outputs: random bf16 fill (never zeros), NaN
// poisoning of outputs, and an error reduction against an fp32 reference that also
// counts non-finite outputs, so an unwritten (still-NaN) element always fails.
#pragma once

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

}  // namespace tilesim::gemm
