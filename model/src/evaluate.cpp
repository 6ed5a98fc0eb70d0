// The analytic evaluator: steady-state iteration time from a ScheduleDesc (resource
// bound per unit, dependency-cycle bound), item time (prologue, fill, loop, epilogue),
// grid makespan by list scheduling of work items on SM slots, whole-kernel unit bounds.
#include "evaluate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

#include "clock.hpp"
#include "schedules/common.hpp"

namespace tilesim::model::detail {

// A loop is called dependency-bound only when its dependency chain exceeds the busiest
// unit by more than 5%; closer than that, the unit is the useful answer.
constexpr double kDependencyMargin = 1.05;

void validate_desc(const ScheduleDesc& d) {
  auto check_list = [&](const std::vector<Op>& ops, bool loop, const char* which) {
    for (size_t v = 0; v < ops.size(); ++v) {
      const Op& op = ops[v];
      if (op.role < 0 || op.role >= static_cast<int>(d.roles.size()))
        throw std::logic_error(d.schedule + ": op " + op.name + " has no role");
      if (!(op.latency_cycles >= 0.0) || !std::isfinite(op.latency_cycles))
        throw std::logic_error(d.schedule + ": op " + op.name + " latency");
      if (!(op.chain_cycles >= 0.0) || !std::isfinite(op.chain_cycles))
        throw std::logic_error(d.schedule + ": op " + op.name + " chain cycles");
      for (const auto& u : op.uses)
        if (!(u.rate_per_clk > 0.0) || !(u.work >= 0.0) || !std::isfinite(u.work) || !std::isfinite(u.rate_per_clk))
          throw std::logic_error(d.schedule + ": op " + op.name + " has a bad use of " + unit_name(u.unit));
      for (const auto& dep : op.deps) {
        if (dep.op < 0 || dep.op >= static_cast<int>(ops.size()) || dep.distance < 0)
          throw std::logic_error(d.schedule + ": op " + op.name + " has a bad dependency in " + which);
        if (!loop && dep.distance != 0) throw std::logic_error(d.schedule + ": distance > 0 outside the loop");
        if (dep.distance == 0 && dep.op >= static_cast<int>(v))
          throw std::logic_error(d.schedule + ": op " + op.name + " depends on a later op in the same iteration");
      }
    }
  };
  check_list(d.prologue, false, "prologue");
  check_list(d.loop, true, "loop");
  check_list(d.epilogue, false, "epilogue");
  if (d.loop.empty()) throw std::logic_error(d.schedule + ": empty main loop");
  if (d.grid.classes.empty() || d.grid.ctas_per_sm < 1 || d.grid.sm_count < 1)
    throw std::logic_error(d.schedule + ": grid not filled");
  if (d.grid.scheduler == Scheduler::kStaticStride) {
    const auto& pat = d.grid.launch_pattern;
    const int64_t period = static_cast<int64_t>(pat.size());
    if (period == 0 || d.grid.total_items() % period != 0)
      throw std::logic_error(d.schedule + ": a static-stride grid needs a launch pattern that tiles its items");
    std::vector<int64_t> per_class(d.grid.classes.size(), 0);
    for (int c : pat) {
      if (c < 0 || c >= static_cast<int>(per_class.size()))
        throw std::logic_error(d.schedule + ": launch pattern names no class");
      ++per_class[static_cast<size_t>(c)];
    }
    for (size_t c = 0; c < per_class.size(); ++c)
      if (per_class[c] * (d.grid.total_items() / period) != d.grid.classes[c].items)
        throw std::logic_error(d.schedule + ": launch pattern and class " + d.grid.classes[c].name + " disagree");
  }
  const ChipTerms& t = d.chip;
  if (!(t.clock_mhz > 0.0) || !(t.l2_bytes_per_s > 0.0) || !(t.hbm_bytes_per_s > 0.0) ||
      !(t.l2_peak_bytes_per_s > 0.0) || !(t.hbm_peak_bytes_per_s > 0.0) ||
      !(t.clock.dvfs ? t.clock.max_mhz > 0.0 && t.clock.tensor_saturated_mhz > 0.0 &&
                           t.clock.tensor_active_drop_mhz >= 0.0 && t.clock.tensor_active_knee_share > 0.0
                     : t.clock.fixed_mhz > 0.0))
    throw std::logic_error(d.schedule + ": chip terms not filled");
}

namespace {

// v with `decimals` (0..3) digits after the point, without printf (hot path).
std::string fx(double v, int decimals) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (std::fabs(v) >= 9e15) {  // beyond llround's range
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }
  static constexpr long long kScale[] = {1, 10, 100, 1000};
  const long long scale = kScale[std::clamp(decimals, 0, 3)];
  long long x = std::llround(std::fabs(v) * static_cast<double>(scale));
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x / scale);
  std::string s = v < 0 && x != 0 ? "-" : "";
  s.append(buf, r.ptr);
  if (decimals > 0) {
    r = std::to_chars(buf, buf + sizeof buf, x % scale + scale);  // leading 1 keeps the zeros
    s += '.';
    s.append(buf + 1, r.ptr);
  }
  return s;
}

double edge_weight(const Op& from, DepKind kind, double occ) {
  switch (kind) {
    case DepKind::kIssue: return 0.0;
    case DepKind::kAfter: return occ;
    case DepKind::kDone: return occ + from.latency_cycles;
  }
  return 0.0;
}

using Cycle = std::vector<std::pair<int, int>>;  // edges: (op, index of the dep in op.deps)

// The elementary cycles of a loop graph in a flat form for fast evaluation: per cycle,
// its edges' (predecessor op, dependency kind) and the total iteration distance.
struct CycleSet {
  std::vector<Cycle> cycles;
  std::vector<int> offsets;   // cycles[i] edges are flat[offsets[i] .. offsets[i+1])
  std::vector<int> flat;      // 3 * predecessor + kind
  std::vector<int> distance;  // per cycle
};

// Elementary cycles of the loop graph, cached by the graph's structure (the same for
// every tile of a schedule variant, so tune enumerates once). Parallel edges with the
// same distance are reduced to the strongest kind (done > after > issue), which
// dominates the others in every cycle.
const CycleSet* loop_cycles(const std::vector<Op>& loop) {
  thread_local std::unordered_map<std::string, CycleSet> cache;
  thread_local std::unordered_map<std::string, bool> too_many;
  std::string key;
  key.reserve(loop.size() * 16);
  for (const auto& op : loop) {
    key.push_back(static_cast<char>(op.deps.size()));
    for (const auto& dep : op.deps) {
      key.push_back(static_cast<char>(dep.op));
      key.push_back(static_cast<char>(dep.distance));
      key.push_back(static_cast<char>(dep.kind));
    }
  }
  if (auto it = cache.find(key); it != cache.end()) return &it->second;
  if (too_many.count(key)) return nullptr;
  const int n = static_cast<int>(loop.size());
  std::vector<std::vector<std::pair<int, int>>> out(n);  // u -> (v, dep index)
  for (int v = 0; v < n; ++v) {
    const auto& deps = loop[v].deps;
    for (int j = 0; j < static_cast<int>(deps.size()); ++j) {
      bool dominated = false;
      for (int j2 = 0; j2 < static_cast<int>(deps.size()) && !dominated; ++j2) {
        if (j2 == j || deps[j2].op != deps[j].op || deps[j2].distance != deps[j].distance) continue;
        dominated = deps[j2].kind > deps[j].kind || (deps[j2].kind == deps[j].kind && j2 < j);
      }
      if (!dominated) out[deps[j].op].emplace_back(v, j);
    }
  }
  CycleSet set;
  constexpr size_t kMaxCycles = 20000;
  bool overflow = false;
  std::vector<char> on_path(n, 0);
  Cycle path;
  std::function<void(int, int)> dfs = [&](int s, int u) {
    for (const auto& [v, j] : out[u]) {
      if (overflow) return;
      if (v == s) {
        path.emplace_back(v, j);
        set.cycles.push_back(path);
        path.pop_back();
        if (set.cycles.size() > kMaxCycles) overflow = true;
        continue;
      }
      if (v < s || on_path[v]) continue;
      on_path[v] = 1;
      path.emplace_back(v, j);
      dfs(s, v);
      path.pop_back();
      on_path[v] = 0;
    }
  };
  for (int s = 0; s < n && !overflow; ++s) {
    on_path[s] = 1;
    dfs(s, s);
    on_path[s] = 0;
  }
  if (cache.size() > 4096) cache.clear();
  if (overflow) {
    too_many[key] = true;
    return nullptr;
  }
  for (const auto& c : set.cycles) {
    int dist = 0;
    set.offsets.push_back(static_cast<int>(set.flat.size()));
    for (const auto& [v, j] : c) {
      const Dep& dep = loop[v].deps[j];
      dist += dep.distance;
      set.flat.push_back(3 * dep.op + static_cast<int>(dep.kind));
    }
    if (dist == 0) throw std::logic_error("schedule loop has a dependency cycle within one iteration (deadlock)");
    set.distance.push_back(dist);
  }
  set.offsets.push_back(static_cast<int>(set.flat.size()));
  return &cache.emplace(std::move(key), std::move(set)).first->second;
}

// Fallback for graphs with too many cycles: max-plus iteration of start times.
double power_iteration_bound(const std::vector<Op>& loop, const std::vector<double>& occ) {
  constexpr int kIters = 512, kWindow = 256;
  const int n = static_cast<int>(loop.size());
  std::vector<std::vector<double>> x(kIters, std::vector<double>(n, 0.0));
  for (int i = 0; i < kIters; ++i)
    for (int v = 0; v < n; ++v) {
      double s = 0.0;
      for (const auto& dep : loop[v].deps) {
        if (i - dep.distance < 0) continue;
        s = std::max(s, x[i - dep.distance][dep.op] + edge_weight(loop[dep.op], dep.kind, occ[dep.op]));
      }
      x[i][v] = s;
    }
  const double a = *std::max_element(x[kIters - 1].begin(), x[kIters - 1].end());
  const double b = *std::max_element(x[kIters - 1 - kWindow].begin(), x[kIters - 1 - kWindow].end());
  return (a - b) / kWindow;
}

// Occupancy on the SM's own units only. Dependency chains and fill use it: the chip-wide
// units' throughput (L2, HBM) is charged as a fluid over the whole kernel, and a load's
// latency stays on the chain (Op::latency_cycles).
double local_occupancy(const Op& op) {
  double c = op.chain_cycles;
  for (const auto& u : op.uses)
    if (!unit_is_chip_wide(u.unit) && u.work > 0.0) c = std::max(c, u.work / u.rate_per_clk);
  return c;
}

// Prologue / epilogue: critical path of the DAG or the busiest unit, whichever is longer.
double phase_cycles(const std::vector<Op>& ops, double active_chip, int share_sm) {
  if (ops.empty()) return 0.0;
  std::vector<double> done(ops.size(), 0.0);
  double crit = 0.0;
  double unit_sum[kUnitCount] = {};
  for (size_t v = 0; v < ops.size(); ++v) {
    double start = 0.0;
    for (const auto& dep : ops[v].deps) {
      const double occ_u = local_occupancy(ops[dep.op]);
      const double t_u = done[dep.op] - ops[dep.op].latency_cycles - occ_u;  // start of u
      start = std::max(start, t_u + edge_weight(ops[dep.op], dep.kind, occ_u));
    }
    const double occ = local_occupancy(ops[v]);
    done[v] = start + occ + ops[v].latency_cycles;
    crit = std::max(crit, done[v]);
    for (const auto& u : ops[v].uses) {
      const double rate = unit_is_chip_wide(u.unit) ? u.rate_per_clk / std::max(1.0, active_chip) : u.rate_per_clk;
      unit_sum[static_cast<int>(u.unit)] += u.work / rate;
    }
  }
  double res = 0.0;  // SM units only: chip-wide traffic is charged by the whole-kernel bounds
  for (int u = 0; u < kUnitCount; ++u)
    if (!unit_is_chip_wide(static_cast<Unit>(u))) res = std::max(res, share_sm * unit_sum[u]);
  return std::max(crit, res);
}

// List scheduling of identical-duration item groups onto `slots` slots (each item goes
// to the slot that frees first). Slot loads are kept as (load, count) groups sorted by
// load; a group takes whole rounds of items while it stays the least loaded.
double list_schedule(const std::vector<std::pair<double, int64_t>>& items_in_order, int64_t slots) {
  struct G {
    double load;
    int64_t count;
  };
  thread_local std::vector<G> g;
  g.clear();
  g.push_back(G{0.0, slots});
  // Re-inserts g[0] (whose load grew) at its sorted place, merging equal loads.
  auto sift_first = [&] {
    size_t i = 0;
    while (i + 1 < g.size() && g[i + 1].load < g[i].load) {
      std::swap(g[i], g[i + 1]);
      ++i;
    }
    if (i + 1 < g.size() && std::fabs(g[i + 1].load - g[i].load) <= 1e-9 * std::max(1.0, g[i].load)) {
      g[i + 1].count += g[i].count;
      g.erase(g.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (i > 0 && std::fabs(g[i - 1].load - g[i].load) <= 1e-9 * std::max(1.0, g[i].load)) {
      g[i - 1].count += g[i].count;
      g.erase(g.begin() + static_cast<std::ptrdiff_t>(i));
    }
  };
  for (const auto& [t, count] : items_in_order) {
    int64_t n = count;
    if (t <= 0.0) continue;
    while (n > 0) {
      const double next = g.size() > 1 ? g[1].load : std::numeric_limits<double>::infinity();
      int64_t kmax = std::numeric_limits<int64_t>::max();
      if (std::isfinite(next)) kmax = static_cast<int64_t>(std::floor((next - g[0].load) / t)) + 1;
      const int64_t rounds = std::min(kmax, n / g[0].count);
      if (rounds >= 1) {
        g[0].load += static_cast<double>(rounds) * t;
        n -= rounds * g[0].count;
        sift_first();
      } else {
        // n < g[0].count: n slots of the least loaded group take one more item
        const G moved{g[0].load + t, n};
        g[0].count -= n;
        n = 0;
        auto pos = std::lower_bound(g.begin(), g.end(), moved.load, [](const G& a, double l) { return a.load < l; });
        if (pos != g.end() && std::fabs(pos->load - moved.load) <= 1e-9 * std::max(1.0, moved.load))
          pos->count += moved.count;
        else
          g.insert(pos, moved);
      }
    }
  }
  double makespan = 0.0;
  for (const auto& x : g) makespan = std::max(makespan, x.load);
  return makespan;
}

// Static stride: slot s runs items s, s + slots, s + 2 slots, ... of the launch order (the
// pattern of class indices repeated), whatever they cost; the busiest slot ends the grid.
// The positions a slot visits repeat modulo the pattern's period P every P / gcd(slots, P)
// items, each time covering the pattern positions congruent to s modulo that gcd: whole
// turns are summed once, only the last partial turn is walked (tune's hot path: causal
// grids have up to ~1e6 items).
double static_stride_schedule(const std::vector<std::pair<double, int64_t>>& class_durations,
                              const std::vector<int>& pattern, int64_t items, int64_t slots) {
  const int64_t period = static_cast<int64_t>(pattern.size());
  auto cost = [&](int64_t pos) { return class_durations[static_cast<size_t>(pattern[static_cast<size_t>(pos)])].first; };
  const int64_t g = std::gcd(slots, period), turn = period / g, step = slots % period;
  thread_local std::vector<double> turn_cost;
  turn_cost.assign(static_cast<size_t>(g), 0.0);
  for (int64_t pos = 0; pos < period; ++pos) turn_cost[static_cast<size_t>(pos % g)] += cost(pos);
  double makespan = 0.0;
  for (int64_t s = 0; s < std::min(slots, items); ++s) {
    const int64_t n = (items - s + slots - 1) / slots;  // items of slot s
    double load = static_cast<double>(n / turn) * turn_cost[static_cast<size_t>(s % g)];
    int64_t pos = s % period;
    for (int64_t k = 0; k < n % turn; ++k) {
      load += cost(pos);
      pos += step;
      if (pos >= period) pos -= period;
    }
    makespan = std::max(makespan, load);
  }
  return makespan;
}

Unit primary_unit(const Op& op, double active_chip) {
  Unit best = Unit::kTensor;
  double c = -1.0;
  for (const auto& u : op.uses) {
    const double rate = unit_is_chip_wide(u.unit) ? u.rate_per_clk / std::max(1.0, active_chip) : u.rate_per_clk;
    if (u.work / rate > c) {
      c = u.work / rate;
      best = u.unit;
    }
  }
  return best;
}

}  // namespace

CycleBound dependency_bound(const std::vector<Op>& loop, const std::vector<double>& occ) {
  CycleBound b;
  const CycleSet* set = loop_cycles(loop);
  if (set == nullptr) {
    b.cycles_per_iter = power_iteration_bound(loop, occ);
    return b;
  }
  // Edge weight by (predecessor, kind): issue = 0, after = occupancy, done = occupancy + latency.
  thread_local std::vector<double> w;
  w.assign(3 * loop.size(), 0.0);
  for (size_t u = 0; u < loop.size(); ++u) {
    w[3 * u + static_cast<int>(DepKind::kAfter)] = occ[u];
    w[3 * u + static_cast<int>(DepKind::kDone)] = occ[u] + loop[u].latency_cycles;
  }
  int best = -1;
  const size_t count = set->distance.size();
  for (size_t i = 0; i < count; ++i) {
    double sum = 0.0;
    for (int e = set->offsets[i]; e < set->offsets[i + 1]; ++e) sum += w[set->flat[e]];
    const double ratio = sum / set->distance[i];
    if (ratio > b.cycles_per_iter) {
      b.cycles_per_iter = ratio;
      best = static_cast<int>(i);
    }
  }
  if (best >= 0) {
    b.binding = set->cycles[best];
    b.distance = set->distance[best];
  }
  return b;
}

// --- the energy bound ---------------------------------------------------------------------
// A power-capped card cannot run a kernel faster than the kernel's energy over the power its
// limit leaves above idle: run back to back for longer than the limiter's reaction time, a
// kernel that would draw more is slowed until it draws the limit (measured: the traces of
// kernels/common/sustain_trace.hpp). The kernel's energy is its work on each unit times the
// unit's energy per unit of work (model constants, fitted on those traces), plus its post
// pass's HBM traffic (split-K reduce, split-KV combine: launched with it, traced with it);
// per launch it does not depend on the clock (the board's power rose in proportion to the
// clock, not faster, across the traces' rested and limited phases).
double energy_bound_time_us(const ChipTerms& k, double energy_j, double busy_us, double time_us, double gap_us,
                            double gap_energy_j) {
  if (!k.power_known) return time_us;
  // Launches separated by gaps: the limiter holds the average power of a launch and its gap.
  const double bound_us = (energy_j + gap_energy_j) / (k.power_limit_w - k.power_idle_w) * 1e6 - gap_us;
  return bound_us > busy_us ? time_us + (bound_us - busy_us) : time_us;
}

namespace {
// busy_us: the kernel and its post pass; the launch overhead draws nothing above idle.
void sustained(const ChipTerms& k, const double (&work)[kUnitCount], double post_hbm_bytes, double kernel_us,
               double post_us, double f_mhz, double time_us, Prediction& out) {
  out.energy_j = post_hbm_bytes * k.energy_j_per_work[static_cast<int>(Unit::kHbm)];
  for (int u = 0; u < kUnitCount; ++u) out.energy_j += work[u] * k.energy_j_per_work[u];
  out.power_known = k.power_known;
  const double busy_us = kernel_us + post_us;
  out.power_w = k.power_known && busy_us > 0.0 ? k.power_idle_w + out.energy_j / (busy_us * 1e-6) : 0.0;
  out.sustained_time_us = energy_bound_time_us(k, out.energy_j, busy_us, time_us, 0.0, 0.0);
  // The stretch is the SMs' clock: the post pass's share of it is small and left unscaled.
  out.sustained_clock_mhz = stretched_clock_mhz(f_mhz, kernel_us, out.sustained_time_us - time_us);
}
}  // namespace

void evaluate(const ScheduleDesc& d, Prediction& out, bool detailed) {
  const ChipTerms& k = d.chip;
  const Grid& grid = d.grid;
  const int64_t items = grid.total_items();
  const int64_t slots = grid.resident_ctas();
  const double active_chip = std::max(1.0, static_cast<double>(std::min(items, slots)) * grid.streaming_fraction());
  const int share_sm = grid.ctas_sharing_an_sm();
  const double clock_mhz = k.clock_mhz;

  // --- steady-state iteration ---------------------------------------------------------
  double unit_iter[kUnitCount] = {};
  thread_local std::vector<double> occ, done0;  // reused across calls (tune's hot path)
  occ.assign(d.loop.size(), 0.0);
  for (size_t v = 0; v < d.loop.size(); ++v) {
    occ[v] = local_occupancy(d.loop[v]);
    for (const auto& u : d.loop[v].uses) {
      const double rate = unit_is_chip_wide(u.unit) ? u.rate_per_clk / active_chip : u.rate_per_clk;
      unit_iter[static_cast<int>(u.unit)] += u.work / rate;
    }
  }
  double resource = 0.0, resource_local = 0.0;
  Unit resource_unit = Unit::kTensor;
  for (int u = 0; u < kUnitCount; ++u) {
    const bool chip = unit_is_chip_wide(static_cast<Unit>(u));
    const double c = chip ? unit_iter[u] : share_sm * unit_iter[u];
    if (!chip) resource_local = std::max(resource_local, c);
    if (c > resource) {
      resource = c;
      resource_unit = static_cast<Unit>(u);
    }
  }
  const CycleBound cyc = dependency_bound(d.loop, occ);
  const double dep_bound = cyc.cycles_per_iter + k.iteration_overhead_cycles;
  // Steady state with every slot streaming (reported), and without the chip-wide units'
  // share (used for the grid): L2/HBM throughput is charged as a fluid over the whole
  // kernel (the unit bounds below), so a partial last wave, whose CTAs share the chip's
  // bandwidth among fewer, is not charged the full wave's per-CTA share.
  const double T = std::max(resource, dep_bound);
  const double T_local = std::max(resource_local, dep_bound);

  // First iteration alone (pipeline fill): longest distance-0 path.
  done0.assign(d.loop.size(), 0.0);
  double first = 0.0;
  for (size_t v = 0; v < d.loop.size(); ++v) {
    double start = 0.0;
    for (const auto& dep : d.loop[v].deps) {
      if (dep.distance != 0) continue;
      const Op& u = d.loop[dep.op];
      start = std::max(start, done0[dep.op] - u.latency_cycles - occ[dep.op] + edge_weight(u, dep.kind, occ[dep.op]));
    }
    done0[v] = start + occ[v] + d.loop[v].latency_cycles;
    first = std::max(first, done0[v]);
  }
  const double fill = std::max(0.0, first - T_local);
  const double pro = phase_cycles(d.prologue, active_chip, share_sm);
  const double epi = phase_cycles(d.epilogue, active_chip, share_sm);

  // --- grid ----------------------------------------------------------------------------
  const bool persistent = grid.scheduler != Scheduler::kPlain;
  double hidden = 0.0;
  if (persistent && d.prologue_overlaps_previous) hidden += pro + fill;
  if (persistent && d.epilogue_overlaps_next) hidden += epi;
  // An item's slot time with its main loop at `iter` cycles per iteration (its first
  // iteration's latency beyond that pace is the fill, hidden with the prologue where the
  // grid overlaps them with the previous item).
  auto item_cycles_with = [&](const WorkClass& c, double iter, double item_pro, double item_epi) {
    const double fill_at = c.iterations > 0 ? std::max(0.0, first - iter) : 0.0;
    double t = k.item_setup_cycles + item_pro + item_epi;
    if (c.iterations > 0) t += fill_at + static_cast<double>(c.iterations) * iter;
    if (!persistent) return t + k.cta_launch_cycles;
    double hid = 0.0;
    if (d.prologue_overlaps_previous) hid += item_pro + fill_at;
    if (d.epilogue_overlaps_next) hid += item_epi;
    return std::max(t - hid, 1.0);
  };
  auto item_cycles = [&](const WorkClass& c, double iter) { return item_cycles_with(c, iter, pro, epi); };
  thread_local std::vector<std::pair<double, int64_t>> durations;
  thread_local std::vector<double> class_cycles;
  thread_local std::vector<int> class_order;  // the order the scheduler hands classes out
  class_cycles.clear();
  class_order.clear();
  double busy_slot_cycles = 0.0;
  for (size_t i = 0; i < grid.classes.size(); ++i) {
    const double t = item_cycles(grid.classes[i], T_local);
    class_cycles.push_back(t);
    class_order.push_back(static_cast<int>(i));
    busy_slot_cycles += t * static_cast<double>(grid.classes[i].items);
  }
  if (grid.scheduler == Scheduler::kLongestFirst)
    std::stable_sort(class_order.begin(), class_order.end(), [&](int a, int b) {
      return class_cycles[static_cast<size_t>(a)] > class_cycles[static_cast<size_t>(b)];
    });
  durations.clear();
  for (const int i : class_order)
    durations.emplace_back(class_cycles[static_cast<size_t>(i)], grid.classes[static_cast<size_t>(i)].items);
  const double list_makespan = grid.scheduler == Scheduler::kStaticStride
                                   ? static_stride_schedule(durations, grid.launch_pattern, items, slots)
                                   : list_schedule(durations, slots);
  const double launch_extra = persistent ? hidden + k.cta_launch_cycles : 0.0;
  const double makespan = list_makespan + launch_extra;
  // The last, partial round of a grid larger than its slots: its few CTAs cannot drive a
  // chip-wide unit (L2, HBM, the TMA engines) at the rate the full rounds did. The
  // whole-kernel bounds below charge that unit's work as a fluid; only the full rounds'
  // share of it can be done at the full rate, and the tail round's items run after them at
  // their own pace: each CTA's iterations at max(its SM's pace, its share of the unit among
  // the tail's CTAs). A grid of one round keeps the fluid alone (its CTAs all run at once),
  // as does a static-stride grid (its slots' items are fixed by launch order).
  const int64_t tail_items = items % slots;
  const bool has_tail = items > slots && tail_items > 0 && grid.scheduler != Scheduler::kStaticStride;
  // The tail round's items (the last tail_items in the scheduler's order): its longest item,
  // which ends the tail when the SMs' own pace binds (an item's time grows with its
  // iterations), and its share of the loop's iterations, the share of the unit's work left
  // to the tail when the unit binds (the items need not be equal: causal attention's are not).
  const WorkClass* tail_longest = nullptr;
  double tail_iterations = 0.0, all_iterations = 0.0;
  if (has_tail) {
    int64_t started = 0;
    for (const int i : class_order) {
      const WorkClass& c = grid.classes[static_cast<size_t>(i)];
      const int64_t in_tail = std::clamp<int64_t>(started + c.items - (items - tail_items), 0, c.items);
      if (in_tail > 0 && (tail_longest == nullptr || c.iterations > tail_longest->iterations)) tail_longest = &c;
      tail_iterations += static_cast<double>(in_tail) * static_cast<double>(c.iterations);
      all_iterations += static_cast<double>(c.items) * static_cast<double>(c.iterations);
      started += c.items;
    }
  }
  const double full_share = has_tail && all_iterations > 0.0 ? 1.0 - tail_iterations / all_iterations : 1.0;
  // The tail's longest item at its SM's own pace (a persistent slot's tail item follows its
  // previous one); the unit's share of the tail is added where the unit's bound is known.
  // Its prologue and epilogue share the chip-wide units with the tail's CTAs only, and an op
  // whose latency grows with the CTAs streaming (latency_per_streaming_cta) waits as for them.
  double tail_sm_paced = 0.0;
  if (tail_longest != nullptr) {
    const double tail_active = std::max(1.0, static_cast<double>(tail_items) * grid.streaming_fraction());
    double tail_T_local = T_local;
    const bool streaming_latency = std::any_of(d.loop.begin(), d.loop.end(), [](const Op& o) {
      return o.latency_per_streaming_cta > 0.0 && o.latency_streaming_ctas > 0.0;
    });
    if (streaming_latency) {
      thread_local std::vector<Op> tail_loop;
      tail_loop = d.loop;
      for (Op& o : tail_loop)
        o.latency_cycles -= o.latency_per_streaming_cta * std::max(0.0, o.latency_streaming_ctas - tail_active);
      tail_T_local = std::max(resource_local, dependency_bound(tail_loop, occ).cycles_per_iter + k.iteration_overhead_cycles);
    }
    tail_sm_paced = item_cycles_with(*tail_longest, tail_T_local, phase_cycles(d.prologue, tail_active, share_sm),
                                     phase_cycles(d.epilogue, tail_active, share_sm));
  }

  // --- whole-kernel unit bounds ----------------------------------------------------------
  double busy[kUnitCount] = {};  // SM units: summed over SMs; chip units: whole chip
  double work[kUnitCount] = {};
  double peak[kUnitCount] = {};  // per clk (per SM for SM units)
  double items_total = 0.0, iterations_total = 0.0;
  for (const auto& c : grid.classes) {
    items_total += static_cast<double>(c.items);
    iterations_total += static_cast<double>(c.items) * static_cast<double>(c.iterations);
  }
  const double streaming = grid.streaming_fraction();
  auto add_ops = [&](const std::vector<Op>& ops, double times_all) {
    for (const auto& op : ops)
      for (const auto& u : op.uses) {
        const int i = static_cast<int>(u.unit);
        // Chip-wide traffic comes from the streaming items only (Grid::streaming_share).
        const double times = unit_is_chip_wide(u.unit) ? times_all * streaming : times_all;
        busy[i] += times * u.work / u.rate_per_clk;
        work[i] += times * u.work;
        peak[i] = std::max(peak[i], u.rate_per_clk);
      }
  };
  add_ops(d.loop, iterations_total);
  add_ops(d.prologue, items_total);
  add_ops(d.epilogue, items_total);
  const double clock_hz = clock_mhz * 1e6;
  const int l2i = static_cast<int>(Unit::kL2), hbmi = static_cast<int>(Unit::kHbm);
  const double l2_rate = k.l2_bytes_per_s / clock_hz;
  const double hbm_rate = k.hbm_bytes_per_s / clock_hz;
  if (d.total_l2_bytes > work[l2i]) {
    busy[l2i] += (d.total_l2_bytes - work[l2i]) / l2_rate;
    work[l2i] = d.total_l2_bytes;
  }
  if (d.total_hbm_bytes > work[hbmi]) {
    busy[hbmi] += (d.total_hbm_bytes - work[hbmi]) / hbm_rate;
    work[hbmi] = d.total_hbm_bytes;
  }
  // Dirty lines the L2 held at the start are written back as the kernel's own traffic
  // evicts them: a share of them proportional to the bytes it moves, all of them once it has
  // moved l2_dirty_evict_bytes. They share the HBM with its stream (a compute-bound kernel
  // hides them in HBM time it leaves idle).
  const double writeback_bytes =
      k.l2_dirty_bytes_at_start > 0.0 && work[hbmi] > 0.0
          ? k.l2_dirty_bytes_at_start * std::min(1.0, work[hbmi] / k.l2_dirty_evict_bytes)
          : 0.0;
  busy[hbmi] += writeback_bytes / hbm_rate;
  work[hbmi] += writeback_bytes;
  double bound[kUnitCount] = {};  // cycles; chip-wide ones counted at the IR's clock first
  for (int u = 0; u < kUnitCount; ++u)
    bound[u] = unit_is_chip_wide(static_cast<Unit>(u)) ? busy[u] : busy[u] / grid.sm_count;
  // An HBM stream cannot start before its first request returns, and the kernel ends only
  // when its last stores have reached memory: the HBM bound carries one DRAM latency (the
  // profile's pointer chase) at each end. Where an item's own phases are longer, they are the
  // ends instead: the first items' prologue runs before their stream's first loads are issued
  // (decode's dependent Q trips), the last item's epilogue after its last bytes arrived (the
  // warps' merge, the output pass). Those are SM cycles (hbm_ends_sm), added at the clock the
  // kernel settles on. A loop-bound kernel hides all of them in its makespan.
  double hbm_ends_sm = 0.0;
  if (work[hbmi] > 0.0) {
    bound[hbmi] += 2.0 * k.hbm_latency_cycles;
    hbm_ends_sm = std::max(0.0, pro - k.hbm_latency_cycles) + std::max(0.0, epi - k.hbm_latency_cycles);
  }

  // --- the clock -------------------------------------------------------------------------
  // SM work is counted in cycles, chip-wide traffic in seconds (HBM and L2 do not run at
  // the SM clock). The clock follows the tensor pipe's busy share, which depends on the
  // time, which depends on the clock: a fixed point. The map clock -> share -> clock does
  // not decrease (a faster clock can only lower the share), so the steps from the maximum
  // clock fall monotonically onto the largest fixed point.
  // The busiest chip-wide unit (every chip-wide bound scales alike with the clock) and the
  // bound of its full rounds followed by the partial last round.
  Unit chip_unit = Unit::kL2;
  for (int u = 0; u < kUnitCount; ++u)
    if (unit_is_chip_wide(static_cast<Unit>(u)) && bound[u] > bound[static_cast<int>(chip_unit)])
      chip_unit = static_cast<Unit>(u);
  // The full rounds' share of that unit's work, in SM cycles at clock f_mhz. HBM's write-back
  // of the dirty lines found at the start falls in them whole: the first bytes moved evict them.
  const double writeback_cycles = chip_unit == Unit::kHbm ? writeback_bytes / hbm_rate : 0.0;
  auto full_rounds_at = [&](double f_mhz) {
    return ((bound[static_cast<int>(chip_unit)] - writeback_cycles) * full_share + writeback_cycles) * f_mhz /
           clock_mhz;
  };
  // The tail ends when its longest item does at the SMs' pace or when the unit has done the
  // tail's share of its work, whichever is later.
  auto tail_bound_at = [&](double f_mhz) {
    if (tail_longest == nullptr) return full_rounds_at(f_mhz);
    const double unit_paced = (bound[static_cast<int>(chip_unit)] - writeback_cycles) * (1.0 - full_share) * f_mhz / clock_mhz;
    return full_rounds_at(f_mhz) + std::max(tail_sm_paced, unit_paced);
  };
  // A unit's whole-kernel bound in SM cycles at clock f_mhz (chip-wide ones rescaled, HBM's
  // with its SM-cycle ends).
  auto bound_at = [&](int u, double f_mhz) {
    if (!unit_is_chip_wide(static_cast<Unit>(u))) return bound[u];
    return bound[u] * f_mhz / clock_mhz + (u == hbmi ? hbm_ends_sm : 0.0);
  };
  auto kernel_cycles_at = [&](double f_mhz) {
    double m = std::max(makespan, tail_bound_at(f_mhz));
    for (int u = 0; u < kUnitCount; ++u) m = std::max(m, bound_at(u, f_mhz));
    return m;
  };
  const int tensor_i = static_cast<int>(Unit::kTensor);
  double f_mhz = clock_at(k.clock, 0.0);
  constexpr int kClockIterations = 16;
  for (int it = 0; k.clock.dvfs && it < kClockIterations; ++it) {
    const double next = clock_at(k.clock, bound[tensor_i] / kernel_cycles_at(f_mhz));
    const bool settled = next == f_mhz;
    f_mhz = next;
    if (settled) break;  // most kernels settle in a few steps (tune's hot path)
  }
  const double tail_bound = tail_bound_at(f_mhz);  // before the chip-wide bounds take the clock
  // The full rounds' part of it, without the HBM stream's ends (the partial last round's items
  // carry their own prologue and epilogue).
  const double full_rounds = full_rounds_at(f_mhz);
  for (int u = 0; u < kUnitCount; ++u) bound[u] = bound_at(u, f_mhz);
  peak[l2i] = k.l2_peak_bytes_per_s / (f_mhz * 1e6);
  peak[hbmi] = k.hbm_peak_bytes_per_s / (f_mhz * 1e6);
  double max_bound = 0.0;
  Unit bound_unit = Unit::kTensor;
  for (int u = 0; u < kUnitCount; ++u)
    if (bound[u] > max_bound) {
      max_bound = bound[u];
      bound_unit = static_cast<Unit>(u);
    }
  const double kernel_cycles = std::max({makespan, max_bound, tail_bound});
  const double post_us = d.post.time_us(k.hbm_bytes_per_s);
  const double time_us = kernel_cycles / f_mhz + k.launch_us + post_us;

  // Bounded profiles and constants keep these finite; a number that is not is an error,
  // never printed (JSON has no infinity, and 0 would rank first).
  if (!std::isfinite(time_us) || !(time_us > 0.0) || !std::isfinite(d.useful_flops / time_us))
    throw ModelError(d.schedule + ": predicted time is not a finite positive number (" + fx(time_us, 3) +
                     " us from " + fx(kernel_cycles, 0) + " cycles at " + fx(f_mhz, 1) +
                     " MHz): a profile rate or model constant is out of range");

  // --- outputs --------------------------------------------------------------------------
  out.time_us = time_us;
  out.clock_mhz = f_mhz;
  if (detailed) out.clock_model = describe(k.clock);  // text: not on tune's hot path
  out.makespan_us = kernel_cycles / f_mhz;
  out.launch_us = k.launch_us;
  out.makespan_cycles = makespan;
  out.prologue_cycles = pro;
  out.fill_cycles = fill;
  out.epilogue_cycles = epi;
  out.hidden_cycles = hidden;
  out.share_sm = share_sm;
  out.active_ctas = active_chip;
  out.post_us = post_us;
  out.tflops = d.useful_flops / (time_us * 1e-6) / 1e12;
  sustained(k, work, d.post.hbm_bytes, kernel_cycles / f_mhz, post_us, f_mhz, time_us, out);
  out.bytes_hbm = work[hbmi] + d.post.hbm_bytes;
  out.l2_writeback_bytes = writeback_bytes;
  out.bytes_l2 = work[l2i];
  out.hbm_gbps = out.bytes_hbm / (time_us * 1e-6) / 1e9;
  out.iteration_cycles = T;
  out.resource_bound_cycles = resource;
  out.dependency_bound_cycles = dep_bound;
  out.ctas_per_sm = grid.ctas_per_sm;
  out.occupancy_limit = grid.occupancy_limit;
  out.work_items = items;
  out.waves = static_cast<double>(items) / static_cast<double>(slots);
  out.tail_efficiency = list_makespan > 0.0 ? busy_slot_cycles / (static_cast<double>(slots) * list_makespan) : 1.0;
  out.units.clear();
  out.units.reserve(kUnitCount);
  const double total_cycles = time_us * f_mhz;
  // SM-cycles with a CTA resident. Persistent grids: the SMs that got a CTA, for the whole
  // kernel. Plain grids: the items' slot time, shared by the CTAs co-resident on an SM and
  // stretched as the whole kernel is when a chip-wide unit outlasts the list schedule; at
  // most every SM throughout.
  const double all_sm_cycles = static_cast<double>(grid.sm_count) * kernel_cycles;
  double sm_active_cycles = all_sm_cycles;
  if (persistent) {
    const int64_t resident = std::min(items, slots);
    const int64_t sms = std::min<int64_t>(grid.sm_count, ceil_div(resident, std::max(1, grid.ctas_per_sm)));
    sm_active_cycles = static_cast<double>(sms) * kernel_cycles;
  } else if (makespan > 0.0) {
    sm_active_cycles = std::min(all_sm_cycles, busy_slot_cycles / share_sm * kernel_cycles / makespan);
  }
  for (int u = 0; u < kUnitCount; ++u) {
    if (work[u] <= 0.0) continue;
    UnitResult r;
    r.unit = static_cast<Unit>(u);
    r.cycles_per_iter = unit_iter[u];
    r.work_total = work[u];
    r.bound_us = bound[u] / f_mhz;
    const double cap = peak[u] * (unit_is_chip_wide(r.unit) ? 1.0 : grid.sm_count) * total_cycles;
    r.utilization = cap > 0.0 ? std::min(1.0, work[u] / cap) : 0.0;
    const double cap_active = peak[u] * sm_active_cycles;
    r.utilization_active = unit_is_chip_wide(r.unit) ? r.utilization
                           : cap_active > 0.0      ? std::min(1.0, work[u] / cap_active)
                                                   : 0.0;
    out.units.push_back(r);
  }
  // binding cycle text
  out.binding_cycle.clear();
  if (detailed && !cyc.binding.empty()) {
    for (const auto& [v, j] : cyc.binding) out.binding_cycle += d.loop[d.loop[v].deps[j].op].name + " -> ";
    out.binding_cycle += d.loop[cyc.binding.back().first].name + " (" + std::to_string(cyc.distance) + " iter)";
  }

  // --- bottleneck and why (formatted without printf: predict's hot path) ----------
  const double work_us = kernel_cycles / f_mhz;
  std::string why;
  if (k.launch_us + post_us > work_us) {
    out.bound_kind = "launch";
    out.bottleneck = "launch";
    if (detailed)
      why = "launch-bound: " + fx(k.launch_us + post_us, 1) + " us of launch/combine overhead vs " + fx(work_us, 2) +
            " us of kernel work";
  } else if (tail_bound > std::max(max_bound, makespan)) {
    out.bottleneck = unit_name(chip_unit);
    out.bound_kind = "memory";
    if (detailed)
      why = std::string(unit_name(chip_unit)) + "-bound in the full rounds (" + fx(100.0 * full_share, 0) +
            "% of its work at the achievable rate: " + fx(full_rounds / f_mhz, 2) + " us), then the last round's " +
            fx(static_cast<double>(tail_items), 0) + " items at their own pace (" +
            fx((tail_bound - full_rounds) / f_mhz, 2) + " us) > " + fx(makespan / f_mhz, 2) +
            " us of scheduled SM time";
  } else if (max_bound >= makespan) {
    out.bottleneck = unit_name(bound_unit);
    out.bound_kind = unit_is_chip_wide(bound_unit) ? "memory" : "throughput";
    if (detailed)
      why = std::string(unit_name(bound_unit)) + "-bound over the whole kernel: " +
            fx(work[static_cast<int>(bound_unit)], 0) + " " + unit_currency(bound_unit) + " at the achievable rate take " +
            fx(bound[static_cast<int>(bound_unit)] / f_mhz, 2) + " us >= " + fx(makespan / f_mhz, 2) +
            " us of scheduled SM time";
  } else if (resource * kDependencyMargin >= dep_bound) {
    out.bottleneck = unit_name(resource_unit);
    out.bound_kind = "throughput";
    double second = 0.0;
    Unit second_unit = resource_unit;
    for (int u = 0; u < kUnitCount; ++u) {
      const double c = unit_is_chip_wide(static_cast<Unit>(u)) ? unit_iter[u] : share_sm * unit_iter[u];
      if (static_cast<Unit>(u) != resource_unit && c > second) {
        second = c;
        second_unit = static_cast<Unit>(u);
      }
    }
    if (detailed)
      why = std::string(unit_name(resource_unit)) + "-bound: " + fx(resource, 0) + " cycles/iter on " +
            unit_name(resource_unit) + " (x" + fx(share_sm, 0) + " CTAs/SM) vs " + fx(second, 0) + " on " +
            unit_name(second_unit) + ", dependency chain " + fx(dep_bound, 0) + "; " + fx(out.waves, 2) +
            " waves, tail efficiency " + fx(100.0 * out.tail_efficiency, 0) + "%";
  } else {
    // Attribute the binding cycle's weight to the ops' main units.
    double share[kUnitCount] = {};
    for (const auto& [v, j] : cyc.binding) {
      const Dep& dep = d.loop[v].deps[j];
      const Op& u = d.loop[dep.op];
      share[static_cast<int>(primary_unit(u, active_chip))] += edge_weight(u, dep.kind, occ[dep.op]);
    }
    int best = 0;
    for (int u = 1; u < kUnitCount; ++u)
      if (share[u] > share[best]) best = u;
    out.bottleneck = cyc.binding.empty() ? unit_name(resource_unit) : unit_name(static_cast<Unit>(best));
    out.bound_kind = "dependency";
    if (detailed)
      why = "dependency-bound: chain " + out.binding_cycle + " costs " + fx(dep_bound, 0) +
            " cycles/iter (incl. latency) > busiest unit " + unit_name(resource_unit) + " " + fx(resource, 0) +
            "; more overlap or stages would help";
  }
  if (detailed && out.tail_efficiency < 0.75 && out.bound_kind != "launch")
    why += "; tail: " + fx(out.waves, 2) + " waves use " + fx(100.0 * out.tail_efficiency, 0) + "% of the SM slots";
  out.why = std::move(why);
}

}  // namespace tilesim::model::detail

namespace tilesim::model {

double loop_dependency_bound(const std::vector<Op>& loop, double resident_ctas_chip, std::string* binding) {
  for (size_t v = 0; v < loop.size(); ++v)
    for (const auto& dep : loop[v].deps)
      if (dep.op < 0 || dep.op >= static_cast<int>(loop.size()) || dep.distance < 0 ||
          (dep.distance == 0 && dep.op >= static_cast<int>(v)))
        throw ModelError("loop_dependency_bound: op " + loop[v].name + " has a bad dependency");
  std::vector<double> occ(loop.size());
  for (size_t v = 0; v < loop.size(); ++v) occ[v] = op_occupancy_cycles(loop[v], resident_ctas_chip);
  const detail::CycleBound b = detail::dependency_bound(loop, occ);
  if (binding) {
    binding->clear();
    for (const auto& [v, j] : b.binding) *binding += loop[loop[v].deps[j].op].name + " -> ";
    if (!b.binding.empty()) *binding += loop[b.binding.back().first].name;
  }
  return b.cycles_per_iter;
}

Prediction predict(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                   const ModelConstants& k, bool detailed) {
  Prediction out;
  out.gpu = p.id;
  out.schedule = schedule;
  out.problem = prob;
  validate(prob);
  const auto& spec = schedule_spec(schedule);
  if (spec.kind != prob.kind)
    throw ModelError("schedule " + schedule + " is for " + problem_kind_name(spec.kind) + " problems, not " +
                     problem_kind_name(prob.kind));
  out.tile = complete_tile(schedule, tile, &out.defaulted);
  const std::string why = chip_support(p, spec);
  if (!why.empty()) throw ModelError(why);
  out.desc = detail::build_checked(p, prob, spec, out.tile, k, detailed);
  detail::evaluate(out.desc, out, true);
  return out;
}

Prediction predict(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                   const ModelConstants& k) {
  return predict(p, prob, schedule, tile, k, false);
}

double stretched_clock_mhz(double clock_mhz, double kernel_us, double extra_us) {
  return kernel_us > 0.0 ? clock_mhz * kernel_us / (kernel_us + extra_us) : clock_mhz;
}

double power_limited_time_us(const Prediction& pr, double gap_us, double gap_energy_j) {
  return detail::energy_bound_time_us(pr.desc.chip, pr.energy_j, pr.makespan_us + pr.post_us, pr.time_us, gap_us,
                                      gap_energy_j);
}

}  // namespace tilesim::model
