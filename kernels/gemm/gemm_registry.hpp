// The list of compiled GEMM kernel configurations. Each generated instance unit (from
// kernels/instances.json) registers its configs at static-initialisation time; the
// runner iterates the list.
// Problem convention for every kernel here: C[M,N] = A[M,K] * B[N,K]^T, all row-major
// bf16 (A and B both K-major, "TN"), fp32 accumulation, bf16 output.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tilesim::gemm {

struct GemmArgs {
  const __nv_bfloat16* a = nullptr;  // M x K, row-major
  const __nv_bfloat16* b = nullptr;  // N x K, row-major
  __nv_bfloat16* c = nullptr;        // M x N, row-major
  int m = 0, n = 0, k = 0;
  // Persistent kernels: leave this many SMs without a CTA of this GEMM (0: use every SM).
  // The layer-step runner gives them to a concurrent L2-prefetch kernel.
  int reserve_sms = 0;
};

// A prepared launch: tensor maps, grid size and attributes are computed once per
// (config, problem) so that timing measures the kernel, not host-side setup.
using Launcher = std::function<void(cudaStream_t)>;
struct Prepared {
  Launcher launch;
  nlohmann::json launch_info;  // grid_ctas, threads_per_cta, smem_bytes, cluster_ctas
};

struct KernelEntry {
  std::string name;      // unique, e.g. "sm90_ws_128x256x64_s4_c2_cl2x1_r8"
  std::string schedule;  // model schedule name: "gemm_sm90_ws" | "gemm_sm80_mma"
  nlohmann::json tile;   // tile parameters under the model's names
  // Empty string if the kernel can run this problem, else the reason it cannot.
  std::function<std::string(const GemmArgs&)> unsupported_reason;
  std::function<Prepared(const GemmArgs&)> prepare;
};

inline std::vector<KernelEntry>& registry() {
  static std::vector<KernelEntry> entries;
  return entries;
}

struct Registrar {
  explicit Registrar(KernelEntry e) { registry().push_back(std::move(e)); }
};

}  // namespace tilesim::gemm
