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

// The value at quantile q in [0, 1] of `v` (nearest rank; 0 when empty).
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace tilesim::cuda
