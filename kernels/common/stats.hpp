// Small statistics the runners share (host code, no CUDA: the NVML summary and the trace
// summary use it and are tested on the CPU).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tilesim::cuda {

// Median of `v` (0 when empty).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace tilesim::cuda
