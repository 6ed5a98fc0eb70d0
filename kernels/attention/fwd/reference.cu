#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cuda_check.hpp"
#include "reference.cuh"

namespace tilesim::attention {
namespace {

__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

__global__ void fill_kernel(__nv_bfloat16* dst, size_t n, uint64_t seed, float amplitude) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const uint64_t r = splitmix64(seed * 0x100000001B3ull + i);
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0,1), 24 bits
    dst[i] = __float2bfloat16((2.0f * u - 1.0f) * amplitude);
  }
}

constexpr int kRefThreads = 128;

// One CTA per (query row, head, batch): scores of the row in shared memory (seq_kv
// floats), block max and sum, then each thread accumulates some output columns.
__global__ void reference_kernel(const AttnArgs a, float* o_ref, float scale) {
  extern __shared__ float sh[];
  const AttnProblem& p = a.prob;
  const int D = p.head_dim;
  float* q_row = sh;       // D floats
  float* scores = sh + D;  // seq_kv floats
  __shared__ float red[kRefThreads];
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int hkv = h / (p.heads_q / p.heads_kv);
  const __nv_bfloat16* q = a.q + ((static_cast<size_t>(b) * p.heads_q + h) * p.seq_q + i) * D;
  const __nv_bfloat16* k = a.k + (static_cast<size_t>(b) * p.heads_kv + hkv) * p.seq_kv * D;
  const __nv_bfloat16* v = a.v + (static_cast<size_t>(b) * p.heads_kv + hkv) * p.seq_kv * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) q_row[d] = __bfloat162float(q[d]);
  __syncthreads();
  // One warp per key: lanes split the head dim (coalesced), then a shuffle reduction.
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, n_warps = blockDim.x / 32;
  float mx = -INFINITY;
  for (int j = warp; j < p.seq_kv; j += n_warps) {
    const bool masked = p.causal && j > i;
    float acc = 0.f;
    if (!masked) {
      const __nv_bfloat16* kr = k + static_cast<size_t>(j) * D;
      for (int d = lane; d < D; d += 32) acc = fmaf(q_row[d], __bfloat162float(kr[d]), acc);
    }
    for (int off = 16; off > 0; off /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    const float s = masked ? -INFINITY : acc * scale;
    if (lane == 0) scores[j] = s;
    mx = fmaxf(mx, s);
  }
  __syncthreads();
  red[threadIdx.x] = mx;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]);
    __syncthreads();
  }
  mx = red[0];
  __syncthreads();
  float sum = 0.f;
  for (int j = threadIdx.x; j < p.seq_kv; j += blockDim.x) {
    const float e = scores[j] == -INFINITY ? 0.f : expf(scores[j] - mx);
    scores[j] = e;
    sum += e;
  }
  red[threadIdx.x] = sum;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  sum = red[0];
  float* o = o_ref + ((static_cast<size_t>(b) * p.heads_q + h) * p.seq_q + i) * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.f;
    for (int j = 0; j < p.seq_kv; ++j)
      acc = fmaf(scores[j], __bfloat162float(v[static_cast<size_t>(j) * D + d]), acc);
    o[d] = acc / sum;
  }
}

constexpr int kCompareBlocks = 512;
constexpr int kCompareThreads = 256;

// Per-block partial sums (float: each thread adds ~n/131072 terms), summed on the host in
// double. Device code stays free of double arithmetic (ptxas -warn-double-usage is an error).
__global__ void compare_kernel(const __nv_bfloat16* o, const float* ref, size_t n,
                               float* partial_diff2, float* partial_ref2,
                               unsigned long long* nan_count, unsigned int* max_abs_bits) {
  __shared__ float red_d[kCompareThreads], red_r[kCompareThreads];
  float diff2 = 0.f, ref2 = 0.f, max_abs = 0.f;
  unsigned long long nans = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float x = __bfloat162float(o[i]);
    if (!isfinite(x)) {
      ++nans;
      continue;
    }
    const float d = x - ref[i];
    diff2 = fmaf(d, d, diff2);
    ref2 = fmaf(ref[i], ref[i], ref2);
    max_abs = fmaxf(max_abs, fabsf(d));
  }
  red_d[threadIdx.x] = diff2;
  red_r[threadIdx.x] = ref2;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) {
      red_d[threadIdx.x] += red_d[threadIdx.x + w];
      red_r[threadIdx.x] += red_r[threadIdx.x + w];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial_diff2[blockIdx.x] = red_d[0];
    partial_ref2[blockIdx.x] = red_r[0];
  }
  if (nans) atomicAdd(nan_count, nans);
  atomicMax(max_abs_bits, __float_as_uint(max_abs));  // non-negative floats order like uints
}

}  // namespace

void fill_random_bf16(__nv_bfloat16* dst, size_t n, uint64_t seed, float amplitude,
                      cudaStream_t stream) {
  fill_kernel<<<1024, 256, 0, stream>>>(dst, n, seed, amplitude);
  TILESIM_CHECK_LAUNCH("fill_kernel");
}

void reference_attention_gpu(const AttnArgs& a, float* o_ref, cudaStream_t stream) {
  const AttnProblem& p = a.prob;
  const size_t smem = static_cast<size_t>(p.head_dim + p.seq_kv) * sizeof(float);
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(
      reference_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.head_dim)));
  reference_kernel<<<dim3(p.seq_q, p.heads_q, p.batch), kRefThreads, smem, stream>>>(a, o_ref,
                                                                                     scale);
  TILESIM_CHECK_LAUNCH("reference_kernel");
}

std::vector<double> reference_attention_cpu(const AttnProblem& p,
                                            const std::vector<__nv_bfloat16>& q,
                                            const std::vector<__nv_bfloat16>& k,
                                            const std::vector<__nv_bfloat16>& v) {
  const int D = p.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> out(static_cast<size_t>(p.batch) * p.heads_q * p.seq_q * D);
  std::vector<double> s(p.seq_kv);
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.heads_q; ++h) {
      const int hkv = h / (p.heads_q / p.heads_kv);
      const size_t qo = (static_cast<size_t>(b) * p.heads_q + h) * p.seq_q * D;
      const size_t ko = (static_cast<size_t>(b) * p.heads_kv + hkv) * p.seq_kv * D;
      for (int i = 0; i < p.seq_q; ++i) {
        double mx = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < p.seq_kv; ++j) {
          if (p.causal && j > i) {
            s[j] = -std::numeric_limits<double>::infinity();
            continue;
          }
          double acc = 0.0;
          for (int d = 0; d < D; ++d)
            acc += static_cast<double>(__bfloat162float(q[qo + static_cast<size_t>(i) * D + d])) *
                   static_cast<double>(__bfloat162float(k[ko + static_cast<size_t>(j) * D + d]));
          s[j] = acc * scale;
          mx = std::max(mx, s[j]);
        }
        double sum = 0.0;
        for (int j = 0; j < p.seq_kv; ++j) {
          s[j] = std::isinf(s[j]) ? 0.0 : std::exp(s[j] - mx);
          sum += s[j];
        }
        for (int d = 0; d < D; ++d) {
          double acc = 0.0;
          for (int j = 0; j < p.seq_kv; ++j)
            acc += s[j] *
                   static_cast<double>(__bfloat162float(v[ko + static_cast<size_t>(j) * D + d]));
          out[qo + static_cast<size_t>(i) * D + d] = acc / sum;
        }
      }
    }
  return out;
}

CompareResult compare_gpu(const __nv_bfloat16* o, const float* ref, size_t n, cudaStream_t stream) {
  float* partial = nullptr;
  unsigned long long* nans = nullptr;
  unsigned int* max_bits = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&partial, 2 * kCompareBlocks * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&nans, sizeof(unsigned long long)));
  TILESIM_CUDA_CHECK(cudaMalloc(&max_bits, sizeof(unsigned int)));
  TILESIM_CUDA_CHECK(cudaMemsetAsync(nans, 0, sizeof(unsigned long long), stream));
  TILESIM_CUDA_CHECK(cudaMemsetAsync(max_bits, 0, sizeof(unsigned int), stream));
  compare_kernel<<<kCompareBlocks, kCompareThreads, 0, stream>>>(
      o, ref, n, partial, partial + kCompareBlocks, nans, max_bits);
  TILESIM_CHECK_LAUNCH("compare_kernel");
  std::vector<float> h_partial(2 * kCompareBlocks);
  unsigned long long h_nans = 0;
  unsigned int h_max = 0;
  TILESIM_CUDA_CHECK(cudaMemcpyAsync(h_partial.data(), partial, h_partial.size() * sizeof(float),
                                     cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(
      cudaMemcpyAsync(&h_nans, nans, sizeof(h_nans), cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(
      cudaMemcpyAsync(&h_max, max_bits, sizeof(h_max), cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaFree(partial);
  cudaFree(nans);
  cudaFree(max_bits);
  double diff2 = 0.0, ref2 = 0.0;
  for (int i = 0; i < kCompareBlocks; ++i) {
    diff2 += h_partial[i];
    ref2 += h_partial[kCompareBlocks + i];
  }
  CompareResult r;
  r.rel_fro_err = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::numeric_limits<double>::infinity();
  r.nan_count = h_nans;
  float m;
  static_assert(sizeof(m) == sizeof(h_max));
  std::memcpy(&m, &h_max, sizeof(m));
  r.max_abs_err = m;
  return r;
}

}  // namespace tilesim::attention
