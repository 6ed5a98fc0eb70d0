// One more launch whose CTAs record their clock span (ptx/clock_span.cuh) into a zeroed
// device buffer, summarized as the SM clock the launch ran at (clock_span.hpp): the runners'
// --clock-trace after their timed samples. Host code.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "clock_span.hpp"
#include "cuda_check.hpp"
#include "device_buffer.cuh"

namespace tilesim::cuda {

// `launch(span)` runs the kernel once with `span` ([ctas][kSpanValues]); a CTA index past
// the grid's stays 0 and is skipped.
template <class Launch>
nlohmann::json traced_clock(int ctas, Launch&& launch) {
  DevBuf<std::uint64_t> span(static_cast<std::size_t>(ctas) * kSpanValues);
  TILESIM_CUDA_CHECK(cudaMemset(span.ptr, 0, span.n * sizeof(std::uint64_t)));
  launch(span.ptr);
  TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return summarize_clock_span(download(span.ptr, span.n), ctas);
}

}  // namespace tilesim::cuda
