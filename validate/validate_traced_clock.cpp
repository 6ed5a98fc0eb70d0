// Predicted vs traced SM clock (validate_traced_clock.hpp).
#include "validate_traced_clock.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tilesim::validate {

namespace {
constexpr double kClockTolerancePct = 3.0;  // the accuracy target: within 3 % per run
}  // namespace

TracedClockSummary summarize_traced_clocks(const std::vector<PredictedRun>& runs, bool heldout) {
  TracedClockSummary s;
  std::vector<double> signed_pct;
  double sum = 0.0;
  int within = 0;
  for (const auto& r : runs) {
    if (r.run.heldout != heldout || !r.predicted_us || r.run.traced_clock_mhz <= 0.0 || r.predicted_clock_mhz <= 0.0)
      continue;
    const double e = (r.predicted_clock_mhz - r.run.traced_clock_mhz) / r.run.traced_clock_mhz * 100.0;
    signed_pct.push_back(e);
    sum += std::abs(e);
    within += std::abs(e) <= kClockTolerancePct ? 1 : 0;
    s.max_error_pct = std::max(s.max_error_pct, std::abs(e));
  }
  s.n = static_cast<int>(signed_pct.size());
  if (s.n == 0) return s;
  s.mape_pct = sum / s.n;
  s.within_3pct = static_cast<double>(within) / s.n;
  std::sort(signed_pct.begin(), signed_pct.end());
  const size_t n = signed_pct.size();
  s.bias_pct = n % 2 == 1 ? signed_pct[n / 2] : 0.5 * (signed_pct[n / 2 - 1] + signed_pct[n / 2]);
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
