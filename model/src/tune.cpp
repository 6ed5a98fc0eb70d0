// tune: every tile of a schedule's tune values (or every kernel instance), feasible ones
// ranked by predicted time.
#include <algorithm>
#include <functional>
#include <numeric>

#include "evaluate.hpp"
#include "schedules/common.hpp"

namespace tilesim::model {

namespace {
template <typename F>
void count_reason(TuneStats& st, const std::string& reason, F&& example) {
  if (st.infeasible_by_reason[reason]++ == 0) st.reason_example[reason] = example();
}

// The rejection sentence for a tile (worded once per reason: the first failure counts).
std::string reject_example(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const ModelConstants& k,
                           const Tile& tile) {
  try {
    (void)detail::build_checked(p, prob, spec, tile, k, false);
  } catch (const Infeasible& e) {
    return tile.to_string() + ": " + e.what();
  }
  return tile.to_string();
}

// One tile: ranked, or counted as infeasible by reason.
void try_tile(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const ModelConstants& k, const Tile& tile,
              Prediction& pr, std::vector<Ranked>& out, TuneStats& st) {
  ++st.considered;
  if (const char* key = check_tile(spec, tile, prob, p)) {
    count_reason(st, spec.name + ": " + key, [&] { return reject_example(p, prob, spec, k, tile); });
    return;
  }
  try {
    std::string reject;
    ScheduleDesc d = detail::build_unchecked(p, prob, spec, tile, k, false, &reject);
    if (!reject.empty()) {
      detail::recycle_ops(d);
      count_reason(st, spec.name + ": " + reject, [&] { return reject_example(p, prob, spec, k, tile); });
      return;
    }
    detail::evaluate(d, pr, false);
    detail::recycle_ops(d);
  } catch (const Infeasible& e) {
    count_reason(st, spec.name + ": " + e.key(), [&] { return tile.to_string() + ": " + e.what(); });
    return;
  }
  Ranked r;
  r.schedule = spec.name;
  r.tile = tile;
  r.time_us = pr.time_us;
  r.sustained_time_us = pr.sustained_time_us;
  r.tflops = pr.tflops;
  r.hbm_gbps = pr.hbm_gbps;
  r.bottleneck = pr.bottleneck;
  r.bound_kind = pr.bound_kind;
  r.waves = pr.waves;
  r.ctas_per_sm = pr.ctas_per_sm;
  r.has_kernel = has_kernel(spec, tile, prob);
  for (const auto& u : pr.units) {
    if (unit_name(u.unit) == pr.bottleneck) r.bottleneck_utilization = u.utilization;
    if (u.unit == Unit::kTensor) r.tensor_utilization = u.utilization;
  }
  r.second_utilization = second_busiest_utilization(pr);
  out.push_back(std::move(r));
  ++st.feasible;
}

// Every combination of the parameters' tune values (odometer order).
void tune_space(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const ModelConstants& k,
                std::vector<Ranked>& out, TuneStats& st) {
  const auto& params = spec.params;
  std::vector<size_t> idx(params.size(), 0);
  Tile tile;
  for (const auto& ps : params) tile.set(ps.name, ps.tune_values.front());
  std::vector<double*> slot;  // the tile's value of each parameter, set in place
  for (const auto& ps : params) slot.push_back(&tile.values[ps.name]);
  Prediction pr;
  while (true) {
    for (size_t i = 0; i < params.size(); ++i) *slot[i] = params[i].tune_values[idx[i]];
    try_tile(p, prob, spec, k, tile, pr, out, st);
    size_t i = 0;
    while (i < params.size() && ++idx[i] == params[i].tune_values.size()) idx[i++] = 0;
    if (i == params.size()) break;
  }
}

// The kernel instances that serve the problem; their runtime parameters take every tune value.
void tune_kernels(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const ModelConstants& k,
                  std::vector<Ranked>& out, TuneStats& st) {
  Prediction pr;
  for (const auto& inst : spec.kernels) {
    if (!instance_serves(inst, prob)) continue;
    std::vector<Tile> tiles{inst.tile};
    for (const auto& name : spec.runtime_params) {
      std::vector<Tile> next;
      for (const auto& t : tiles)
        for (double v : spec.param(name)->tune_values) {
          Tile u = t;
          u.set(name, v);
          next.push_back(std::move(u));
        }
      tiles = std::move(next);
    }
    for (const auto& t : tiles) try_tile(p, prob, spec, k, t, pr, out, st);
  }
}
}  // namespace

std::vector<Ranked> tune(const Profile& p, const Problem& prob, const TuneOptions& opt, TuneStats* stats,
                         const ModelConstants& k) {
  validate(prob);
  TuneStats local;
  TuneStats& st = stats ? *stats : local;
  std::vector<Ranked> out;
  auto run = [&](const ScheduleSpec& spec) {
    if (opt.kernels_only)
      tune_kernels(p, prob, spec, k, out, st);
    else
      tune_space(p, prob, spec, k, out, st);
  };
  if (!opt.schedule.empty()) {
    const auto& spec = schedule_spec(opt.schedule);
    if (spec.kind != prob.kind)
      throw ModelError("schedule " + opt.schedule + " is for " + problem_kind_name(spec.kind) + " problems, not " +
                       problem_kind_name(prob.kind));
    const std::string why = chip_support(p, spec);
    if (!why.empty()) throw ModelError(why);
    run(spec);
  } else {
    for (const auto& spec : schedules()) {
      if (spec.kind != prob.kind) continue;
      const std::string why = chip_support(p, spec);
      if (!why.empty()) {
        st.schedules_rejected[spec.name] = why;
        continue;
      }
      run(spec);
    }
  }
  std::vector<double> times, second;
  times.reserve(out.size());
  second.reserve(out.size());
  for (const auto& r : out) {
    times.push_back(opt.sustained ? r.sustained_time_us : r.time_us);
    second.push_back(r.second_utilization);
  }
  std::vector<Ranked> ranked;
  ranked.reserve(out.size());
  for (const size_t i : rank_order(times, second)) ranked.push_back(std::move(out[i]));
  return ranked;
}

double second_busiest_utilization(const std::vector<double>& utilizations) {
  double first = 0.0, second = 0.0;
  for (const double u : utilizations) {
    if (u > first) {
      second = first;
      first = u;
    } else if (u > second) {
      second = u;
    }
  }
  return second;
}

double second_busiest_utilization(const Prediction& p) {
  std::vector<double> u;
  u.reserve(p.units.size());
  for (const auto& x : p.units) u.push_back(x.utilization);
  return second_busiest_utilization(u);
}

std::vector<size_t> rank_order(const std::vector<double>& time_us, const std::vector<double>& second_utilization) {
  if (time_us.size() != second_utilization.size())
    throw ModelError("rank_order: " + std::to_string(time_us.size()) + " times but " +
                     std::to_string(second_utilization.size()) + " utilizations");
  std::vector<size_t> order(time_us.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return time_us[a] < time_us[b]; });
  // Groups anchored at their fastest member, each ordered by headroom, then by time.
  for (size_t g = 0; g < order.size();) {
    size_t end = g + 1;
    while (end < order.size() && time_us[order[end]] <= time_us[order[g]] * (1.0 + kRankTieTolerance)) ++end;
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(g), order.begin() + static_cast<std::ptrdiff_t>(end),
                     [&](size_t a, size_t b) {
                       if (second_utilization[a] != second_utilization[b])
                         return second_utilization[a] < second_utilization[b];
                       return time_us[a] < time_us[b];
                     });
    g = end;
  }
  return order;
}

std::vector<Ranked> tune(const Profile& p, const Problem& prob, const std::string& schedule, TuneStats* stats,
                         const ModelConstants& k) {
  return tune(p, prob, TuneOptions{schedule, false, false}, stats, k);
}

}  // namespace tilesim::model
