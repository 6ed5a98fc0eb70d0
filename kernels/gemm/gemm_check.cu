#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "gemm_check.hpp"

namespace tilesim::gemm {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 4096;

__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

__global__ void fill_random_kernel(__nv_bfloat16* p, std::size_t count, uint64_t seed) {
  // Magnitude in [1/64, 1]: keeps |values| away from 0 while staying O(1).
  constexpr float kMinMagnitude = 1.0f / 64.0f;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const uint64_t h = splitmix64(seed ^ (i * 0xD1B54A32D192ED03ull));
    const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    const float mag = kMinMagnitude + (1.0f - kMinMagnitude) * u;
    p[i] = __float2bfloat16_rn((h & 1) ? mag : -mag);
  }
}

__global__ void fill_nan_kernel(__nv_bfloat16* p, std::size_t count) {
  const __nv_bfloat16 nan = __float2bfloat16_rn(__int_as_float(0x7fc00000));
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    p[i] = nan;
  }
}

// Per-block partial sums in fp32 (the build forbids fp64 in device code: ptxas
// -warn-double-usage is an error); the host adds the block partials in double.
__global__ void compare_kernel(const __nv_bfloat16* out, const float* ref, std::size_t count,
                               float* partial_err, float* partial_ref,
                               unsigned long long* partial_bad) {
  float err = 0.f, refsq = 0.f;
  unsigned long long bad = 0;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float o = __bfloat162float(out[i]);
    const float r = ref[i];
    if (!isfinite(o)) {
      ++bad;
    } else {
      err += (o - r) * (o - r);
    }
    refsq += r * r;
  }
  __shared__ float s_err[kThreads], s_ref[kThreads];
  __shared__ unsigned long long s_bad[kThreads];
  s_err[threadIdx.x] = err;
  s_ref[threadIdx.x] = refsq;
  s_bad[threadIdx.x] = bad;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s) {
      s_err[threadIdx.x] += s_err[threadIdx.x + s];
      s_ref[threadIdx.x] += s_ref[threadIdx.x + s];
      s_bad[threadIdx.x] += s_bad[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial_err[blockIdx.x] = s_err[0];
    partial_ref[blockIdx.x] = s_ref[0];
    partial_bad[blockIdx.x] = s_bad[0];
  }
}

unsigned blocks_for(std::size_t count) {
  const std::size_t b = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? (b == 0 ? 1 : b) : kMaxBlocks);
}

}  // namespace

void fill_random_bf16(__nv_bfloat16* p, std::size_t count, uint64_t seed, cudaStream_t stream) {
  fill_random_kernel<<<blocks_for(count), kThreads, 0, stream>>>(p, count, seed);
  TILESIM_CHECK_LAUNCH("fill_random_kernel");
}

void fill_nan_bf16(__nv_bfloat16* p, std::size_t count, cudaStream_t stream) {
  fill_nan_kernel<<<blocks_for(count), kThreads, 0, stream>>>(p, count);
  TILESIM_CHECK_LAUNCH("fill_nan_kernel");
}

double ErrorStats::rel_frobenius() const {
  if (nonfinite > 0) return std::numeric_limits<double>::infinity();
  if (sum_sq_ref == 0) return std::numeric_limits<double>::infinity();
  return std::sqrt(sum_sq_err / sum_sq_ref);
}

ErrorStats compare_bf16_to_f32(const __nv_bfloat16* out, const float* ref, std::size_t count,
                               cudaStream_t stream) {
  const unsigned blocks = blocks_for(count);
  float *d_err = nullptr, *d_ref = nullptr;
  unsigned long long* d_bad = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&d_err, blocks * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&d_ref, blocks * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&d_bad, blocks * sizeof(unsigned long long)));
  compare_kernel<<<blocks, kThreads, 0, stream>>>(out, ref, count, d_err, d_ref, d_bad);
  TILESIM_CHECK_LAUNCH("compare_kernel");
  std::vector<float> h_err(blocks), h_ref(blocks);
  std::vector<unsigned long long> h_bad(blocks);
  TILESIM_CUDA_CHECK(
      cudaMemcpyAsync(h_err.data(), d_err, blocks * sizeof(float), cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(
      cudaMemcpyAsync(h_ref.data(), d_ref, blocks * sizeof(float), cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(cudaMemcpyAsync(h_bad.data(), d_bad, blocks * sizeof(unsigned long long),
                                     cudaMemcpyDeviceToHost, stream));
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  TILESIM_CUDA_CHECK(cudaFree(d_err));
  TILESIM_CUDA_CHECK(cudaFree(d_ref));
  TILESIM_CUDA_CHECK(cudaFree(d_bad));
  ErrorStats s;
  for (unsigned i = 0; i < blocks; ++i) {
    s.sum_sq_err += h_err[i];
    s.sum_sq_ref += h_ref[i];
    s.nonfinite += h_bad[i];
  }
  return s;
}

void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + " failed: cublasStatus " + std::to_string(s));
}

// Row-major C[m,n] is column-major C^T[n,m] = B A^T: B (k x n column-major view) transposed
// times A.
void cublas_gemm_bf16(cublasHandle_t h, int m, int n, int k, const __nv_bfloat16* a,
                      const __nv_bfloat16* b, void* c, cudaDataType_t c_type) {
  const float alpha = 1.f, beta = 0.f;
  cublas_check(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, b, CUDA_R_16BF, k, a,
                            CUDA_R_16BF, k, &beta, c, c_type, n, CUBLAS_COMPUTE_32F,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

double bf16_gemm_tolerance(int k) {
  const double bf16_unit_roundoff = std::ldexp(1.0, -9);
  const double fp32_unit_roundoff = std::ldexp(1.0, -24);
  return 2.0 * bf16_unit_roundoff + k * fp32_unit_roundoff;
}

}  // namespace tilesim::gemm
