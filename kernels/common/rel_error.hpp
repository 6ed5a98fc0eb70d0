// How the check runners compare an output with a reference (host code, no CUDA: tests/runner
// checks it on the CPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace tilesim::runner {

// The relative L2 error ||x - ref|| / ||ref|| over ref.size() elements, NaN when x holds a
// non-finite value (a NaN-poisoned output the kernel never wrote must fail, not average
// away); *all_finite (may be null) says which. A zero reference divides by 1e-300, not 0.
template <typename A, typename B>
double rel_error(const A& x, const B& ref, bool* all_finite) {
  double num = 0, den = 0;
  bool finite = true;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double a = static_cast<double>(x[i]);
    if (!std::isfinite(a)) finite = false;
    num += (a - ref[i]) * (a - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  if (all_finite) *all_finite = finite;
  if (!finite) return NAN;
  return std::sqrt(num / std::max(den, 1e-300));
}

// The float32 GPU reference's error against the float64 CPU reference of the same inputs.
// The GPU reference is what every run is judged by, so a run with a wrong reference must
// stop: throws std::runtime_error naming `what` (the shape) above `tolerance`.
inline double reference_error_vs_fp64(const std::string& what, const std::vector<float>& gpu_ref,
                                      const std::vector<double>& cpu_ref, double tolerance) {
  bool finite = false;
  const double err = rel_error(gpu_ref, cpu_ref, &finite);
  if (!finite || !(err <= tolerance))
    throw std::runtime_error(
        what + ": fp32 GPU reference disagrees with float64 CPU: " + std::to_string(err));
  return err;
}

}  // namespace tilesim::runner
