// The model's predicted SM clock against the clock a timed run's traced launch really ran at
// (MeasuredRun::traced_clock_mhz: the GEMM runner's --stage-trace and the attention runner's
// --clock-trace, each CTA's clock64 over %globaltimer). Unlike the ncu comparison (validate_ncu.hpp), whose replays run on a card
// the profiler keeps rested, the traced launch follows its config's timed passes: the clock
// the run's own samples had, which NVML's clock reading is not.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "validate_core.hpp"

namespace tilesim::validate {

struct TracedClockSummary {
  int n = 0;                       // predicted runs with a traced clock
  double mape_pct = 0.0;           // |predicted - traced| / traced, mean
  double bias_pct = 0.0;           // median of (predicted - traced) / traced: > 0 = model too fast a clock
  double within_3pct = 0.0;        // share of runs
  double max_error_pct = 0.0;
};

// Over the predicted runs with a traced clock, held-out ones or training ones.
TracedClockSummary summarize_traced_clocks(const std::vector<PredictedRun>& runs, bool heldout);
nlohmann::json to_json(const TracedClockSummary& s);
std::string traced_clock_line(const TracedClockSummary& s);

}  // namespace tilesim::validate
