// The list of compiled GEMM kernel configurations. Each generated instance unit (from
// kernels/instances.json) registers its configs at static-initialisation time; the
// runner iterates the list.
// Problem convention for every kernel here: C[M,N] = A[M,K] * B[N,K]^T, all row-major
// (A and B both K-major, "TN"), fp32 accumulation, bf16 output. Inputs are bf16 (dtype
// "bf16") or block-scaled e4m3 (dtype "fp8", see Fp8Operands).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stage_trace_summary.hpp"

namespace tilesim::gemm {

// Fine-grained ("DeepSeek-V3" / DeepGEMM-style) scaled e4m3 inputs: the real operand is
// A[i][k] * scale_a[k / 128][i] and B[j][k] * scale_b[j / 128][k / 128].
//   scale_a: fp32 [ceil(K/128)][scale_a_ld], one scale per row per 128-wide K group,
//            M-major so that a CTA's rows of one K group are contiguous (one TMA box);
//            scale_a_ld = M rounded up to 4 (TMA rows are multiples of 16 bytes).
//   scale_b: fp32 [ceil(N/128)][ceil(K/128)], one scale per 128 x 128 block of B.
inline constexpr int kFp8ScaleGroup = 128;  // K (and B's N) extent of one scale factor
struct Fp8Operands {
  const __nv_fp8_e4m3* a = nullptr;  // M x K, row-major
  const __nv_fp8_e4m3* b = nullptr;  // N x K, row-major
  const float* scale_a = nullptr;
  int scale_a_ld = 0;
  const float* scale_b = nullptr;
};

// Byte ranges that a GEMM kernel pulls into L2 while it runs, for the kernel that follows it
// (e.g. the decode's KV cache). Supported by gemm_sm90_ws only (an idle producer warp issues
// cp.async.bulk.prefetch.L2; each CTA takes 1/grid of the chunks). count == 0: no prefetch.
// Every range starts 16-byte aligned and has a multiple of 16 bytes (the instruction's rule).
inline constexpr int kMaxL2PrefetchRanges = 4;
struct L2PrefetchList {
  const void* ptr[kMaxL2PrefetchRanges] = {};
  unsigned long long bytes[kMaxL2PrefetchRanges] = {};
  int count = 0;
  int evict_last = 0;      // 1: mark the lines evict_last (kept in the persisting set-aside)
  unsigned delay_ns = 0;   // wait this long after the CTA's start before the first chunk
  unsigned pace_ns = 0;    // then spread the CTA's chunks evenly over this long (0: at once)
  unsigned chunk_bytes = 32u << 10;  // bytes per prefetch instruction (multiple of 16)
};

// Per-stage SM timestamps of gemm_sm90_ws and gemm_sm90_fp8 (one stage = one K step, the
// fp8 kernel's 128-wide scale group), a diagnostic (the runner's --stage-trace): for
// each CTA's first `steps` K steps (over its work items in order), clock64 when its
// producer issues the stage's TMA loads, when consumer warpgroup 0 passes the stage's full
// barrier and when it releases the stage (cuda::kStageMarks marks per step); and per CTA
// its span, clock64 and %globaltimer when its producer starts and when it is done, whose ratio is
// the SM clock the CTA ran at. The runner summarizes them with
// cuda::summarize_stage_trace. cycles == nullptr: nothing is recorded (one uniform test
// per stage).
// The per-K-step marks are compiled in only where TILESIM_STAGE_TRACE is 1 (CMake option
// TILESIM_STAGE_TRACE, for the stage-trace runs): a mark reads the SM clock in consumer
// warpgroup 0 between its wgmmas and its promotion, which ptxas does not move instructions
// across, so a build with them runs slower even never recording (measured: kernels/gemm/README.md,
// "Stage trace").
// The spans are always compiled (two marks per CTA).
#ifndef TILESIM_STAGE_TRACE
#define TILESIM_STAGE_TRACE 0
#endif
inline constexpr bool kStageTraceMarks = TILESIM_STAGE_TRACE != 0;

struct StageTrace {
  std::uint64_t* cycles = nullptr;  // [cta][step][mark]
  std::uint64_t* span = nullptr;    // [cta][cuda::kSpanValues]
  int steps = 0;
};

struct GemmArgs {
  const __nv_bfloat16* a = nullptr;  // M x K, row-major (dtype bf16)
  const __nv_bfloat16* b = nullptr;  // N x K, row-major (dtype bf16)
  __nv_bfloat16* c = nullptr;        // M x N, row-major
  int m = 0, n = 0, k = 0;
  Fp8Operands fp8;                   // dtype fp8 (a and b unused)
  // Persistent kernels: leave this many SMs without a CTA of this GEMM (0: use every SM).
  // The layer-step runner gives them to a concurrent L2-prefetch kernel.
  int reserve_sms = 0;
  L2PrefetchList l2_prefetch;        // gemm_sm90_ws only; empty: the kernel does nothing new
  StageTrace stage_trace;            // gemm_sm90_ws and gemm_sm90_fp8; null: nothing recorded
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
  std::string schedule;  // model schedule name: "gemm_sm90_ws" | "gemm_sm80_mma" | "gemm_sm90_fp8"
  nlohmann::json tile;   // tile parameters under the model's names
  std::string dtype = "bf16";  // the problem dtype it serves: "bf16" | "fp8"
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
