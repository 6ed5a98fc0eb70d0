// Test data and the float32 GPU reference for decode attention (runner only; not timed).
//  - fill_uniform_bf16: counter-based hash -> uniform values in [-amp, amp), fresh per seed.
//  - scatter_to_pages: builds the paged pool from contiguous K/V through a page table; the
//    unused tail of each sequence's last page is filled with NaN, so a kernel that reads past
//    seq_kv poisons its output.
//  - decode_reference_kernel: one CTA per (batch, token, query head) row, plain fp32 math
//    over the contiguous layout (scores kept in a global scratch row; the softmax step is
//    kernels/common/reference_softmax.cuh).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "reference_softmax.cuh"

namespace tilesim::decode::testdata {

__host__ __device__ inline uint32_t hash32(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

__global__ void fill_uniform_bf16(__nv_bfloat16* dst, int64_t n, uint64_t seed, float amp) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint32_t h = hash32(seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(i));
    const float u = static_cast<float>(h) * (1.0f / 4294967296.0f);  // [0, 1)
    dst[i] = __float2bfloat16((2.f * u - 1.f) * amp);
  }
}

__global__ void fill_nan_bf16(__nv_bfloat16* dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16(__int_as_float(0x7fc00000));
}

__global__ void fill_nan_f32(float* dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __int_as_float(0x7fc00000);
}

// pool[page][h][off][d] <- src[b][h][i * page_size + off][d] for page = page_of[b][i];
// rows >= seq_kv of a used page get NaN. page_owner[page] = b * max_pages + i.
__global__ void scatter_to_pages(const __nv_bfloat16* __restrict__ src,
                                 __nv_bfloat16* __restrict__ pool,
                                 const int* __restrict__ page_owner, int num_pages, int heads_kv,
                                 int page_size, int head_dim, int seq_kv, int max_pages) {
  const int64_t n = static_cast<int64_t>(num_pages) * heads_kv * page_size * head_dim;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int d = static_cast<int>(e % head_dim);
    const int off = static_cast<int>((e / head_dim) % page_size);
    const int h = static_cast<int>((e / (static_cast<int64_t>(head_dim) * page_size)) % heads_kv);
    const int page = static_cast<int>(e / (static_cast<int64_t>(head_dim) * page_size * heads_kv));
    const int owner = page_owner[page];
    const int b = owner / max_pages;
    const int row = (owner % max_pages) * page_size + off;
    pool[e] = row < seq_kv
                  ? src[((static_cast<int64_t>(b) * heads_kv + h) * seq_kv + row) * head_dim + d]
                  : __float2bfloat16(__int_as_float(0x7fc00000));
  }
}

// Reference: out[row][d] in fp32; scratch holds rows x seq_kv scores. blockDim.x must be a
// multiple of head_dim; head_dim <= 128.
__global__ void decode_reference_kernel(const __nv_bfloat16* __restrict__ q,
                                        const __nv_bfloat16* __restrict__ k,
                                        const __nv_bfloat16* __restrict__ v, float* scratch,
                                        float* __restrict__ out, int q_per_seq, int heads_q,
                                        int heads_kv, int seq_kv, int head_dim, float scale) {
  __shared__ float q_row[128];
  __shared__ float red[1024];
  const int row = blockIdx.x;  // (b * q_per_seq + qi) * heads_q + hq
  const int hq = row % heads_q;
  const int qi = (row / heads_q) % q_per_seq;
  const int b = row / (heads_q * q_per_seq);
  const int kvh = hq / (heads_q / heads_kv);
  const int visible = seq_kv - (q_per_seq - 1 - qi);
  const int64_t kv0 = (static_cast<int64_t>(b) * heads_kv + kvh) * seq_kv;
  float* sc = scratch + static_cast<int64_t>(row) * seq_kv;
  const int tid = threadIdx.x;
  for (int d = tid; d < head_dim; d += blockDim.x)
    q_row[d] = __bfloat162float(q[static_cast<int64_t>(row) * head_dim + d]);
  __syncthreads();

  const float total = tilesim::testdata::reference_softmax_row(q_row, k + kv0 * head_dim, head_dim,
                                                               visible, scale, sc, red);

  const int d = tid % head_dim;
  const int part = tid / head_dim;
  const int parts = blockDim.x / head_dim;
  float acc = 0.f;
  for (int j = part; j < visible; j += parts)
    acc += sc[j] * __bfloat162float(v[(kv0 + j) * head_dim + d]);
  red[tid] = acc;
  __syncthreads();
  if (part == 0) {
    for (int pp = 1; pp < parts; ++pp) acc += red[pp * head_dim + d];
    out[static_cast<int64_t>(row) * head_dim + d] = acc / total;
  }
}

}  // namespace tilesim::decode::testdata
