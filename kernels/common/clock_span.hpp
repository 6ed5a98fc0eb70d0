// The SM clock a launch really ran at, from each CTA's span: clock64 (the SM's own cycle
// count) and %globaltimer (ns, the same on every SM) read at the start and at the end of
// the CTA's work. Their ratio is the clock; NVML's clock reading is not (it reports
// 1905-1980 MHz where the SMs ran at 1370-1800). Host side here (no CUDA: tested on the
// CPU); the kernels write the span with ptx::clock_span_mark (ptx/clock_span.cuh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "stats.hpp"

namespace tilesim::cuda {

// Per CTA: clock64 and %globaltimer (ns) at its start, then at its end.
inline constexpr int kSpanValues = 4;
inline constexpr int kSpanFirstCycles = 0, kSpanLastCycles = 2;  // each followed by its ns

// Median, 10th and 90th percentile and count of `v`.
inline nlohmann::json spread(const std::vector<double>& v) {
  return {{"median", median(v)}, {"p10", quantile(v, 0.1)}, {"p90", quantile(v, 0.9)}, {"n", v.size()}};
}

// span: [cta][kSpanValues] as the kernel wrote them (a CTA left at 0 did not run or did
// not finish: skipped). {"sm_clock_mhz": spread over CTAs, "span_us": spread}.
inline nlohmann::json summarize_clock_span(const std::vector<std::uint64_t>& span, int ctas) {
  if (ctas < 1 || span.size() != static_cast<std::size_t>(ctas) * kSpanValues)
    throw std::invalid_argument("clock span: " + std::to_string(span.size()) + " values for " + std::to_string(ctas) +
                                " CTAs, expected " + std::to_string(kSpanValues) + " per CTA");
  std::vector<double> mhz, us;
  for (int c = 0; c < ctas; ++c) {
    const std::uint64_t* sp = &span[static_cast<std::size_t>(c) * kSpanValues];
    const std::uint64_t c0 = sp[kSpanFirstCycles], t0 = sp[kSpanFirstCycles + 1];
    const std::uint64_t c1 = sp[kSpanLastCycles], t1 = sp[kSpanLastCycles + 1];
    if (c1 > c0 && t1 > t0) {
      mhz.push_back(static_cast<double>(c1 - c0) / static_cast<double>(t1 - t0) * 1e3);
      us.push_back(static_cast<double>(t1 - t0) * 1e-3);
    }
  }
  return {{"sm_clock_mhz", spread(mhz)}, {"span_us", spread(us)}};
}

}  // namespace tilesim::cuda
