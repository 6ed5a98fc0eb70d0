// Validation core: loading measurements, predicting them, error figures, the baseline gate.
#include "validate_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "tilesim/input_file.hpp"
#include "tilesim/model/sequence.hpp"
#include "tilesim/profile.hpp"
#include "validate_heldout.hpp"
#include "validate_power.hpp"

namespace tilesim::validate {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& kernel_families() {
  static const std::vector<std::string> f = {"gemm", "attention", "decode", "layer_step", "mla"};
  return f;
}

std::string gpu_id_from_device_name(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  // Order matters: "H200" contains "H20". H800 is an H100 with a cut NVLink (same SM).
  static const std::pair<const char*, const char*> kIds[] = {
      {"B200", "b200"}, {"H200", "h200"}, {"H100", "h100"}, {"H800", "h100"}, {"H20", "h20"}};
  // PCIe and NVL boards have fewer SMs / other clocks than the SXM profiles: no profile.
  if (up.find("PCIE") != std::string::npos || up.find("NVL") != std::string::npos) return "";
  for (const auto& [token, id] : kIds)
    if (up.find(token) != std::string::npos) return id;
  return "";
}

namespace {

std::string value_text(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

json read_json_file(const fs::path& p) {
  try {
    return parse_json_strict(read_input_file(p.string()), p.string());
  } catch (const InputFileError& e) {
    throw std::runtime_error(e.what());
  }
}

// A kernel's median time outside this range is a unit slip or a corrupted file: the
// fastest launch is a few microseconds, no committed run takes more than seconds.
constexpr double kMinPlausibleMs = 1e-4;
constexpr double kMaxPlausibleMs = 1e6;
// An SM clock outside this range is a unit slip (kHz, GHz) or a broken span.
constexpr double kMinPlausibleMhz = 100.0;
constexpr double kMaxPlausibleMhz = 5000.0;

const json& need(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw std::runtime_error(where + ": missing field '" + key + "'");
  return j.at(key);
}

}  // namespace

std::string problem_key(const json& problem) {
  const std::string kind = problem.value("kind", std::string("?"));
  static const std::map<std::string, std::vector<std::string>> kOrder = {
      {"gemm", {"m", "n", "k", "dtype"}},
      {"attention",
       {"batch", "heads_q", "heads_kv", "seq_q", "seq_kv", "head_dim", "causal", "dtype"}},
      {"decode",
       {"batch", "heads_q", "heads_kv", "q_per_seq", "seq_kv", "head_dim", "page_size", "dtype"}},
      {"layer_step", {"m", "n", "k", "batch", "heads_q", "heads_kv", "seq_kv", "head_dim", "dtype"}},
      {"mla",
       {"batch", "heads_q", "heads_kv", "q_per_seq", "seq_kv", "head_dim", "head_dim_v", "page_size", "dtype"}}};
  static const std::map<std::string, std::string> kShort = {
      {"batch", "b"},    {"heads_q", "hq"}, {"heads_kv", "hkv"}, {"seq_q", "sq"},
      {"seq_kv", "skv"}, {"head_dim", "d"}, {"q_per_seq", "q"},  {"page_size", "page"},
      {"head_dim_v", "dv"}};
  std::vector<std::string> order;
  if (auto it = kOrder.find(kind); it != kOrder.end()) {
    order = it->second;
  } else {
    for (const auto& [k, v] : problem.items())
      if (k != "kind") order.push_back(k);  // nlohmann's object is sorted: stable
  }
  std::string out = kind;
  for (const auto& k : order) {
    if (!problem.contains(k)) continue;
    auto s = kShort.find(k);
    out += " " + (s != kShort.end() ? s->second : k) + "=" + value_text(problem.at(k));
  }
  return out;
}

namespace {
// How the runner took the run's samples ("timing", tilesim::cuda::timing_record).
void read_timing(const json& r, const std::string& rw, MeasuredRun& m) {
  if (!r.contains("timing")) return;
  const json& t = r.at("timing");
  const std::string where = rw + ": timing";
  // Counts become ints: beyond kMaxCount a value is no runner's protocol (and would not fit).
  constexpr double kMaxCount = 1e6;
  auto number = [&](const char* key, double min, double max) {
    const json& v = need(t, key, where);
    if (!v.is_number() || !(v.get<double>() >= min && v.get<double>() <= max))
      throw std::runtime_error(where + ": '" + key + "' must be a number in [" + short_number(min) + ", " +
                               short_number(max) + "]");
    return v.get<double>();
  };
  m.warmup_per_pass = static_cast<int>(number("warmup_per_pass", 0, kMaxCount));
  m.passes = static_cast<int>(number("passes", 1, kMaxCount));
  m.flush_bytes = number("l2_flush_bytes", 0, std::numeric_limits<double>::max());
  // Runners before the mode was recorded flushed by memset.
  const std::string mode = t.contains("l2_flush_mode") && t.at("l2_flush_mode").is_string()
                               ? t.at("l2_flush_mode").get<std::string>()
                               : std::string(m.flush_bytes > 0 ? "memset" : "none");
  if (mode != "memset" && mode != "clean" && mode != "none")
    throw std::runtime_error(where + ": 'l2_flush_mode' must be memset, clean or none");
  m.l2_clean_at_start = mode != "memset";
}

// The back-to-back trace's steady window, when it carries the one-second power (traces from
// before that field read the energy counter only, too coarsely over half a second).
void read_sustain_steady(const json& r, const std::string& rw, MeasuredRun& m) {
  if (!r.contains("sustain")) return;
  const json* steady = &r.at("sustain");
  for (const char* key : {"back_to_back", "steady"}) {
    if (!steady->is_object() || !steady->contains(key)) return;
    steady = &steady->at(key);
  }
  if (!steady->is_object() || !steady->contains("power_w_usage_mean")) return;
  const json& ms = need(*steady, "kernel_ms_median", rw + ": sustain.back_to_back.steady");
  const json& w = steady->at("power_w_usage_mean");
  if (!ms.is_number() || !w.is_number() || !(ms.get<double>() > 0.0) || !(w.get<double>() > 0.0))
    throw std::runtime_error(rw + ": sustain.back_to_back.steady: kernel_ms_median and power_w_usage_mean must be "
                                  "positive numbers");
  m.sustain_steady_ms = ms.get<double>();
  m.sustain_steady_w = w.get<double>();
  const json& bins = need(r.at("sustain").at("back_to_back"), "bins", rw + ": sustain.back_to_back");
  if (bins.is_array() && !bins.empty() && bins[0].is_object() && bins[0].contains("kernel_ms_median") &&
      bins[0].at("kernel_ms_median").is_number())
    m.sustain_start_ms = bins[0].at("kernel_ms_median").get<double>();
}

// The SM clock of the run's traced launch, when it has one: sm_clock_mhz of the GEMM
// runner's "stage_trace" (--stage-trace) or of the attention runner's "clock_trace"
// (--clock-trace); both from each CTA's clock span (kernels/common/clock_span.hpp).
void read_traced_clock(const json& r, const std::string& rw, MeasuredRun& m) {
  for (const char* record : {"stage_trace", "clock_trace"}) {
    if (!r.contains(record) || !r.at(record).is_object()) continue;
    const json& t = r.at(record);
    if (!t.contains("sm_clock_mhz") || !t.at("sm_clock_mhz").is_object()) continue;
    const json& c = t.at("sm_clock_mhz");
    if (c.value("n", 0) <= 0) continue;  // no CTA carried a span
    const std::string where = rw + ": " + record + ".sm_clock_mhz";
    const json& med = need(c, "median", where);
    if (!med.is_number() || !(med.get<double>() >= kMinPlausibleMhz) || !(med.get<double>() <= kMaxPlausibleMhz))
      throw std::runtime_error(where + ".median must be a clock in [" + short_number(kMinPlausibleMhz) + ", " +
                               short_number(kMaxPlausibleMhz) + "] MHz");
    m.traced_clock_mhz = med.get<double>();
  }
}

void load_file(const fs::path& path, const std::string& fam, const std::string& data_dir,
               std::map<std::string, std::string>& seen, std::vector<MeasuredRun>& out);
}  // namespace

std::vector<MeasuredRun> load_runs(const std::string& data_dir) {
  const fs::path mdir = fs::path(data_dir) / "measurements";
  if (!fs::is_directory(mdir))
    throw std::runtime_error(mdir.string() + ": measurements folder not found");
  std::vector<MeasuredRun> out;
  const HeldOutList heldout = load_heldout(data_dir);
  std::map<std::string, std::string> seen;  // device + timed run JSON -> where first seen
  for (const auto& fam : kernel_families()) {
    const fs::path fdir = mdir / fam;
    if (!fs::is_directory(fdir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(fdir))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      const std::string where = path.string();
      try {
        load_file(path, fam, data_dir, seen, out);
      } catch (const std::runtime_error&) {
        throw;
      } catch (const std::exception& e) {  // a field of the wrong JSON type
        throw std::runtime_error(where + ": " + e.what());
      }
    }
  }
  for (auto& m : out) {
    try {
      m.heldout = heldout.matches(m.family, m.problem);
    } catch (const std::exception& e) {  // a problem field of the wrong JSON type (dtype not a string)
      throw std::runtime_error(m.file + ": problem: " + e.what());
    }
  }
  return out;
}

std::vector<MeasuredRun> load_measurement_file(const std::string& path) {
  const json doc = read_json_file(path);
  const std::string family = need(doc, "family", path).get<std::string>();
  std::vector<MeasuredRun> out;
  std::map<std::string, std::string> seen;
  const fs::path parent = fs::path(path).parent_path();
  try {
    load_file(path, family, parent.empty() ? "." : parent.string(), seen, out);
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {  // a field of the wrong JSON type
    throw std::runtime_error(path + ": " + e.what());
  }
  return out;
}

namespace {
void load_file(const fs::path& path, const std::string& fam, const std::string& data_dir,
               std::map<std::string, std::string>& seen, std::vector<MeasuredRun>& out) {
      const std::string where = path.string();
      const json doc = read_json_file(path);
      if (need(doc, "schema", where) != "tilesim.measurement.v1")
        throw std::runtime_error(where + ": schema is not 'tilesim.measurement.v1'");
      const std::string family = need(doc, "family", where).get<std::string>();
      if (family != fam)
        throw std::runtime_error(where + ": declares family '" + family + "' but lies under measurements/" + fam +
                                 "/ (move the file or fix its family)");
      const std::string device =
          need(need(doc, "device", where), "name", where + ": device").get<std::string>();
      const json& runs = need(doc, "runs", where);
      if (!runs.is_array()) throw std::runtime_error(where + ": 'runs' must be an array");
      bool traced = false;  // an earlier run of the file ran a sustained-load trace
      for (size_t i = 0; i < runs.size(); ++i) {
        const json& r = runs[i];
        const std::string rw = where + ": runs[" + std::to_string(i) + "]";
        const bool after_trace = traced;
        traced = traced || r.contains("sustain");
        MeasuredRun m;
        m.family = family;
        m.device = device;
        m.gpu = gpu_id_from_device_name(device);
        m.file = fs::relative(path, data_dir).generic_string();
        m.impl = need(r, "impl", rw).get<std::string>();
        if (r.contains("schedule") && r.at("schedule").is_string())
          m.schedule = r.at("schedule").get<std::string>();
        m.tile = r.contains("tile") && r.at("tile").is_object() ? r.at("tile") : json::object();
        m.problem = need(r, "problem", rw);
        if (!m.problem.is_object()) throw std::runtime_error(rw + ": 'problem' must be an object");
        m.shape = problem_key(m.problem);
        // A run without a median is a correctness-only run (a --check file): no time to
        // compare. It is counted, not predicted.
        if (!r.contains("median_ms")) {
          m.timed = false;
          out.push_back(std::move(m));
          continue;
        }
        const json& med = r.at("median_ms");
        if (!med.is_number() || !(med.get<double>() > 0.0) || !std::isfinite(med.get<double>()))
          throw std::runtime_error(rw + ": median_ms must be a positive number");
        const double ms = med.get<double>();
        if (ms < kMinPlausibleMs || ms > kMaxPlausibleMs)
          throw std::runtime_error(rw + ": median_ms = " + short_number(ms) + " is implausible (a kernel time lies in [" +
                                   short_number(kMinPlausibleMs) + ", " + short_number(kMaxPlausibleMs) + "] ms)");
        // The same timed run twice (a copied file or run) would be counted twice.
        const auto [dup, fresh] = seen.emplace(device + "\n" + r.dump(), rw);
        if (!fresh) throw std::runtime_error(rw + ": duplicate of " + dup->second + " (the same timed run twice)");
        m.measured_us = med.get<double>() * 1e3;
        if (r.contains("samples_ms") && r.at("samples_ms").is_array())
          m.samples = static_cast<int>(r.at("samples_ms").size());
        if (r.contains("nvml_per_pass") && r.at("nvml_per_pass").is_array() && !r.at("nvml_per_pass").empty())
          m.passes = static_cast<int>(r.at("nvml_per_pass").size());
        read_timing(r, rw, m);
        // tilesim-layer-bench flushes by reading (its document's "timing" says so): clean.
        if (family == "layer_step") m.l2_clean_at_start = true;
        read_sustain_steady(r, rw, m);
        read_traced_clock(r, rw, m);
        // Runners that time one block per run trace it right after its timing, before the
        // next run; round-robin runners (attention) time all of a shape's runs first.
        m.after_trace = after_trace && m.passes == 1;
        if (r.contains("check") && r.at("check").is_object() && r.at("check").contains("passed"))
          m.check_passed = r.at("check").at("passed").get<bool>();
        out.push_back(std::move(m));
      }
}
}  // namespace

std::vector<PredictedRun> predict_runs(const std::vector<MeasuredRun>& runs,
                                       const model::ModelConstants& constants) {
  std::map<std::string, profiles::Profile> profiles_by_id;
  const model::ModelConstants clean_constants = model::with_clean_l2(constants);  // runs timed from a clean L2
  std::vector<PredictedRun> out;
  out.reserve(runs.size());
  for (const auto& m : runs) {
    PredictedRun p;
    p.run = m;
    if (!m.timed) {
      p.status = "untimed";
      p.reason = "correctness-only run (no median_ms)";
    } else if (m.schedule.empty()) {
      p.status = "vendor";
      p.reason = "vendor library (" + m.impl + "): no tile to predict";
    } else if (!m.check_passed) {
      p.status = "check_failed";
      p.reason = "correctness check failed: time not comparable";
    } else if (m.gpu.empty()) {
      p.status = "no_profile";
      p.reason = "no built-in profile for device '" + m.device + "'";
    } else {
      try {
        auto it = profiles_by_id.find(m.gpu);
        if (it == profiles_by_id.end())
          it = profiles_by_id.emplace(m.gpu, profiles::builtin_profile(m.gpu)).first;
        const model::ModelConstants& k = m.l2_clean_at_start ? clean_constants : constants;
        if (m.schedule == "layer_step") {
          // A GEMM-then-decode step (tilesim-layer-bench): the sequence model, which
          // predicts both kernels with their own schedules; the tile's "timed" names the part.
          if (!m.tile.contains("timed") || !m.tile.at("timed").is_string())
            throw model::ModelError("layer_step tile: missing string field 'timed'");
          const auto& timed = m.tile.at("timed");
          const model::LayerStepPrediction ls =
              model::predict_layer_step(it->second, model::layer_step_problem_from_json(m.problem),
                                        model::layer_step_setup_from_json(m.tile), k);
          p.status = "predicted";
          p.predicted_us = ls.time_of(timed.get<std::string>());
          p.bottleneck = "sequence:" + ls.cap;
          out.push_back(std::move(p));
          continue;
        }
        const model::Problem prob = model::problem_from_json(m.problem);
        const model::Tile tile = model::tile_from_json(m.tile);
        const model::Prediction pr = model::predict(it->second, prob, m.schedule, tile, k);
        // The run's median sample as its runner took it: on a rested card, or after the
        // power limiter acted (validate_power.hpp).
        const LimitedTime lt = time_under_power_limit(pr, it->second, m);
        p.status = "predicted";
        p.predicted_us = lt.time_us;
        p.power_limited = lt.limited;
        p.energy_j = pr.energy_j;
        p.sustained_us = pr.sustained_time_us;
        p.rested_us = pr.time_us;
        p.bottleneck = pr.bottleneck;
        p.flops = model::useful_flops(prob);
        p.bytes_hbm = pr.bytes_hbm;
        p.bytes_l2 = pr.bytes_l2;
        p.predicted_clock_mhz = lt.clock_mhz;
        for (const auto& u : pr.units) {
          p.utilization[model::unit_name(u.unit)] = u.utilization;
          p.utilization_active[model::unit_name(u.unit)] = u.utilization_active;
          p.unit_work[model::unit_name(u.unit)] = u.work_total;
          if (u.unit == model::Unit::kSmem) p.bytes_smem = u.work_total;
          if (u.unit == model::Unit::kMufu) p.mufu_ops = u.work_total;
        }
      } catch (const model::Infeasible& e) {
        p.status = "unpredicted";
        p.reason = std::string("model calls the tile infeasible: ") + e.what();
      } catch (const std::exception& e) {
        p.status = "unpredicted";
        p.reason = e.what();
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

namespace {
void check_pairs(const std::vector<double>& pred, const std::vector<double>& meas) {
  if (pred.size() != meas.size())
    throw std::invalid_argument("predicted and measured differ in length");
  if (pred.empty()) throw std::invalid_argument("no points");
  for (size_t i = 0; i < pred.size(); ++i)
    if (!std::isfinite(pred[i]) || !std::isfinite(meas[i]) || !(meas[i] > 0.0))
      throw std::invalid_argument("bad point: measured must be > 0 and both finite");
}
}  // namespace

double mape_pct(const std::vector<double>& pred, const std::vector<double>& meas) {
  check_pairs(pred, meas);
  double s = 0.0;
  for (size_t i = 0; i < pred.size(); ++i) s += std::abs(pred[i] - meas[i]) / meas[i];
  return 100.0 * s / static_cast<double>(pred.size());
}

double max_error_pct(const std::vector<double>& pred, const std::vector<double>& meas) {
  check_pairs(pred, meas);
  double m = 0.0;
  for (size_t i = 0; i < pred.size(); ++i) m = std::max(m, std::abs(pred[i] - meas[i]) / meas[i]);
  return 100.0 * m;
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = static_cast<double>(i + j) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("spearman: lengths differ");
  const size_t n = a.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const auto ra = ranks(a), rb = ranks(b);
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / static_cast<double>(n);
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / static_cast<double>(n);
  double cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < n; ++i) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) * (ra[i] - ma);
    vb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (va == 0.0 || vb == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return cov / std::sqrt(va * vb);
}

double top_pick_regret_pct(const std::vector<double>& pred, const std::vector<double>& second_utilization,
                           const std::vector<double>& meas) {
  check_pairs(pred, meas);
  const size_t pick = model::rank_order(pred, second_utilization).front();
  const double best = *std::min_element(meas.begin(), meas.end());
  return (meas[pick] / best - 1.0) * 100.0;
}

double median_signed_error_pct(const std::vector<double>& pred, const std::vector<double>& meas) {
  check_pairs(pred, meas);
  std::vector<double> e;
  for (size_t i = 0; i < pred.size(); ++i) e.push_back((pred[i] - meas[i]) / meas[i] * 100.0);
  std::sort(e.begin(), e.end());
  const size_t n = e.size();
  return n % 2 ? e[n / 2] : 0.5 * (e[n / 2 - 1] + e[n / 2]);
}

namespace {
std::string tile_text(const json& t) {
  std::string s;
  for (const auto& [k, v] : t.items()) s += (s.empty() ? "" : ",") + k + "=" + value_text(v);
  return s.empty() ? "-" : s;
}
}  // namespace

std::map<std::string, FamilySummary> summarize(const std::vector<PredictedRun>& runs) {
  std::map<std::string, FamilySummary> out;
  std::map<std::string, std::vector<const PredictedRun*>> by_family;
  for (const auto& r : runs) {
    FamilySummary& f = out[r.run.family];
    if (r.status == "predicted") {
      by_family[r.run.family].push_back(&r);
    } else if (r.status == "unpredicted") {
      ++f.n_unpredicted;
    } else {
      ++f.n_skipped;
    }
  }
  for (auto& [fam, f] : out) {
    const auto& rs = by_family[fam];
    f.n = static_cast<int>(rs.size());
    if (rs.empty()) {
      f.mape_pct = f.max_error_pct = f.spearman = f.bias_pct =
          std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    std::vector<double> p, m;
    std::map<std::string, std::vector<const PredictedRun*>> shapes;
    for (const auto* r : rs) {
      p.push_back(*r->predicted_us);
      m.push_back(r->run.measured_us);
      shapes[r->run.gpu + " " + r->run.shape].push_back(r);
    }
    f.mape_pct = mape_pct(p, m);
    f.max_error_pct = max_error_pct(p, m);
    f.spearman = spearman(p, m);
    f.bias_pct = median_signed_error_pct(p, m);
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_schedule;
    for (const auto* r : rs) {
      by_schedule[r->run.schedule].first.push_back(*r->predicted_us);
      by_schedule[r->run.schedule].second.push_back(r->run.measured_us);
    }
    for (const auto& [sched, pm] : by_schedule)
      f.schedules[sched] = ScheduleSummary{static_cast<int>(pm.first.size()), mape_pct(pm.first, pm.second),
                                           max_error_pct(pm.first, pm.second),
                                           median_signed_error_pct(pm.first, pm.second)};
    for (const auto& [key, srs] : shapes) {
      std::vector<double> sp, sm;
      for (const auto* r : srs) {
        sp.push_back(*r->predicted_us);
        sm.push_back(r->run.measured_us);
      }
      ShapeSummary s;
      s.n = static_cast<int>(srs.size());
      s.mape_pct = mape_pct(sp, sm);
      s.max_error_pct = max_error_pct(sp, sm);
      s.spearman = spearman(sp, sm);
      // The top pick inside the shape's largest sweep (ShapeSummary says why).
      std::map<std::string, std::vector<size_t>> by_file;
      for (size_t i = 0; i < srs.size(); ++i) by_file[srs[i]->run.file].push_back(i);
      const auto sweep = std::max_element(by_file.begin(), by_file.end(), [](const auto& a, const auto& b) {
        return a.second.size() < b.second.size() || (a.second.size() == b.second.size() && a.first < b.first);
      });
      std::vector<double> wp, wu, wm;
      for (const size_t i : sweep->second) {
        wp.push_back(sp[i]);
        std::vector<double> units;
        for (const auto& [unit, share] : srs[i]->utilization) units.push_back(share);
        wu.push_back(model::second_busiest_utilization(units));
        wm.push_back(sm[i]);
      }
      s.top_pick_sweep = sweep->first;
      s.top_pick_regret_pct = top_pick_regret_pct(wp, wu, wm);
      s.top_pick_within_3pct = s.top_pick_regret_pct <= kTopPickTargetPct;
      s.top_pick_within_5pct = s.top_pick_regret_pct <= kTopPickLoosePct;
      const size_t pick = sweep->second[model::rank_order(wp, wu).front()];
      const size_t best = sweep->second[static_cast<size_t>(std::min_element(wm.begin(), wm.end()) - wm.begin())];
      s.model_pick = srs[pick]->run.schedule + " " + tile_text(srs[pick]->run.tile);
      s.measured_best = srs[best]->run.schedule + " " + tile_text(srs[best]->run.tile);
      f.shapes[key] = s;
    }
  }
  return out;
}

namespace {
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
}  // namespace

json to_json(const FamilySummary& s) {
  json schedules = json::object();
  for (const auto& [k, v] : s.schedules)
    schedules[k] = {{"n", v.n},
                    {"mape_pct", num(v.mape_pct)},
                    {"max_error_pct", num(v.max_error_pct)},
                    {"median_signed_error_pct", num(v.bias_pct)}};
  json shapes = json::object();
  for (const auto& [k, v] : s.shapes)
    shapes[k] = {{"n", v.n},
                 {"mape_pct", num(v.mape_pct)},
                 {"max_error_pct", num(v.max_error_pct)},
                 {"spearman", num(v.spearman)},
                 {"top_pick_regret_pct", num(v.top_pick_regret_pct)},
                 {"top_pick_within_3pct", v.top_pick_within_3pct},
                 {"top_pick_within_5pct", v.top_pick_within_5pct},
                 {"top_pick_sweep", v.top_pick_sweep},
                 {"model_pick", v.model_pick},
                 {"measured_best", v.measured_best}};
  return {{"n", s.n},
          {"n_unpredicted", s.n_unpredicted},
          {"n_skipped", s.n_skipped},
          {"mape_pct", num(s.mape_pct)},
          {"max_error_pct", num(s.max_error_pct)},
          {"spearman", num(s.spearman)},
          {"median_signed_error_pct", num(s.bias_pct)},
          {"schedules", schedules},
          {"shapes", shapes}};
}

json to_json(const PredictedRun& r) {
  json j = {{"family", r.run.family},
            {"gpu", r.run.gpu},
            {"device", r.run.device},
            {"file", r.run.file},
            {"impl", r.run.impl},
            {"schedule", r.run.schedule.empty() ? json(nullptr) : json(r.run.schedule)},
            {"tile", r.run.tile},
            {"problem", r.run.problem},
            {"shape", r.run.shape},
            {"measured_us", r.run.measured_us},
            {"predicted_us", r.predicted_us ? num(*r.predicted_us) : json(nullptr)},
            {"heldout", r.run.heldout},
            {"predicted_clock_mhz", num(r.predicted_clock_mhz)},
            {"status", r.status}};
  if (r.run.traced_clock_mhz > 0.0) j["traced_clock_mhz"] = num(r.run.traced_clock_mhz);
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.predicted_us) {
    j["error_pct"] = num((*r.predicted_us - r.run.measured_us) / r.run.measured_us * 100.0);
    j["bottleneck"] = r.bottleneck;
    j["utilization"] = r.utilization;
    j["utilization_active"] = r.utilization_active;
    j["unit_work"] = r.unit_work;
    j["energy_j"] = num(r.energy_j);
    j["power_limited"] = r.power_limited;
  }
  if (!r.split.empty()) j["split"] = r.split;
  return j;
}

std::string summary_table(const std::map<std::string, FamilySummary>& s, bool per_shape) {
  std::ostringstream os;
  char line[512];
  auto f = [](double v, const char* fmt) {
    char b[32];
    if (!std::isfinite(v)) return std::string("n/a");
    std::snprintf(b, sizeof b, fmt, v);
    return std::string(b);
  };
  std::snprintf(line, sizeof line, "%-10s %5s %7s %8s %8s %8s %9s %9s %9s\n", "family", "n", "unpred",
                "MAPE %", "max %", "bias %", "Spearman", "pick<=3%", "pick<=5%");
  os << line;
  for (const auto& [fam, v] : s) {
    int wins3 = 0, wins5 = 0;
    for (const auto& [k, sh] : v.shapes) {
      wins3 += sh.top_pick_within_3pct ? 1 : 0;
      wins5 += sh.top_pick_within_5pct ? 1 : 0;
    }
    // wins of the family's shapes (a structured binding cannot be captured before C++20)
    const std::size_t shapes = v.shapes.size();
    auto of_shapes = [shapes](int wins) {
      return shapes == 0 ? std::string("n/a") : std::to_string(wins) + "/" + std::to_string(shapes);
    };
    std::snprintf(line, sizeof line, "%-10s %5d %7d %8s %8s %8s %9s %9s %9s\n", fam.c_str(), v.n,
                  v.n_unpredicted, f(v.mape_pct, "%.1f").c_str(),
                  f(v.max_error_pct, "%.1f").c_str(), f(v.bias_pct, "%+.1f").c_str(),
                  f(v.spearman, "%.2f").c_str(), of_shapes(wins3).c_str(), of_shapes(wins5).c_str());
    os << line;
    if (v.schedules.size() > 1)
      for (const auto& [sched, ss] : v.schedules) {
        std::snprintf(line, sizeof line, "  %-16s %5d %7s %8s %8s %8s\n", sched.c_str(), ss.n, "",
                      f(ss.mape_pct, "%.1f").c_str(), f(ss.max_error_pct, "%.1f").c_str(),
                      f(ss.bias_pct, "%+.1f").c_str());
        os << line;
      }
  }
  os << "(bias: median of (predicted - measured) / measured, < 0 = the model predicts too fast;\n"
        " n: predicted runs; unpred: measured tilesim runs the model cannot predict; vendor, "
        "untimed and\n"
        " failed-check runs are not compared; pick<=3% / <=5%: shapes where the model's fastest tile\n"
        " is within 3 % (the accuracy target) / 5 % of the measured best)\n";
  if (per_shape) {
    os << "\nper shape (gpu problem): n, MAPE %, max %, Spearman, top-pick regret %\n";
    for (const auto& [fam, v] : s)
      for (const auto& [k, sh] : v.shapes) {
        std::snprintf(line, sizeof line, "  %-9s %-62s %3d %6s %6s %6s %7s%s\n", fam.c_str(),
                      k.c_str(), sh.n, f(sh.mape_pct, "%.1f").c_str(),
                      f(sh.max_error_pct, "%.1f").c_str(), f(sh.spearman, "%.2f").c_str(),
                      f(sh.top_pick_regret_pct, "%.1f").c_str(),
                      sh.top_pick_within_3pct ? "" : "  (pick misses 3 %)");
        os << line;
      }
  }
  return os.str();
}

Baseline load_baseline(const std::string& path) {
  const json j = read_json_file(path);
  if (need(j, "schema", path) != "tilesim.accuracy_baseline.v1")
    throw std::runtime_error(path + ": schema is not 'tilesim.accuracy_baseline.v1'");
  Baseline b;
  b.updated = need(j, "updated", path).get<std::string>();
  b.note = need(j, "note", path).get<std::string>();
  if (b.note.empty())
    throw std::runtime_error(path + ": 'note' must say why the baseline was updated");
  auto entries = [&](const char* key, std::map<std::string, BaselineEntry>& to) {
    const json& fams = need(j, key, path);
    if (!fams.is_object()) throw std::runtime_error(path + ": '" + key + "' must be an object");
    for (const auto& [fam, e] : fams.items()) {
      const std::string w = path + ": " + key + "." + fam;
      BaselineEntry be;
      const json& mp = need(e, "mape_pct", w);
      if (!mp.is_number() || !(mp.get<double>() >= 0.0))
        throw std::runtime_error(w + ": mape_pct must be a number >= 0");
      be.mape_pct = mp.get<double>();
      const json& entry = e;  // a structured binding: clang's lambdas cannot capture it
      auto count = [&](const char* field) {
        const json& v = need(entry, field, w);
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > std::numeric_limits<int>::max())
          throw std::runtime_error(w + ": '" + field + "' must be a whole number of runs");
        return static_cast<int>(v.get<int64_t>());
      };
      be.n = count("n");
      be.n_unpredicted = count("n_unpredicted");
      to[fam] = be;
    }
  };
  entries("families", b.families);
  if (j.contains("heldout")) entries("heldout", b.heldout);
  return b;
}

json baseline_json(const std::map<std::string, FamilySummary>& s,
                   const std::map<std::string, FamilySummary>& heldout, const std::string& date,
                   const std::string& note, const std::string& constants_origin) {
  auto entries = [](const std::map<std::string, FamilySummary>& from) {
    json fams = json::object();
    for (const auto& [fam, v] : from) {
      if (v.n == 0 && v.n_unpredicted == 0) continue;  // only vendor/untimed runs: nothing to judge
      // A family whose runs are all unpredicted gets MAPE 0: the first predicted run then
      // needs a deliberate update, and the unpredicted count is held.
      fams[fam] = {{"mape_pct", v.n > 0 ? v.mape_pct : 0.0},
                   {"max_error_pct", num(v.max_error_pct)},
                   {"spearman", num(v.spearman)},
                   {"bias_pct", num(v.bias_pct)},
                   {"n", v.n},
                   {"n_unpredicted", v.n_unpredicted}};
    }
    return fams;
  };
  json fams = entries(s);
  return {{"schema", "tilesim.accuracy_baseline.v1"},
          {"heldout", entries(heldout)},
          {"updated", date},
          {"note", note},
          {"constants", constants_origin},
          {"how",
           "tilesim validate --write-baseline data/model/accuracy_baseline.json --note '<why>' "
           "(recomputes from data/measurements with the built-in model constants)"},
          {"families", fams}};
}

std::vector<PredictedRun> runs_with_heldout(const std::vector<PredictedRun>& runs, bool heldout) {
  std::vector<PredictedRun> out;
  for (const auto& r : runs)
    if (r.run.heldout == heldout) out.push_back(r);
  return out;
}

std::vector<std::string> gate_failures(const std::map<std::string, FamilySummary>& current,
                                       const std::map<std::string, FamilySummary>& current_heldout,
                                       const Baseline& baseline) {
  std::vector<std::string> out;
  char msg[512];
  const bool by_heldout = !baseline.heldout.empty();
  if (by_heldout) {
    for (const auto& [fam, b] : baseline.heldout) {
      auto it = current_heldout.find(fam);
      if (it == current_heldout.end() || it->second.n == 0) {
        out.push_back("family '" + fam + "' has a held-out baseline (n=" + std::to_string(b.n) +
                      ") but no predicted held-out measurements now");
        continue;
      }
      if (it->second.mape_pct > b.mape_pct + kHeldOutGateTolerancePct) {
        std::snprintf(msg, sizeof msg,
                      "family '%s': held-out MAPE %.2f%% is worse than the baseline %.2f%% + %.1f "
                      "points (n=%d, baseline n=%d)",
                      fam.c_str(), it->second.mape_pct, b.mape_pct, kHeldOutGateTolerancePct,
                      it->second.n, b.n);
        out.push_back(msg);
      }
    }
  }
  for (const auto& [fam, cur] : current) {
    if (cur.n == 0 && cur.n_unpredicted == 0) continue;  // only vendor runs: nothing to judge
    auto it = baseline.families.find(fam);
    if (it == baseline.families.end()) {
      out.push_back(
          "family '" + fam + "' has " + std::to_string(cur.n + cur.n_unpredicted) +
          " tilesim runs but no baseline: update data/model/accuracy_baseline.json deliberately "
          "(tilesim validate --write-baseline ... --note '<why>')");
      continue;
    }
    const BaselineEntry& b = it->second;
    if (!by_heldout && cur.n > 0 && cur.mape_pct > b.mape_pct + kGateSlackPct) {
      std::snprintf(
          msg, sizeof msg,
          "family '%s': MAPE %.2f%% is worse than the baseline %.2f%% (n=%d, baseline n=%d)",
          fam.c_str(), cur.mape_pct, b.mape_pct, cur.n, b.n);
      out.push_back(msg);
    }
    if (cur.n_unpredicted > b.n_unpredicted) {
      std::snprintf(msg, sizeof msg,
                    "family '%s': %d measured runs the model cannot predict (baseline allows %d)",
                    fam.c_str(), cur.n_unpredicted, b.n_unpredicted);
      out.push_back(msg);
    }
  }
  for (const auto& [fam, b] : baseline.families) {
    auto it = current.find(fam);
    if (it == current.end() || (it->second.n == 0 && b.n > 0))
      out.push_back("family '" + fam + "' is in the baseline (n=" + std::to_string(b.n) +
                    ") but has no predicted measurements now");
  }
  return out;
}

}  // namespace tilesim::validate
