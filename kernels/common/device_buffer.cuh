// An owned device allocation and the copies back to the host the runners check outputs
// with (host code; needs cuda_bf16 for to_float, hence .cuh).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "cuda_check.hpp"

namespace tilesim::cuda {

// `n` elements of T on the device, freed with the object; movable, not copyable. Never a
// null pointer once sized (a zero count still allocates one element), so a kernel given an
// empty buffer gets a valid address.
template <typename T>
struct DevBuf {
  T* ptr = nullptr;
  std::size_t n = 0;
  DevBuf() = default;
  explicit DevBuf(std::size_t count) : n(count) {
    TILESIM_CUDA_CHECK(cudaMalloc(&ptr, std::max<std::size_t>(count, 1) * sizeof(T)));
  }
  ~DevBuf() { cudaFree(ptr); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  DevBuf(DevBuf&& o) noexcept : ptr(o.ptr), n(o.n) {
    o.ptr = nullptr;
    o.n = 0;
  }
  DevBuf& operator=(DevBuf&& o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(n, o.n);
    return *this;
  }
  // Copies h to the start of the buffer (h.size() <= n).
  void upload(const std::vector<T>& h) {
    TILESIM_CUDA_CHECK(cudaMemcpy(ptr, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
};

template <typename T>
std::vector<T> download(const T* d, std::size_t n) {
  std::vector<T> h(n);
  TILESIM_CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

// n bf16 values from the device as floats (exact: every bf16 is a float).
inline std::vector<float> to_float(const __nv_bfloat16* d, std::size_t n) {
  const std::vector<__nv_bfloat16> h = download(d, n);
  std::vector<float> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = __bfloat162float(h[i]);
  return f;
}

}  // namespace tilesim::cuda
