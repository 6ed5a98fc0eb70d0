// The board's power limit as the runners' timing met it. A kernel that draws more than the
// limit keeps its speed for the limiter's reaction time (profile power.limiter_reaction),
// then slows until the launches and the gaps between them average the limit
// (model::power_limited_time_us). Whether a run's median sample came after that point
// depends on how its runner times: how many launches in one block, what fills the gaps.
#pragma once

#include <string>

#include "tilesim/model/model.hpp"
#include "tilesim/profile.hpp"
#include "validate_core.hpp"

namespace tilesim::validate {

// A runner's samples as the limiter sees them: the run's own "timing" record where it has one,
// else the family's runner defaults (from the runners' sources, for files written before the
// runners recorded it).
struct TimingProtocol {
  bool known = false;      // false: a family whose timing is not modelled (its runs keep time_us)
  int warmup_per_pass = 0;  // untimed launches before each block of samples
  double flush_bytes = 0;   // memset before every sample (0: none)
};
TimingProtocol timing_protocol(const std::string& family, const profiles::Profile& p);

struct LimitedTime {
  double time_us = 0.0;           // the prediction for the run's median sample
  double clock_mhz = 0.0;         // its effective SM clock
  bool limited = false;           // the limiter had acted by the median sample
  double median_sample_ms = 0.0;  // when the median sample was taken, from the block's start
};
// The time the run's median sample took by the model: pr.time_us, or the power-limited time
// when the sample came after the limiter's reaction time and the launch-and-gap average
// power exceeds the limit.
LimitedTime time_under_power_limit(const model::Prediction& pr, const profiles::Profile& p, const MeasuredRun& run);

}  // namespace tilesim::validate
