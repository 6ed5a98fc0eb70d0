// Random device data made on the GPU (see random_fill.cuh).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <map>

#include "cuda_check.hpp"
#include "random_fill.cuh"

namespace tilesim::microbench {
namespace {

// splitmix64 finaliser: a cheap, well-mixed hash of the element index.
__device__ inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in [-1, 1): the range keeps long accumulation chains finite.
__device__ inline float uniform_pm1(std::uint64_t i, std::uint32_t seed) {
  const auto bits = static_cast<std::uint32_t>(mix64(i * 0x2545f491ull + seed) >> 40);
  return static_cast<float>(bits) * (2.0f / 16777216.0f) - 1.0f;  // 24 random bits
}

__global__ void fill_words_kernel(std::uint32_t* p, std::size_t n, std::uint32_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    p[i] = static_cast<std::uint32_t>(mix64(i ^ (std::uint64_t{seed} << 32)));
  }
}

__global__ void fill_operands_kernel(std::uint8_t* p, std::size_t elements, DType t,
                                     std::uint32_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < elements;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const float v = uniform_pm1(i, seed);
    switch (t) {
      case DType::bf16:
        reinterpret_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v);
        break;
      case DType::fp16:
        reinterpret_cast<__half*>(p)[i] = __float2half(v);
        break;
      case DType::e4m3:
        p[i] = static_cast<std::uint8_t>(__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3));
        break;
      case DType::tf32:
        reinterpret_cast<float*>(p)[i] = v;
        break;
    }
  }
}

}  // namespace

void fill_random_words(std::uint32_t* p, std::size_t n, std::uint32_t seed) {
  fill_words_kernel<<<1024, 256>>>(p, n, seed);
  TILESIM_CHECK_LAUNCH_SYNC("fill_words_kernel");
}

void fill_random_operands(void* p, std::size_t bytes, DType t, std::uint32_t seed) {
  const std::size_t elements = bytes / static_cast<std::size_t>(dtype_info(t).bytes_per_element);
  fill_operands_kernel<<<256, 256>>>(static_cast<std::uint8_t*>(p), elements, t, seed);
  TILESIM_CHECK_LAUNCH_SYNC("fill_operands_kernel");
}

const void* random_operands(DType t, std::size_t bytes) {
  struct Buf {
    void* p = nullptr;
    std::size_t bytes = 0;
  };
  static std::map<DType, Buf> cache;
  Buf& b = cache[t];
  if (bytes > b.bytes) {
    if (b.p != nullptr) TILESIM_CUDA_CHECK(cudaFree(b.p));
    TILESIM_CUDA_CHECK(cudaMalloc(&b.p, bytes));
    fill_random_operands(b.p, bytes, t, 0xC0FFEEu + static_cast<std::uint32_t>(t));
    b.bytes = bytes;
  }
  return b.p;
}

}  // namespace tilesim::microbench
