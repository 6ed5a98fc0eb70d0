// The softmax step of the float32 reference kernels (one thread block per query row): the
// scaled scores of the visible keys and their softmax weights, reduced across the block. One
// copy serves every attention reference, so the references of two kernels cannot drift
// apart in how they round, which a cross-kernel comparison would otherwise have to rule out.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace tilesim::testdata {

// Writes sc[j] = exp(scale * q_row . keys[j] - max) for j < visible (keys: `dim` bf16
// values per key, back to back) and returns their sum, the softmax denominator, to every
// thread. Every thread of the block calls it; red holds blockDim.x floats (a power of two).
// On return sc and the sum are visible to the whole block.
__device__ inline float reference_softmax_row(const float* q_row, const __nv_bfloat16* keys,
                                              int dim, int visible, float scale, float* sc,
                                              float* red) {
  const int tid = threadIdx.x;
  float mx = -INFINITY;
  for (int j = tid; j < visible; j += blockDim.x) {
    const __nv_bfloat16* kr = keys + static_cast<int64_t>(j) * dim;
    float dot = 0.f;
    for (int d = 0; d < dim; ++d) dot += q_row[d] * __bfloat162float(kr[d]);
    sc[j] = dot * scale;
    mx = fmaxf(mx, sc[j]);
  }
  red[tid] = mx;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (tid < s) red[tid] = fmaxf(red[tid], red[tid + s]);
    __syncthreads();
  }
  mx = red[0];
  __syncthreads();
  float sum = 0.f;
  for (int j = tid; j < visible; j += blockDim.x) {
    const float e = expf(sc[j] - mx);
    sc[j] = e;
    sum += e;
  }
  red[tid] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (tid < s) red[tid] += red[tid + s];
    __syncthreads();
  }
  const float total = red[0];
  __syncthreads();  // scores and total visible to every thread before the PV pass
  return total;
}

}  // namespace tilesim::testdata
