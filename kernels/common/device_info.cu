// tilesim-device-info: prints the device report (name, SMs, L2, driver, runtime,
// clocks) as JSON. Device scripts call it first so every run records its machine; it
// is also the smallest CUDA program of the tree, used as the GPU smoke test.
#include <cstdio>
#include <iostream>

#include "device_report.hpp"

namespace {

// A live computation, so the smoke test proves a kernel ran, not only that a device exists.
__global__ void iota_kernel(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 3 * i + 1;
}

bool smoke_kernel_runs() {
  constexpr int kN = 1 << 16;
  int* d = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&d, kN * sizeof(int)));
  TILESIM_CUDA_CHECK(cudaMemset(d, 0xff, kN * sizeof(int)));
  iota_kernel<<<(kN + 255) / 256, 256>>>(d, kN);
  TILESIM_CHECK_LAUNCH_SYNC("iota_kernel");
  std::vector<int> h(kN);
  TILESIM_CUDA_CHECK(cudaMemcpy(h.data(), d, kN * sizeof(int), cudaMemcpyDeviceToHost));
  TILESIM_CUDA_CHECK(cudaFree(d));
  for (int i = 0; i < kN; ++i)
    if (h[i] != 3 * i + 1) return false;
  return true;
}

}  // namespace

int main() {
  try {
    nlohmann::json j = tilesim::cuda::device_report();
    j["smoke_kernel_ok"] = smoke_kernel_runs();
    std::cout << j.dump(2) << "\n";
    return j["smoke_kernel_ok"].get<bool>() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tilesim-device-info: error: " << e.what() << "\n";
    return 1;
  }
}
