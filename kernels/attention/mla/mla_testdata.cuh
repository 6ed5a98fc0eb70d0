// Test data and the float32 GPU reference for MLA decode (runner only; not timed).
//  - scatter_latent_to_pages: builds the paged pool from the contiguous latent cache
//    [batch, max_len, 576] through a page owner list; rows at or past a sequence's own length
//    are NaN, so a kernel that reads past seq_lens[b] poisons its output.
//  - mla_reference_kernel: one CTA per checked query row, plain fp32 math over the
//    contiguous latent cache (K = the whole 576-value row, V = its first 512 values).
// Random fills and NaN poisoning are decode's (decode_testdata.cuh), the softmax step
// kernels/common/reference_softmax.cuh.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "decode_testdata.cuh"
#include "mla_params.hpp"

namespace tilesim::mla::testdata {

using decode::testdata::fill_nan_bf16;
using decode::testdata::fill_nan_f32;
using decode::testdata::fill_uniform_bf16;

// pool[page][off][d] <- latent[b][i * 64 + off][d] for page_owner[page] = b * max_pages + i.
__global__ void scatter_latent_to_pages(const __nv_bfloat16* __restrict__ latent, __nv_bfloat16* __restrict__ pool,
                                        const int* __restrict__ page_owner, const int* __restrict__ seq_lens,
                                        int num_pages, int max_pages, int max_len) {
  const int64_t n = static_cast<int64_t>(num_pages) * kPageSize * kHeadDimQk;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int d = static_cast<int>(e % kHeadDimQk);
    const int off = static_cast<int>((e / kHeadDimQk) % kPageSize);
    const int page = static_cast<int>(e / (static_cast<int64_t>(kHeadDimQk) * kPageSize));
    const int owner = page_owner[page];
    const int b = owner / max_pages;
    const int row = (owner % max_pages) * kPageSize + off;
    pool[e] = row < seq_lens[b] ? latent[(static_cast<int64_t>(b) * max_len + row) * kHeadDimQk + d]
                                : __float2bfloat16(__int_as_float(0x7fc00000));
  }
}

// out[i][d] (fp32) for query row row_ids[i] = (b * q_per_seq + token) * heads_q + head;
// scratch holds gridDim.x x max_len scores. blockDim.x = 256 (a multiple of 32, <= 1024).
__global__ void mla_reference_kernel(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ latent,
                                     const int* __restrict__ seq_lens, const int* __restrict__ row_ids,
                                     float* scratch, float* __restrict__ out, int q_per_seq, int heads_q,
                                     int max_len, float scale) {
  __shared__ float q_row[kHeadDimQk];
  __shared__ float red[1024];
  const int row = row_ids[blockIdx.x];
  const int token = (row / heads_q) % q_per_seq;
  const int b = row / (heads_q * q_per_seq);
  const int visible = seq_lens[b] - (q_per_seq - 1 - token);
  const __nv_bfloat16* kv = latent + static_cast<int64_t>(b) * max_len * kHeadDimQk;
  float* sc = scratch + static_cast<int64_t>(blockIdx.x) * max_len;
  const int tid = threadIdx.x;
  for (int d = tid; d < kHeadDimQk; d += blockDim.x)
    q_row[d] = __bfloat162float(q[static_cast<int64_t>(row) * kHeadDimQk + d]);
  __syncthreads();
  const float total =
      tilesim::testdata::reference_softmax_row(q_row, kv, kHeadDimQk, visible, scale, sc, red);
  for (int d = tid; d < kHeadDimV; d += blockDim.x) {
    float acc = 0.f;
    for (int j = 0; j < visible; ++j) acc += sc[j] * __bfloat162float(kv[static_cast<int64_t>(j) * kHeadDimQk + d]);
    out[static_cast<int64_t>(blockIdx.x) * kHeadDimV + d] = visible > 0 ? acc / total : 0.f;
  }
}

}  // namespace tilesim::mla::testdata
