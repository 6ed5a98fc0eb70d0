// The runners' timing protocols and the power limiter (validate_power.hpp).
#include "validate_power.hpp"

#include <algorithm>

namespace tilesim::validate {

namespace {
// The host's part of the gap between two samples (event record, launch, event wait):
// the H200 sweep-like traces of 26- and 57-us GEMMs ran at 40 and 59 % busy, gaps of 39-40
// us, of which the 126 MB flush took 31.5 us on its own.
constexpr double kHostWaitUs = 8.0;
// decode and MLA runners flush 128 MiB (kFlushBytes in their sources).
constexpr double kDecodeFlushBytes = 128.0 * 1024 * 1024;
}  // namespace

TimingProtocol timing_protocol(const std::string& family, const profiles::Profile& p) {
  TimingProtocol t;
  if (family == "gemm") {  // kernels/gemm/bench_main.cu: --warmup 10, flush of twice the L2
    t = {true, 10, 2.0 * p.capacity.l2.value};
  } else if (family == "attention") {  // attn_bench.cu: 5 warm-up launches per round-robin pass, no flush
    t = {true, 5, 0.0};
  } else if (family == "decode" || family == "mla") {  // decode_bench.cu / mla_bench.cu: kWarmup 5
    t = {true, 5, kDecodeFlushBytes};
  }
  return t;
}

LimitedTime time_under_power_limit(const model::Prediction& pr, const profiles::Profile& p, const MeasuredRun& run) {
  LimitedTime out;
  out.time_us = pr.time_us;
  out.clock_mhz = pr.clock_mhz;
  TimingProtocol t = timing_protocol(run.family, p);
  if (run.warmup_per_pass >= 0 && run.flush_bytes >= 0.0) t = {true, run.warmup_per_pass, run.flush_bytes};
  if (!t.known || !pr.power_known || !p.has(p.power.limiter_reaction_ms) || run.samples <= 0) return out;
  const model::ChipTerms& chip = pr.desc.chip;
  const double gap_us = kHostWaitUs + t.flush_bytes / chip.hbm_peak_bytes_per_s * 1e6;
  const double gap_j = t.flush_bytes * chip.energy_j_per_work[static_cast<int>(model::Unit::kHbm)];
  // The samples of a pass come one after another; the median one is half way through the
  // pass's samples, after its warm-up launches.
  const double per_pass = static_cast<double>(run.samples) / std::max(1, run.passes);
  out.median_sample_ms = (t.warmup_per_pass + per_pass / 2.0) * (pr.time_us + gap_us) * 1e-3;
  // Right after another kernel's 2-s trace the limiter has already acted.
  if (out.median_sample_ms < p.power.limiter_reaction_ms.value && !run.after_trace) return out;
  const double limited_us = model::power_limited_time_us(pr, gap_us, gap_j);
  if (limited_us <= pr.time_us) return out;
  out.limited = true;
  out.clock_mhz = model::stretched_clock_mhz(pr.clock_mhz, pr.makespan_us, limited_us - pr.time_us);
  out.time_us = limited_us;
  return out;
}

}  // namespace tilesim::validate
