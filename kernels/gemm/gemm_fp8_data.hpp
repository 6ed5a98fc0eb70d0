// Inputs of the block-scaled fp8 GEMM check: random A, B quantized to e4m3 the way an FP8
// training recipe does (per 1x128 group of A, per 128x128 block of B, scale = amax / 448),
// plus the dequantized fp32 copies that the fp32 reference GEMM reads. Scale layouts are
// those of Fp8Operands (gemm_registry.hpp).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "gemm_registry.hpp"

namespace tilesim::gemm {

// Largest finite e4m3 magnitude: the quantization maps a group's amax onto it.
inline constexpr float kE4m3Max = 448.0f;

// Device buffers of one fp8 problem (owned; release with free_fp8_problem).
struct Fp8Problem {
  int m = 0, n = 0, k = 0;
  int k_groups = 0, n_blocks = 0, scale_a_ld = 0;
  __nv_fp8_e4m3* a = nullptr;  // M x K
  __nv_fp8_e4m3* b = nullptr;  // N x K
  float* scale_a = nullptr;    // [k_groups][scale_a_ld]
  float* scale_b = nullptr;    // [n_blocks][k_groups]
  float* a_deq = nullptr;      // M x K fp32: a * scale_a (reference input)
  float* b_deq = nullptr;      // N x K fp32: b * scale_b
  Fp8Operands operands() const { return {a, b, scale_a, scale_a_ld, scale_b}; }
};

// Allocates and fills: values are standard normals times 2^u, u uniform in [-3, 3) drawn
// per quantization group (so scales differ by up to 64x between groups and a wrong scale
// index cannot pass), then quantized with RN to e4m3 (satfinite) and dequantized.
Fp8Problem make_fp8_problem(int m, int n, int k, uint64_t seed, cudaStream_t stream);
void free_fp8_problem(Fp8Problem& p);

// out[i] = float(q[i]) (unit scale): the operands as a per-tensor-scaled GEMM sees them.
void decode_e4m3(const __nv_fp8_e4m3* q, float* out, std::size_t count, cudaStream_t stream);
void convert_f32_to_bf16(const float* in, __nv_bfloat16* out, std::size_t count,
                         cudaStream_t stream);

}  // namespace tilesim::gemm
