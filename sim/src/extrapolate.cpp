// The periodic steady state: reduced grids simulated whole, the full grid extrapolated
// (extrapolate.hpp states the method and the error bound).
#include "extrapolate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

namespace tilesim::sim::detail {

namespace {

// Four points per axis: three increments, whose spread bounds the error. Three points (two
// increments) missed a slow drift: a 4k x 4k x 16k GEMM's increments at 16, 32 and 48
// iterations agreed within 0.1 % while the whole run's averaged 0.5 % more; the fourth shows it.
constexpr int kPoints = 4;
// An iteration window spans at least this many iterations, so that one window of
// warm-up covers the pipeline's fill (ring depth plus a few iterations of latency).
constexpr int64_t kMinIterationWindow = 16;
// A window longer than this is not worth its cost: the pipeline's period (lcm of its ring
// depths and distances) is then approximated by this window, and the bound says how well.
constexpr int64_t kMaxIterationWindow = 64;
// Whole waves of a many-class grid (lcm of CTA slots and items per unit) are used when
// they cost at most this many plain waves; beyond it one plain wave is the window.
constexpr int64_t kMaxWholeWaveFactor = 4;
// Representative SMs of a one-class grid: SMs with k and with k + 1 items per slot.
constexpr double kOneClassGroups = 2.0;

// The iteration window; negative when it is not a whole number of pipeline periods.
int64_t iteration_window(const model::ScheduleDesc& d) {
  int64_t w = 2;  // ping-pong consumers alternate iterations
  for (const auto& r : d.rings)
    if (r.stages > 0) w = std::lcm(w, static_cast<int64_t>(r.stages));
  for (const auto& op : d.loop)
    for (const auto& dep : op.deps)
      if (dep.distance > 0) w = std::lcm(w, static_cast<int64_t>(dep.distance));
  if (w > kMaxIterationWindow) return -kMaxIterationWindow;  // not whole periods
  return w * ((kMinIterationWindow + w - 1) / w);
}

// The grid with every class's iterations reduced by `shift` and its items set to
// (items / divisor) x g.
model::ScheduleDesc reduced(const model::ScheduleDesc& d, int64_t shift, int64_t divisor, int64_t g) {
  model::ScheduleDesc r = d;
  for (auto& c : r.grid.classes) {
    c.iterations -= shift;
    c.items = c.items / divisor * g;
  }
  return r;
}

struct Est {
  double value = 0.0;
  double bound = 0.0;
};

// y_last + R (y_last - y_before), bound: the error of y_last, R times the error of the last
// increment and R times the largest difference of any earlier increment from it (with the
// errors those increments carry).
Est along(const Axis& a, const std::vector<Est>& y) {
  const double r = static_cast<double>(a.remaining);
  const size_t n = y.size();
  const double step = y[n - 1].value - y[n - 2].value;
  double change = 0.0, carried = 0.0;
  for (size_t k = 1; k < n; ++k) change = std::max(change, std::abs(step - (y[k].value - y[k - 1].value)));
  for (const auto& e : y) carried += 2.0 * e.bound;
  return {y[n - 1].value + r * step, y[n - 1].bound + r * ((y[n - 2].bound + y[n - 1].bound) + change + carried)};
}

// v[i][j]: iteration point i, wave point j (one point where an axis is off).
Est extrapolate(const Plan& p, const std::vector<std::vector<double>>& v) {
  std::vector<Est> per_wave;
  for (size_t j = 0; j < v[0].size(); ++j) {
    std::vector<Est> along_iterations;
    for (const auto& row : v) along_iterations.push_back({row[j], 0.0});
    per_wave.push_back(p.iterations.on ? along(p.iterations, along_iterations) : along_iterations[0]);
  }
  return p.waves.on ? along(p.waves, per_wave) : per_wave[0];
}

}  // namespace

double min_instances_per_sm(const model::ScheduleDesc& d) {
  const double per_item = static_cast<double>(d.prologue.size() + d.epilogue.size());
  double total = 0.0;
  for (const auto& c : d.grid.classes)
    total += static_cast<double>(c.items) *
             (per_item + static_cast<double>(d.loop.size()) * static_cast<double>(c.iterations));
  return total / static_cast<double>(d.grid.sm_count);
}

double whole_instances_estimate(const model::ScheduleDesc& d, const Options& o) {
  const model::Grid& g = d.grid;
  if (g.classes.size() == 1) return min_instances_per_sm(d) * kOneClassGroups;
  const double groups = std::min(g.sm_count, o.max_groups);
  const double per_item = static_cast<double>(d.prologue.size() + d.epilogue.size());
  const double share = static_cast<double>(
      std::min<int64_t>(g.ctas_per_sm, (g.total_items() + g.sm_count - 1) / g.sm_count));
  double pre = 0.0;
  for (const auto& c : g.classes)
    pre += share * (per_item + static_cast<double>(d.loop.size()) * static_cast<double>(c.iterations));
  return min_instances_per_sm(d) * groups + pre;
}

Plan plan_extrapolation(const model::ScheduleDesc& d, const Options& o) {
  Plan p;
  int64_t shortest = INT64_MAX, longest = 0, divisor = 0;
  for (const auto& c : d.grid.classes) {
    shortest = std::min(shortest, c.iterations);
    longest = std::max(longest, c.iterations);
    divisor = std::gcd(divisor, c.items);
  }
  p.shortest = shortest;
  p.item_divisor = divisor;

  // Iteration axis: the shortest class keeps a warm-up window plus its remainder.
  const int64_t signed_k = iteration_window(d);
  const int64_t k = std::abs(signed_k);
  Axis& it = p.iterations;
  it.window = k;
  it.whole_periods = signed_k > 0;
  it.start = k + shortest % k;
  if (shortest >= it.start + (kPoints - 1) * k + k) {
    it.on = true;
    it.remaining = (shortest - it.start) / k - (kPoints - 1);
  }
  const int64_t shift = it.on ? shortest - it.point(kPoints - 1) : 0;
  model::ScheduleDesc after_it = reduced(d, shift, divisor > 0 ? divisor : 1, divisor);
  const double after_iterations = whole_instances_estimate(after_it, o);

  // Wave axis, only where the iteration axis alone leaves too much to simulate.
  if (divisor > 0 && after_iterations * kPoints > static_cast<double>(o.max_full_instances)) {
    int64_t units = 0;
    for (const auto& c : d.grid.classes) units += c.items / divisor;
    const int64_t slots = static_cast<int64_t>(d.grid.sm_count) * d.grid.ctas_per_sm;
    const int64_t plain = std::max<int64_t>(1, slots / units);  // units of G per wave, about
    const int64_t whole_waves = std::lcm(slots, units) / units;
    Axis& w = p.waves;
    w.whole_periods = whole_waves <= kMaxWholeWaveFactor * plain;
    w.window = w.whole_periods ? whole_waves : plain;
    w.start = w.window + divisor % w.window;
    if (divisor >= w.start + (kPoints - 1) * w.window + w.window) {
      w.on = true;
      w.remaining = (divisor - w.start) / w.window - (kPoints - 1);
    }
  }
  const int64_t g_last = p.waves.on ? p.waves.point(kPoints - 1) : divisor;
  p.largest_instances = whole_instances_estimate(reduced(d, shift, divisor > 0 ? divisor : 1, g_last), o);

  char buf[512];
  if (!it.on && !p.waves.on) {
    std::snprintf(buf, sizeof buf,
                  "no steady state to extrapolate: the shortest work class has %lld iteration(s) "
                  "(longest %lld; a periodic loop needs at least %lld) and the classes' item "
                  "counts share the divisor %lld (too few repeated waves)",
                  static_cast<long long>(shortest), static_cast<long long>(longest),
                  static_cast<long long>(it.start + kPoints * k), static_cast<long long>(divisor));
    p.why_not = buf;
  } else if (p.largest_instances > static_cast<double>(o.max_op_instances)) {
    std::snprintf(buf, sizeof buf,
                  "even its reduced grid needs ~%.3g op instances (iterations %lld..%lld "
                  "per item, %zu work classes)",
                  p.largest_instances, static_cast<long long>(shortest), static_cast<long long>(longest),
                  d.grid.classes.size());
    p.why_not = buf;
  }
  return p;
}

Result simulate_extrapolated(const model::ScheduleDesc& d, const Options& o, const Plan& p) {
  const int ni = p.iterations.on ? kPoints : 1;
  const int nw = p.waves.on ? kPoints : 1;
  const int64_t divisor = std::max<int64_t>(1, p.item_divisor);
  std::vector<std::vector<Result>> runs(static_cast<size_t>(ni));
  int64_t events = 0, instances = 0;
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nw; ++j) {
      const int64_t shift = p.iterations.on ? p.shortest - p.iterations.point(i) : 0;
      const int64_t g = p.waves.on ? p.waves.point(j) : p.item_divisor;
      Options ro = o;
      ro.record_trace = o.record_trace && i == ni - 1 && j == nw - 1;  // the largest reduced grid
      runs[static_cast<size_t>(i)].push_back(simulate_whole(reduced(d, shift, divisor, g), ro));
      events += runs[static_cast<size_t>(i)].back().events;
      instances += runs[static_cast<size_t>(i)].back().op_instances;
    }
  auto grid_of = [&](auto get) {
    std::vector<std::vector<double>> v(static_cast<size_t>(ni));
    for (int i = 0; i < ni; ++i)
      for (int j = 0; j < nw; ++j) v[static_cast<size_t>(i)].push_back(get(runs[static_cast<size_t>(i)][static_cast<size_t>(j)]));
    return v;
  };

  // The largest reduced grid carries what is not extrapolated (stalls, groups, trace);
  // copied, since the extrapolation below still reads every run.
  Result r = runs.back().back();
  const Est kernel = extrapolate(p, grid_of([](const Result& x) { return x.kernel_cycles; }));
  r.kernel_cycles = kernel.value;
  r.kernel_us = kernel.value / d.chip.clock_mhz;
  r.total_us = r.kernel_us + r.launch_us + r.post_us;
  double phase = 0.0;  // one period more where a window is not whole periods
  if (p.waves.on && !p.waves.whole_periods)
    for (const auto& row : runs)
      for (const auto& x : row) phase = std::max(phase, x.first_item_cycles);
  if (p.iterations.on && !p.iterations.whole_periods) {
    const auto& last = runs[static_cast<size_t>(ni - 1)].back();
    const auto& before = runs[static_cast<size_t>(ni - 2)].back();
    phase += std::abs(last.first_item_cycles - before.first_item_cycles);
  }
  r.error_bound_us = (kernel.bound + phase) / d.chip.clock_mhz;
  if (p.iterations.on) {  // the longest item grows with the iterations only
    const size_t j = static_cast<size_t>(nw - 1);
    std::vector<Est> first_items;
    for (const auto& row : runs) first_items.push_back({row[j].first_item_cycles, 0.0});
    r.first_item_cycles = along(p.iterations, first_items).value;
  }
  for (auto& u : r.units) {
    auto pick = [&](const Result& x, bool busy) {
      for (const auto& v : x.units)
        if (v.unit == u.unit) return busy ? v.busy_cycles : v.work;
      return 0.0;
    };
    u.work = extrapolate(p, grid_of([&](const Result& x) { return pick(x, false); })).value;
    u.busy_cycles = extrapolate(p, grid_of([&](const Result& x) { return pick(x, true); })).value;
    const double span = model::unit_is_chip_wide(u.unit) ? r.kernel_cycles
                                                          : d.grid.sm_count * r.kernel_cycles;
    u.busy_fraction = span > 0.0 ? u.busy_cycles / span : 0.0;
  }
  r.work_items = d.grid.total_items();
  r.events = events;
  r.op_instances = instances;
  r.simulations = ni * nw;
  r.extrapolated = true;
  r.options = o;

  std::string how = "periodic steady state, extrapolated from " + std::to_string(ni * nw) +
                    " reduced grids simulated whole:";
  auto points = [](const Axis& a) {
    std::string t;
    for (int k = 0; k < kPoints; ++k) t += (k ? ", " : "") + std::to_string(a.point(k));
    return t;
  };
  if (p.iterations.on)
    how += " shortest item " + points(p.iterations) + " iterations of " + std::to_string(p.shortest) + " (window " +
           std::to_string(p.iterations.window) + ")";
  if (p.waves.on)
    how += std::string(p.iterations.on ? ";" : "") + " " + points(p.waves) + " of " + std::to_string(p.item_divisor) +
           " item groups (window " + std::to_string(p.waves.window) + ")";
  r.extrapolation = how;
  return r;
}

}  // namespace tilesim::sim::detail
