// Model vs hardware counters (see validate_ncu.hpp).
#include "validate_ncu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "tilesim/input_file.hpp"
#include "validate_heldout.hpp"

namespace tilesim::validate {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The clock the profiled kernel ran at (ncu: the GPC clock, Hz) and its elapsed cycles.
constexpr const char* kClockCounter = "gpc__cycles_elapsed.avg.per_second";
constexpr const char* kCyclesCounter = "gpc__cycles_elapsed.avg";
// Within this many percentage points a predicted utilization is "right" (the target).
constexpr double kUtilTolerancePoints = 10.0;

}  // namespace

const std::vector<CounterPair>& counter_pairs() {
  static const std::vector<CounterPair> p = {
      {"tensor", "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active"},
      {"mufu", "sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active"},
      {"issue", "sm__issue_active.avg.pct_of_peak_sustained_elapsed"},
  };
  return p;
}

namespace {
// The profiled runs of one ncu file as runs the model can predict: the kernel ncu timed
// (its elapsed cycles at its clock) with the run's gpu, schedule, tile and problem.
void load_profiled(const fs::path& path, const HeldOutList& heldout, const std::string& family,
                   std::vector<MeasuredRun>& runs, std::vector<json>& metrics, UnmatchedRuns* skipped) {
  json doc;
  try {
    doc = parse_json_strict(read_input_file(path.string()), path.string());
  } catch (const InputFileError& e) {
    throw std::runtime_error(e.what());
  }
  if (doc.value("schema", "") != "tilesim.ncu.v1")
    throw std::runtime_error(path.string() + ": schema is not 'tilesim.ncu.v1'");
  if (!doc.contains("device") || !doc["device"].is_object() || !doc["device"].contains("name") ||
      !doc.contains("runs") || !doc["runs"].is_array())
    throw std::runtime_error(path.string() + ": needs device.name and a runs array");
  const std::string device = doc["device"]["name"].get<std::string>();
  // ncu flushes (writes back and invalidates) every cache before each profiled launch unless
  // told --cache-control none: the kernel starts from a clean L2.
  const json* tool = doc.contains("tool") && doc["tool"].is_object() ? &doc["tool"] : nullptr;
  const std::string options = tool != nullptr && tool->contains("options") && (*tool)["options"].is_string()
                                  ? (*tool)["options"].get<std::string>()
                                  : std::string();
  const bool clean_l2 = options.find("--cache-control none") == std::string::npos;
  for (size_t i = 0; i < doc["runs"].size(); ++i) {
    const json& r = doc["runs"][i];
    const std::string where = path.string() + ": runs[" + std::to_string(i) + "]";
    if (!r.contains("family") || !r["family"].is_string() || !r.contains("schedule") || !r["schedule"].is_string() ||
        !r.contains("tile") || !r["tile"].is_object() || !r.contains("problem") || !r["problem"].is_object() ||
        !r.contains("metrics") || !r["metrics"].is_object())
      throw std::runtime_error(where + ": needs family, schedule, tile, problem and metrics");
    MeasuredRun m;
    m.family = r["family"].get<std::string>();
    if (!family.empty() && m.family != family) continue;
    const json& mx = r["metrics"];
    if (!mx.contains(kClockCounter) || !mx.contains(kCyclesCounter)) {
      // a run ncu could not measure (replay failed): nothing to compare
      ++(heldout.matches(m.family, r["problem"]) ? skipped->heldout : skipped->train);
      continue;
    }
    m.device = device;
    m.gpu = gpu_id_from_device_name(device);
    m.file = path.filename().string();
    m.impl = "tilesim";
    m.schedule = r["schedule"].get<std::string>();
    m.tile = r["tile"];
    m.problem = r["problem"];
    m.shape = problem_key(m.problem);
    const double hz = mx[kClockCounter]["value"].get<double>();
    if (!(hz > 0.0)) throw std::runtime_error(where + ": " + kClockCounter + " must be positive");
    m.measured_us = mx[kCyclesCounter]["value"].get<double>() / hz * 1e6;  // ncu's kernel duration
    m.check_passed = r.value("check_passed", true);
    m.heldout = heldout.matches(m.family, m.problem);
    m.l2_clean_at_start = clean_l2;
    runs.push_back(std::move(m));
    metrics.push_back(mx);
  }
}
}  // namespace

std::vector<CounterComparison> compare_counters(const std::string& data_dir, const model::ModelConstants& constants,
                                                const std::string& family, UnmatchedRuns* unmatched) {
  std::vector<CounterComparison> out;
  UnmatchedRuns missing;
  const fs::path dir = fs::path(data_dir) / "measurements" / "ncu";
  if (!fs::is_directory(dir)) {
    if (unmatched) *unmatched = missing;
    return out;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  const HeldOutList heldout = load_heldout(data_dir);
  std::vector<MeasuredRun> runs;
  std::vector<json> metrics;
  for (const auto& path : files) load_profiled(path, heldout, family, runs, metrics, &missing);
  const std::vector<PredictedRun> predicted = predict_runs(runs, constants);
  for (size_t i = 0; i < predicted.size(); ++i) {
    const PredictedRun& p = predicted[i];
    if (p.status != "predicted") {
      ++(p.run.heldout ? missing.heldout : missing.train);
      continue;
    }
    const json& mx = metrics[i];
    CounterComparison c;
    c.family = p.run.family;
    c.gpu = p.run.gpu;
    c.schedule = p.run.schedule;
    c.shape = p.run.shape;
    c.tile = p.run.tile.dump();
    c.heldout = p.run.heldout;
    c.measured_clock_mhz = mx[kClockCounter]["value"].get<double>() / 1e6;
    c.predicted_clock_mhz = p.predicted_clock_mhz;
    c.predicted_utilization = p.utilization;
    for (const auto& pair : counter_pairs()) {
      if (!mx.contains(pair.counter)) continue;
      // Like with like: ncu's "active" counters against the model's utilization over the
      // SMs' active cycles (a grid smaller than the chip leaves SMs idle), "elapsed" ones
      // against the whole kernel's.
      const auto& predicted_util = pair.of_active_cycles() ? p.utilization_active : p.utilization;
      auto u = predicted_util.find(pair.unit);
      const double pred = u == predicted_util.end() ? 0.0 : 100.0 * u->second;
      c.utilization[pair.unit] = {pred, mx[pair.counter]["value"].get<double>()};
    }
    out.push_back(std::move(c));
  }
  if (unmatched) *unmatched = missing;
  return out;
}

CounterSummary summarize_counters(const std::vector<CounterComparison>& cs, int unmatched) {
  CounterSummary s;
  s.n = static_cast<int>(cs.size());
  s.unmatched = unmatched;
  if (cs.empty()) return s;
  int within = 0;
  double sum = 0.0;
  std::map<std::string, int> count, ok;
  std::map<std::string, double> pts;
  for (const auto& c : cs) {
    const double e = std::abs(c.predicted_clock_mhz - c.measured_clock_mhz) / c.measured_clock_mhz * 100.0;
    sum += e;
    within += e <= kClockTolerancePct ? 1 : 0;
    for (const auto& [unit, pm] : c.utilization) {
      const double d = std::abs(pm.first - pm.second);
      ++count[unit];
      pts[unit] += d;
      ok[unit] += d <= kUtilTolerancePoints ? 1 : 0;
    }
  }
  s.clock_mape_pct = sum / s.n;
  s.clock_within_3pct = static_cast<double>(within) / s.n;
  for (const auto& [unit, n] : count) {
    s.mean_abs_points[unit] = pts[unit] / n;
    s.within_10_points[unit] = static_cast<double>(ok[unit]) / n;
  }
  return s;
}

json to_json(const CounterSummary& s) {
  return {{"n", s.n},
          {"unmatched", s.unmatched},
          {"clock_mape_pct", s.clock_mape_pct},
          {"clock_within_3pct_share", s.clock_within_3pct},
          {"utilization_mean_abs_points", s.mean_abs_points},
          {"utilization_within_10_points_share", s.within_10_points}};
}

json to_json(const CounterComparison& c) {
  json u = json::object();
  for (const auto& [unit, pm] : c.utilization) u[unit] = {{"predicted_pct", pm.first}, {"measured_pct", pm.second}};
  return {{"family", c.family},
          {"gpu", c.gpu},
          {"schedule", c.schedule},
          {"shape", c.shape},
          {"tile", json::parse(c.tile)},
          {"heldout", c.heldout},
          {"predicted_clock_mhz", c.predicted_clock_mhz},
          {"measured_clock_mhz", c.measured_clock_mhz},
          {"utilization", u},
          {"predicted_utilization", c.predicted_utilization}};
}

std::string counter_table(const CounterSummary& s) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line,
                "%d profiled runs matched (%d not predicted); SM clock: MAPE %.1f %%, %.0f %% of runs within %.0f %%\n",
                s.n, s.unmatched, s.clock_mape_pct, 100.0 * s.clock_within_3pct, kClockTolerancePct);
  os << line;
  for (const auto& [unit, pts] : s.mean_abs_points) {
    std::snprintf(line, sizeof line, "  %-7s utilization: mean |model - ncu| %.1f points, %.0f %% of runs within %.0f points\n",
                  unit.c_str(), pts, 100.0 * s.within_10_points.at(unit), kUtilTolerancePoints);
    os << line;
  }
  return os.str();
}

}  // namespace tilesim::validate
