// tune: every tile of a schedule's tune values, feasible ones ranked by predicted time.
#include <algorithm>
#include <functional>

#include "evaluate.hpp"
#include "schedules/common.hpp"

namespace tilesim::model {

namespace {
template <typename F>
void count_reason(TuneStats& st, const std::string& reason, F&& example) {
  if (st.infeasible_by_reason[reason]++ == 0) st.reason_example[reason] = example();
}

// One tile: ranked, or counted as infeasible by reason.
void try_tile(const Profile& p, const Problem& prob, const ScheduleInfo& info, const ModelConstants& k, const Tile& tile,
              Prediction& pr, std::vector<Ranked>& out, TuneStats& st) {
  ++st.considered;
  if (const char* key = detail::quick_reject(info.name, tile, prob)) {
    count_reason(st, info.name + ": " + key, [&] {
      try {  // word the reason once: the builder's exception says which rule failed
        (void)detail::build_checked(p, prob, info.name, tile, k, false);
      } catch (const Infeasible& e) {
        return tile.to_string() + ": " + e.what();
      }
      return tile.to_string();
    });
    return;
  }
  try {
    std::string reject;
    ScheduleDesc d = detail::build_checked(p, prob, info.name, tile, k, false, &reject);
    if (!reject.empty()) {
      detail::recycle_ops(d);
      count_reason(st, info.name + ": " + reject, [&] {
        try {
          (void)detail::build_checked(p, prob, info.name, tile, k, false);
        } catch (const Infeasible& e) {
          return tile.to_string() + ": " + e.what();
        }
        return tile.to_string();
      });
      return;
    }
    detail::evaluate(d, p, k, pr, false);
    detail::recycle_ops(d);
  } catch (const Infeasible& e) {
    count_reason(st, info.name + ": " + e.key(), [&] { return tile.to_string() + ": " + e.what(); });
    return;
  }
  Ranked r;
  r.schedule = info.name;
  r.tile = tile;
  r.time_us = pr.time_us;
  r.tflops = pr.tflops;
  r.hbm_gbps = pr.hbm_gbps;
  r.bottleneck = pr.bottleneck;
  r.bound_kind = pr.bound_kind;
  r.waves = pr.waves;
  r.ctas_per_sm = pr.ctas_per_sm;
  for (const auto& u : pr.units) {
    if (unit_name(u.unit) == pr.bottleneck) r.bottleneck_utilization = u.utilization;
    if (u.unit == Unit::kTensor) r.tensor_utilization = u.utilization;
  }
  out.push_back(std::move(r));
  ++st.feasible;
}

void tune_schedule(const Profile& p, const Problem& prob, const ScheduleInfo& info, const ModelConstants& k,
                   std::vector<Ranked>& out, TuneStats& st) {
  const auto& params = info.params;
  std::vector<size_t> idx(params.size(), 0);
  Tile tile;
  for (const auto& ps : params) tile.set(ps.name, ps.tune_values.front());
  std::vector<double*> slot;  // the tile's value of each parameter, set in place
  for (const auto& ps : params) slot.push_back(&tile.values[ps.name]);
  Prediction pr;
  while (true) {
    for (size_t i = 0; i < params.size(); ++i) *slot[i] = params[i].tune_values[idx[i]];
    try_tile(p, prob, info, k, tile, pr, out, st);
    size_t i = 0;
    while (i < params.size() && ++idx[i] == params[i].tune_values.size()) idx[i++] = 0;
    if (i == params.size()) break;
  }
}
}  // namespace

std::vector<Ranked> tune(const Profile& p, const Problem& prob, const std::string& schedule, TuneStats* stats,
                         const ModelConstants& k) {
  validate(prob);
  TuneStats local;
  TuneStats& st = stats ? *stats : local;
  std::vector<Ranked> out;
  if (!schedule.empty()) {
    const auto& info = schedule_info(schedule);
    if (info.kind != prob.kind)
      throw ModelError("schedule " + schedule + " is for " + problem_kind_name(info.kind) + " problems, not " +
                       problem_kind_name(prob.kind));
    const std::string why = chip_support(p, schedule);
    if (!why.empty()) throw ModelError(why);
    tune_schedule(p, prob, info, k, out, st);
  } else {
    for (const auto& info : schedules()) {
      if (info.kind != prob.kind) continue;
      const std::string why = chip_support(p, info.name);
      if (!why.empty()) {
        st.schedules_rejected[info.name] = why;
        continue;
      }
      tune_schedule(p, prob, info, k, out, st);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Ranked& a, const Ranked& b) { return a.time_us < b.time_us; });
  return out;
}

}  // namespace tilesim::model
