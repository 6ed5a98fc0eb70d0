// One end of a CTA's clock span (kernels/common/clock_span.hpp): clock64 and %globaltimer
// into span[linear block index][at] (x fastest, then y, then z); a null span records
// nothing (one uniform test). Called once at
// the CTA's start (cuda::kSpanFirstCycles) and once at its end (cuda::kSpanLastCycles), so
// that the work between carries no %globaltimer read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../clock_span.hpp"
#include "sync.cuh"

namespace tilesim::ptx {

__device__ __forceinline__ void clock_span_mark(std::uint64_t* span, int at) {
  if (span == nullptr) return;
  const std::size_t cta =
      blockIdx.x + static_cast<std::size_t>(gridDim.x) * (blockIdx.y + static_cast<std::size_t>(gridDim.y) * blockIdx.z);
  std::uint64_t* s = span + cta * cuda::kSpanValues + at;
  s[0] = clock64();
  s[1] = global_timer_ns();
}

}  // namespace tilesim::ptx
