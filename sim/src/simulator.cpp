// simulate(): grid assignment, the event-driven run, statistics.
#include "tilesim/sim/simulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "engine.hpp"
#include "extrapolate.hpp"
#include "grid.hpp"
#include "program.hpp"
#include "stalls.hpp"

namespace tilesim::sim {

namespace {

void check_desc(const model::ScheduleDesc& d) {
  if (d.loop.empty()) throw SimError(d.schedule + ": the schedule has no main-loop ops");
  if (d.grid.classes.empty()) throw SimError(d.schedule + ": the grid has no work classes");
  if (d.grid.ctas_per_sm < 1 || d.grid.sm_count < 1)
    throw SimError(d.schedule + ": grid occupancy not filled");
  if (!(d.chip.clock_mhz > 0.0)) throw SimError(d.schedule + ": clock_mhz must be > 0");
  const std::vector<model::Op>* lists[3] = {&d.prologue, &d.loop, &d.epilogue};
  for (int ph = 0; ph < 3; ++ph)
    for (size_t v = 0; v < lists[ph]->size(); ++v) {
      const model::Op& op = (*lists[ph])[v];
      if (op.role < 0 || op.role >= static_cast<int>(d.roles.size()))
        throw SimError(d.schedule + ": op " + op.name + " has no role");
      for (const auto& dep : op.deps) {
        if (dep.op < 0 || dep.op >= static_cast<int>(lists[ph]->size()) || dep.distance < 0 ||
            (ph != 1 && dep.distance != 0))
          throw SimError(d.schedule + ": op " + op.name + " has a bad dependency");
        if (dep.distance == 0 && dep.op >= static_cast<int>(v))
          throw SimError(d.schedule + ": op " + op.name +
                         " depends on a later op of the same iteration");
      }
      for (const auto& u : op.uses)
        if (!std::isfinite(u.work) || u.work < 0.0 || !std::isfinite(u.rate_per_clk) ||
            u.rate_per_clk < 0.0)
          throw SimError(d.schedule + ": op " + op.name + " has a bad use of " +
                         model::unit_name(u.unit));
        else if (u.rate_per_clk > 0.0 && !std::isfinite(u.work / u.rate_per_clk))
          throw SimError(d.schedule + ": op " + op.name + " would hold " + model::unit_name(u.unit) +
                         " for a non-finite number of cycles (a rate is out of range)");
      if (!std::isfinite(op.latency_cycles) || op.latency_cycles < 0.0)
        throw SimError(d.schedule + ": op " + op.name + " has a bad latency");
      if (!std::isfinite(op.chain_cycles) || op.chain_cycles < 0.0)
        throw SimError(d.schedule + ": op " + op.name + " has a bad chain_cycles");
    }
}

// Events per op instance, about: ready, start, unit release(s), occupancy end, done.
constexpr double kEventsPerInstance = 4.0;
// The whole-grid estimate may overcount the representative SMs of a many-class grid by
// this factor (not every SM gets a distinct class sequence); past it a grid is refused
// before the assignment.
constexpr double kEstimateMargin = 4.0;

[[noreturn]] void refuse_size(double instances, const Options& o, const std::string& where,
                              const std::string& why_not = "") {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "the grid needs %s%.3g op instances (~%.2g events) on %s, more than max_op_instances (%lld)",
                where == "one SM" ? "at least " : "", instances, instances * kEventsPerInstance, where.c_str(),
                static_cast<long long>(o.max_op_instances));
  std::string msg = buf;
  if (!why_not.empty()) msg += ", and it cannot be extrapolated: " + why_not;
  throw SimError(msg + "; simulate a smaller problem (fewer batches, heads or tokens) or use predict");
}

}  // namespace

Result simulate(const model::ScheduleDesc& d, const Options& o) {
  const auto t_wall = std::chrono::steady_clock::now();
  check_desc(d);
  const double lower = detail::min_instances_per_sm(d);
  const double whole = detail::whole_instances_estimate(d, o);
  std::string why_not;
  Result r;
  if (o.extrapolate && whole > static_cast<double>(o.max_full_instances)) {
    const detail::Plan plan = detail::plan_extrapolation(d, o);
    if (plan.on())
      r = detail::simulate_extrapolated(d, o, plan);
    else
      why_not = plan.why_not;
  }
  if (!r.extrapolated) {
    if (lower > static_cast<double>(o.max_op_instances)) refuse_size(lower, o, "one SM", why_not);
    // Refused up front where the estimate is far past the limit (the per-class pre-pass
    // alone may take minutes); near it, the exact count after the assignment decides.
    if (!why_not.empty() && whole > kEstimateMargin * static_cast<double>(o.max_op_instances))
      refuse_size(whole, o, "the representative SMs (estimate)", why_not);
    r = detail::simulate_whole(d, o);
  }
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_wall).count();
  return r;
}

namespace detail {

Result simulate_whole(const model::ScheduleDesc& d, const Options& o) {
  const model::Grid& grid = d.grid;
  const bool persistent = grid.scheduler != model::Scheduler::kPlain;
  const int64_t items = grid.total_items();
  const detail::Program prog = detail::build_program(d);

  // Per-class slot time for the assignment: each class alone on a full chip.
  std::vector<double> class_cycles(grid.classes.size(), 1.0);
  int64_t pre_events = 0;
  if (grid.classes.size() > 1) {
    Options pre = o;
    pre.record_trace = false;
    const int64_t busy_sms =
        std::min<int64_t>(grid.sm_count, (items + grid.ctas_per_sm - 1) / grid.ctas_per_sm);
    const int share = static_cast<int>(
        std::min<int64_t>(grid.ctas_per_sm, (items + grid.sm_count - 1) / grid.sm_count));
    for (size_t c = 0; c < grid.classes.size(); ++c) {
      std::vector<SmGroup> g(1);
      g[0].sms = static_cast<int>(std::max<int64_t>(1, busy_sms));
      g[0].slot_classes.assign(static_cast<size_t>(std::max(1, share)),
                               std::vector<int>{static_cast<int>(c)});
      detail::Engine e(prog, d, pre, persistent, g);
      e.run();
      pre_events += e.events();
      class_cycles[c] = persistent ? e.makespan() - o.cta_launch_cycles : e.makespan();
    }
  }

  Result r;
  r.options = o;
  r.groups = detail::assign_grid(grid, class_cycles, o.max_groups);
  int64_t instances = 0;
  const int64_t per_item = static_cast<int64_t>(d.prologue.size() + d.epilogue.size());
  for (const auto& g : r.groups)
    for (const auto& slot : g.slot_classes)
      for (int c : slot)
        instances += per_item + static_cast<int64_t>(d.loop.size()) * grid.classes[static_cast<size_t>(c)].iterations;
  if (instances > o.max_op_instances)
    refuse_size(static_cast<double>(instances), o,
                std::to_string(r.groups.size()) + " representative SM(s)");
  detail::Engine eng(prog, d, o, persistent, r.groups);
  eng.run();

  r.clock_mhz = d.chip.clock_mhz;
  r.kernel_cycles = eng.makespan();
  r.kernel_us = r.kernel_cycles / d.chip.clock_mhz;
  r.launch_us = d.chip.launch_us;
  r.post_us = d.post.time_us(o.post_hbm_bytes_per_s);
  r.total_us = r.kernel_us + r.launch_us + r.post_us;
  r.work_items = items;
  r.ctas_per_sm = grid.ctas_per_sm;
  r.scheduler = model::scheduler_name(grid.scheduler);
  r.events = eng.events() + pre_events;

  // units
  for (int u = 0; u < model::kUnitCount; ++u) {
    if (eng.unit_work(u) <= 0.0 && !prog.any_unit[u]) continue;
    UnitStats us;
    us.unit = static_cast<model::Unit>(u);
    us.work = eng.unit_work(u);
    if (model::unit_is_chip_wide(us.unit)) {
      us.busy_cycles = prog.chip_rate[u] > 0.0 ? us.work / prog.chip_rate[u] : 0.0;
      us.busy_fraction = r.kernel_cycles > 0.0 ? us.busy_cycles / r.kernel_cycles : 0.0;
    } else {
      us.busy_cycles = eng.unit_busy(u);
      us.busy_fraction =
          r.kernel_cycles > 0.0 ? us.busy_cycles / (grid.sm_count * r.kernel_cycles) : 0.0;
    }
    r.units.push_back(us);
  }

  // steady state: middle half of the longest item's iterations, last loop op
  const auto& slots = eng.slots();
  const detail::SlotState* best = nullptr;
  size_t best_item = 0;
  for (const auto& s : slots)
    for (size_t j = 0; j < s.items.size(); ++j)
      if (best == nullptr || s.items[j].n > best->items[best_item].n) {
        best = &s;
        best_item = j;
      }
  if (best != nullptr) {
    const detail::Item& it = best->items[best_item];
    const int o_last = prog.n_loop - 1;
    r.steady_op = d.loop.back().name;
    r.first_item_cycles = it.t_end - it.t_start;
    if (it.n >= 2) {
      const int64_t i1 = it.n >= 4 ? it.n / 4 : 0, i2 = it.n >= 4 ? (3 * it.n) / 4 : it.n - 1;
      const double a = best->start[static_cast<size_t>(it.loop_base + i1 * prog.n_loop + o_last)];
      const double b = best->start[static_cast<size_t>(it.loop_base + i2 * prog.n_loop + o_last)];
      r.steady_first_iter = i1;
      r.steady_last_iter = i2;
      r.steady_iteration_cycles = (b - a) / static_cast<double>(i2 - i1);
    }
  }
  for (const auto& s : slots) r.op_instances += static_cast<int64_t>(s.op.size());
  r.roles = detail::role_stalls(prog, d, slots, r.groups, r.kernel_cycles);

  // names for the trace and reports
  for (const auto& op : prog.ops) {
    r.op_names.push_back(op.name);
    r.op_roles.push_back(op.role);
  }
  for (const auto& role : d.roles) r.role_names.push_back(role.name);
  for (const auto& c : grid.classes) r.class_names.push_back(c.name);
  r.trace = std::move(eng.trace());
  r.trace_truncated = eng.trace_truncated();
  return r;
}

}  // namespace detail

}  // namespace tilesim::sim
