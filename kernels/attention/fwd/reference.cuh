// Correctness machinery for the forward-attention runner: random bf16 inputs generated
// on the GPU, a naive float32 GPU reference, a float64 CPU reference for small shapes,
// and a GPU comparison that counts NaNs (a NaN never passes).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "attn_types.hpp"

namespace tilesim::attention {

// Fills n bf16 values, uniform in [-amplitude, amplitude), from a counter hash (seeded).
void fill_random_bf16(__nv_bfloat16* dst, size_t n, uint64_t seed, float amplitude,
                      cudaStream_t stream);

// O_ref (float32, [B][Hq][Sq][D]) = softmax(Q K^T * scale) V; one CTA per query row.
void reference_attention_gpu(const AttnArgs& a, float* o_ref, cudaStream_t stream);

// Same in float64 on the CPU from host copies of the bf16 inputs (small shapes only).
std::vector<double> reference_attention_cpu(const AttnProblem& p,
                                            const std::vector<__nv_bfloat16>& q,
                                            const std::vector<__nv_bfloat16>& k,
                                            const std::vector<__nv_bfloat16>& v);

struct CompareResult {
  double rel_fro_err = 0.0;  // ||O - R||_F / ||R||_F
  double max_abs_err = 0.0;
  unsigned long long nan_count = 0;  // NaN or Inf in O (the poison pattern is NaN)
};
CompareResult compare_gpu(const __nv_bfloat16* o, const float* ref, size_t n, cudaStream_t stream);

}  // namespace tilesim::attention
