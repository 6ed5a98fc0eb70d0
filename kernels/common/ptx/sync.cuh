// Execution ordering beyond __syncthreads: async-proxy fence, named barriers, clusters,
// register reallocation between warpgroups and programmatic dependent launch.
#pragma once

#include <cstdint>

namespace tilesim::ptx {

// Shared memory written by ordinary stores and read next by the async proxy (TMA store,
// bulk copy, wgmma descriptors) needs this fence in each writing thread before the barrier.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// Named barrier `id` (1..15; 0 is __syncthreads) over `threads` threads (a multiple of 32).
__device__ __forceinline__ void named_bar_sync(std::uint32_t id, std::uint32_t threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_bar_arrive(std::uint32_t id, std::uint32_t threads) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

__device__ __forceinline__ std::uint32_t cluster_ctarank() {
  std::uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
  return r;
}
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;" ::
                   : "memory");
}

// Warpgroup register reallocation (sm_90a): producers give registers away, consumers take
// them. kRegs is per thread, a multiple of 8 in [kSetmaxnregMin, kSetmaxnregMax] (PTX ISA).
inline constexpr int kSetmaxnregMin = 24, kSetmaxnregMax = 256;
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_inc() {
  static_assert(kRegs % 8 == 0 && kRegs >= kSetmaxnregMin && kRegs <= kSetmaxnregMax, "setmaxnreg count");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(kRegs));
}
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_dec() {
  static_assert(kRegs % 8 == 0 && kRegs >= kSetmaxnregMin && kRegs <= kSetmaxnregMax, "setmaxnreg count");
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(kRegs));
}

// Programmatic dependent launch (sm_90): the primary grid signals that dependents may be
// scheduled; the dependent waits until every prerequisite grid has completed and flushed.
__device__ __forceinline__ void launch_dependents() {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}
__device__ __forceinline__ void wait_prerequisite_grids() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
}

// Nanoseconds of the GPU-wide global timer (the same clock on every SM, unlike clock64).
__device__ __forceinline__ std::uint64_t global_timer_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

}  // namespace tilesim::ptx
