// kv_prefetch: pulls a decode step's KV cache into L2 while another kernel (the layer's
// compute-bound GEMM) runs, so the decode that follows reads L2 instead of HBM.
//
// How: a small grid on a second stream; each thread issues fire-and-forget
// `cp.async.bulk.prefetch.L2` requests for chunks of the K and V ranges and exits. The
// copy engine (TMA) and L2 do the work in the background, so the CTAs hold their SM slots
// only for the few microseconds of issue; the GEMM keeps its SMs and its tensor pipes, and
// what it loses is the HBM and L2 bandwidth that the prefetch takes (measured).
// With `evict_last`, the prefetched lines outlive the GEMM's own streaming traffic
// (evict_normal): they are evicted only after every normal line of their set, up to the
// persisting set-aside of L2.
//
// Ranges: one or more [ptr, ptr + bytes) ranges (contiguous K and V of the decode layout
// [batch, heads_kv, seq_kv, head_dim]); every range start is 16-byte aligned and its length a
// multiple of 16 (the instruction's rule; the runner checks it).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "ptx/sync.cuh"
#include "ptx/tma.cuh"

namespace tilesim::layer_step {

enum class PrefetchPolicy : int { kEvictNormal = 0, kEvictLast = 1 };

// At most this many ranges per launch (K and V of one layer: 2).
inline constexpr int kMaxPrefetchRanges = 4;

struct PrefetchRanges {
  const char* ptr[kMaxPrefetchRanges] = {};
  std::uint64_t bytes[kMaxPrefetchRanges] = {};
  int count = 0;
  std::uint32_t chunk_bytes = 0;  // bytes per prefetch instruction (multiple of 16)
  // Optional (the runner's --timeline): per CTA its start and end on the GPU's global timer,
  // [2 * cta] and [2 * cta + 1], ns. Null in every timed run.
  std::uint64_t* stamps = nullptr;
};

// Chunk c of the concatenated ranges goes to global thread c % threads (round-robin), so
// neighbouring chunks are issued from different SMs and spread over the L2 slices at once.
template <PrefetchPolicy kPolicy>
__global__ void kv_prefetch_kernel(PrefetchRanges r) {
  const std::uint64_t threads = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  const std::uint64_t tid = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r.stamps != nullptr && threadIdx.x == 0) r.stamps[2 * blockIdx.x] = ptx::global_timer_ns();
  std::uint64_t policy = 0;
  if constexpr (kPolicy == PrefetchPolicy::kEvictLast) policy = ptx::l2_policy_evict_last();
  std::uint64_t first_chunk = 0;  // global index of range i's first chunk
  for (int i = 0; i < r.count; ++i) {
    const std::uint64_t chunks = (r.bytes[i] + r.chunk_bytes - 1) / r.chunk_bytes;
    // This thread's first chunk of range i: the next c >= first_chunk with c % threads == tid.
    const std::uint64_t offset = (tid + threads - first_chunk % threads) % threads;
    for (std::uint64_t c = offset; c < chunks; c += threads) {
      const std::uint64_t at = c * r.chunk_bytes;
      const std::uint64_t left = r.bytes[i] - at;
      const auto n = static_cast<std::uint32_t>(left < r.chunk_bytes ? left : r.chunk_bytes);
      if constexpr (kPolicy == PrefetchPolicy::kEvictLast)
        ptx::prefetch_l2_bulk_hint(r.ptr[i] + at, n, policy);
      else
        ptx::prefetch_l2_bulk(r.ptr[i] + at, n);
    }
    first_chunk += chunks;
  }
  if (r.stamps != nullptr) {
    __syncthreads();  // the CTA ends when its last thread has issued
    if (threadIdx.x == 0) r.stamps[2 * blockIdx.x + 1] = ptx::global_timer_ns();
  }
}

// Launches the prefetch grid on `stream`: `ctas` CTAs of `threads_per_cta` threads.
inline void launch_kv_prefetch(const PrefetchRanges& r, PrefetchPolicy policy, int ctas,
                               int threads_per_cta, cudaStream_t stream) {
  if (policy == PrefetchPolicy::kEvictLast)
    kv_prefetch_kernel<PrefetchPolicy::kEvictLast><<<ctas, threads_per_cta, 0, stream>>>(r);
  else
    kv_prefetch_kernel<PrefetchPolicy::kEvictNormal><<<ctas, threads_per_cta, 0, stream>>>(r);
}

// L2 flush by reading (not writing) a buffer larger than L2: a memset flush would leave L2
// full of dirty lines whose write-back then lands inside the next timed step. The sum goes
// to `sink` only if it is impossibly large, so the loads are not optimised away.
__global__ void l2_read_flush_kernel(const int4* __restrict__ buf, std::uint64_t n,
                                     int* __restrict__ sink) {
  int acc = 0;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const int4 v = buf[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x7fffffff) *sink = acc;
}

// Writes the GPU's global timer (ns) to *at: a mark in a stream's order (--timeline).
__global__ void stamp_kernel(std::uint64_t* at) { *at = ptx::global_timer_ns(); }

// Keeps one warp busy for `cycles` SM clocks (an ordered, GPU-side wait on a stream).
__global__ void gpu_spin_kernel(long long cycles) {
  const long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}

}  // namespace tilesim::layer_step
