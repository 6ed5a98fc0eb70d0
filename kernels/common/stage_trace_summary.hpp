// Summary of a ring kernel's per-stage timestamps (host code, no CUDA: tested on the CPU).
//
// A warp-specialized ring GEMM marks, per CTA and K step, three SM clock64 readings (the
// gemm_sm90_ws stage trace, GemmArgs::stage_trace): when its producer issues the stage's
// loads, when the consumer passes the stage's full barrier, and when it hands the stage
// back. From them, over the steady steps (the first and last `stages` steps of each CTA's
// record left out: the ring's fill and drain), in SM cycles:
//   load_cycles     issue -> full: the loaded latency of one stage as the consumer sees it
//                   (rows issued, bytes landed, barrier passed);
//   hold_cycles     full -> release: how long the consumer keeps the stage;
//   reissue_cycles  release(i) -> issue(i + stages): the producer's reaction to a free slot;
//   step_cycles     full(i) -> full(i + 1): the time per K step;
//   ring_cycles     issue(i) -> issue(i + stages): one trip round the ring
//                   (= load + hold + reissue).
// With `steps_per_item` (the K steps of one work item, e.g. one output tile; 0: unknown),
// at each boundary between two of a CTA's items:
//   item_gap_cycles release(last step of an item) -> full(first step of the next): what the
//                   consumer spends between items (epilogue, the next item's first stage).
// And per CTA: first_full_cycles, issue -> full of its very first step (a cold ring); with
// its span (the producer's start to the end of its work, in SM cycles and in ns): sm_clock_mhz, the
// clock it ran at (cycles / ns: the SM's own count, not what NVML reports), and span_us.
// step_cycles_by_quarter: the median K step in each quarter of a CTA's steady steps (a
// clock that falls during the kernel does not show here, cycles being the SM's own).
// Each as median, 10th and 90th percentile over all CTAs' steady steps. A step whose marks
// are missing (0: the CTA had fewer steps) or out of order is skipped and counted.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "clock_span.hpp"
#include "stats.hpp"

namespace tilesim::cuda {

inline constexpr int kStageMarks = 3;  // per step: issue, full, release
inline constexpr int kMarkIssue = 0, kMarkFull = 1, kMarkRelease = 2;

// cycles: [cta][step][mark] as the kernel wrote them (ctas * steps * kStageMarks values).
inline nlohmann::json summarize_stage_trace(const std::vector<std::uint64_t>& cycles, int ctas, int steps,
                                            int stages, int steps_per_item = 0,
                                            const std::vector<std::uint64_t>& span = {}) {
  if (ctas < 1 || steps < 1 || stages < 1 || steps_per_item < 0)
    throw std::invalid_argument("stage trace: ctas, steps and stages must be >= 1, steps_per_item >= 0");
  if (cycles.size() != static_cast<std::size_t>(ctas) * steps * kStageMarks)
    throw std::invalid_argument("stage trace: " + std::to_string(cycles.size()) + " values, expected " +
                                std::to_string(static_cast<std::size_t>(ctas) * steps * kStageMarks));
  std::vector<double> load, hold, reissue, step, ring, gap, first;
  std::vector<double> quarters[4];
  int skipped = 0;
  auto at = [&](int cta, int s, int mark) {
    return cycles[(static_cast<std::size_t>(cta) * steps + s) * kStageMarks + mark];
  };
  for (int c = 0; c < ctas; ++c) {
    int recorded = 0;  // steps with all three marks
    while (recorded < steps && at(c, recorded, 0) != 0 && at(c, recorded, 1) != 0 && at(c, recorded, 2) != 0)
      ++recorded;
    if (recorded > 0 && at(c, 0, 1) >= at(c, 0, 0)) first.push_back(static_cast<double>(at(c, 0, 1) - at(c, 0, 0)));
    for (int s = steps_per_item; steps_per_item > 0 && s < recorded; s += steps_per_item)
      if (at(c, s, 1) >= at(c, s - 1, 2)) gap.push_back(static_cast<double>(at(c, s, 1) - at(c, s - 1, 2)));
    const int steady_first = stages, steady_end = recorded - stages;
    for (int s = stages; s + stages < recorded; ++s) {
      const std::uint64_t issue = at(c, s, 0), full = at(c, s, 1), rel = at(c, s, 2);
      const std::uint64_t next_full = at(c, s + 1, 1), next_issue = at(c, s + stages, 0);
      if (!(issue <= full && full <= rel && rel <= next_issue && full <= next_full)) {
        ++skipped;
        continue;
      }
      load.push_back(static_cast<double>(full - issue));
      hold.push_back(static_cast<double>(rel - full));
      reissue.push_back(static_cast<double>(next_issue - rel));
      step.push_back(static_cast<double>(next_full - full));
      const int q = static_cast<int>(4LL * (s - steady_first) / std::max(1, steady_end - steady_first));
      quarters[std::min(q, 3)].push_back(static_cast<double>(next_full - full));
      ring.push_back(static_cast<double>(next_issue - issue));
    }
  }
  nlohmann::json out = {{"unit", "SM cycles (clock64)"},
                        {"ctas", ctas},
                        {"steps_per_cta", steps},
                        {"stages", stages},
                        {"steps_per_item", steps_per_item},
                        {"skipped_out_of_order", skipped},
                        {"load_cycles", spread(load)},
                        {"hold_cycles", spread(hold)},
                        {"reissue_cycles", spread(reissue)},
                        {"step_cycles", spread(step)},
                        {"ring_cycles", spread(ring)},
                        {"item_gap_cycles", spread(gap)},
                        {"first_full_cycles", spread(first)},
                        {"step_cycles_by_quarter",
                         {median(quarters[0]), median(quarters[1]), median(quarters[2]), median(quarters[3])}}};
  // The clock the launch ran at, from each CTA's span (clock_span.hpp); none without one.
  const nlohmann::json clock = span.empty() ? nlohmann::json{{"sm_clock_mhz", spread({})}, {"span_us", spread({})}}
                                            : summarize_clock_span(span, ctas);
  out["sm_clock_mhz"] = clock["sm_clock_mhz"];
  out["span_us"] = clock["span_us"];
  return out;
}

}  // namespace tilesim::cuda
