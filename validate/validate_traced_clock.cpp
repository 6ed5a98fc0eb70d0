// Predicted vs traced SM clock (validate_traced_clock.hpp).
#include "validate_traced_clock.hpp"

#include <cmath>
#include <cstdio>

namespace tilesim::validate {

TracedClockSummary summarize_traced_clocks(const std::vector<PredictedRun>& runs, bool heldout) {
  TracedClockSummary s;
  std::vector<double> predicted, traced;
  for (const auto& r : runs) {
    if (r.run.heldout != heldout || !r.predicted_us || r.run.traced_clock_mhz <= 0.0 || r.predicted_clock_mhz <= 0.0)
      continue;
    predicted.push_back(r.predicted_clock_mhz);
    traced.push_back(r.run.traced_clock_mhz);
  }
  s.n = static_cast<int>(predicted.size());
  if (s.n == 0) return s;
  s.mape_pct = mape_pct(predicted, traced);
  s.max_error_pct = max_error_pct(predicted, traced);
  s.bias_pct = median_signed_error_pct(predicted, traced);
  int within = 0;
  for (size_t i = 0; i < predicted.size(); ++i)
    within += std::abs(predicted[i] - traced[i]) / traced[i] * 100.0 <= kClockTolerancePct ? 1 : 0;
  s.within_3pct = static_cast<double>(within) / s.n;
  return s;
}

nlohmann::json to_json(const TracedClockSummary& s) {
  return {{"n", s.n},
          {"mape_pct", s.mape_pct},
          {"bias_pct", s.bias_pct},
          {"max_error_pct", s.max_error_pct},
          {"within_3pct_share", s.within_3pct}};
}

std::string traced_clock_line(const TracedClockSummary& s) {
  if (s.n == 0) return "no run with a traced clock\n";
  char line[200];
  std::snprintf(line, sizeof line, "%d runs: MAPE %.1f %%, max %.1f %%, bias %+.1f %%, %.0f %% of runs within %.0f %%\n",
                s.n, s.mape_pct, s.max_error_pct, s.bias_pct, 100.0 * s.within_3pct, kClockTolerancePct);
  return line;
}

}  // namespace tilesim::validate
