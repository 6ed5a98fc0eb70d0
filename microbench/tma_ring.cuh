// The one-thread TMA ring the copy-engine benchmarks share (bench_tma.cu,
// bench_tma_stream.cu): mbarriers first in dynamic shared memory, then the stages at a
// 1024-byte boundary (128-byte swizzle atoms); thread 0 keeps `stages` loads in flight, waits
// for each in turn, reads one word of it (the consumer, keeps the load live) and refills the
// stage with the next load.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ptx/all.cuh"

namespace tilesim::microbench {

inline constexpr std::size_t kTmaStageAlign = 1024;
// Bytes the dynamic shared memory needs beyond the stages: the barriers' 128 bytes and the
// alignment of the first stage.
inline constexpr std::size_t kTmaRingOverheadBytes = 128 + kTmaStageAlign;

struct TmaRing {
  std::uint64_t* bars;
  std::uint8_t* stage_mem;
};

// Lays the ring out in `smem` and initialises `stages` mbarriers (one arrival each); every
// thread of the CTA must call it (it ends with a CTA barrier).
__device__ __forceinline__ TmaRing tma_ring_init(std::uint8_t* smem, int stages) {
  TmaRing r;
  r.bars = reinterpret_cast<std::uint64_t*>(smem);
  const std::uint32_t base = ptx::smem_u32(smem) + 128;
  r.stage_mem = smem + 128 + (kTmaStageAlign - base % kTmaStageAlign) % kTmaStageAlign;
  if (threadIdx.x == 0) {
    for (int s = 0; s < stages; ++s) ptx::mbar_init(ptx::smem_u32(&r.bars[s]), 1);
    ptx::fence_mbar_init();
  }
  __syncthreads();
  return r;
}

// Thread 0 only: `issue(s, i)` starts load i into stage s (arrive_expect_tx on bars[s] and the
// copies); runs loads 0 .. total - 1 through the ring and returns a checksum of the words read.
template <typename Issue>
__device__ __forceinline__ unsigned tma_ring_run(const TmaRing& r, std::size_t stage_bytes, int stages, int total,
                                                 Issue&& issue) {
  for (int s = 0; s < stages && s < total; ++s) issue(s, s);
  unsigned acc = 0;
  for (int i = 0; i < total; ++i) {
    const ptx::PipelineState ring = ptx::PipelineState::at(i, stages);
    const int s = ring.index;
    ptx::mbar_wait(ptx::smem_u32(&r.bars[s]), ring.phase);
    acc ^= *reinterpret_cast<const unsigned*>(r.stage_mem + stage_bytes * s + 4 * (i % 32));
    // The generic-proxy read above must be ordered before the async-proxy overwrite.
    ptx::fence_proxy_async_shared();
    if (i + stages < total) issue(s, i + stages);
  }
  return acc;
}

}  // namespace tilesim::microbench
