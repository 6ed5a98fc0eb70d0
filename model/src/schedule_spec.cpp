// The schedule specs: the list, the generic checks every spec's parameters and
// constraints go through, the kernel instances (embedded kernels/instances.json), and
// dispatch to the builders. Each schedule's own spec is in src/schedules/<name>.cpp.
#include "tilesim/model/schedule_spec.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "clock.hpp"
#include "embedded_instances.hpp"
#include "evaluate.hpp"
#include "schedules/common.hpp"

namespace tilesim::model {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "int";
    case ParamType::kFlag: return "flag";
    case ParamType::kReal: return "real";
  }
  return "?";
}

const char* feature_field(Feature f) {
  switch (f) {
    case Feature::kWgmma: return "features.wgmma";
    case Feature::kTcgen05: return "features.tcgen05";
    case Feature::kTma: return "features.tma";
  }
  return "?";
}

int TileView::i(const char* key) const { return static_cast<int>(t.values.find(key)->second); }
double TileView::d(const char* key) const { return t.values.find(key)->second; }

const ParamSpec* ScheduleSpec::param(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

namespace {

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The embedded kernels/instances.json, checked against the specs: an unknown schedule,
// parameter or requirement is a build-data error, reported with the instance's index.
void attach_kernels(std::vector<ScheduleSpec>& specs) {
  const auto doc = nlohmann::json::parse(kEmbeddedInstancesJson);
  const auto& sched = doc.at("schedules");
  for (auto& s : specs)
    if (sched.contains(s.name)) s.runner = sched.at(s.name).at("runner").get<std::string>();
  int index = 0;
  for (const auto& j : doc.at("instances")) {
    const std::string where = "kernels/instances.json: instance " + std::to_string(index++);
    KernelInstance k;
    k.schedule = j.at("schedule").get<std::string>();
    auto it = std::find_if(specs.begin(), specs.end(), [&](const ScheduleSpec& s) { return s.name == k.schedule; });
    if (it == specs.end()) throw ModelError(where + ": unknown schedule '" + k.schedule + "'");
    k.tile = tile_from_json(j.at("tile"));
    for (const auto& [name, v] : k.tile.values) {
      (void)v;
      if (it->param(name) == nullptr) throw ModelError(where + ": " + k.schedule + " has no parameter '" + name + "'");
    }
    for (const auto& p : it->params) {
      const bool runtime = std::count(it->runtime_params.begin(), it->runtime_params.end(), p.name) != 0;
      if (!runtime && !k.tile.has(p.name))
        throw ModelError(where + ": tile lacks '" + p.name + "' (give every compile-time parameter, defaults too)");
    }
    k.requires_ = j.at("requires");
    for (const auto& [key, v] : k.requires_.items()) {
      (void)v;
      if (key != "head_dim" && key != "dtype" && key != "paged" && key != "max_group_rows")
        throw ModelError(where + ": unknown requirement '" + key + "'");
    }
    k.ci = j.at("ci").get<bool>();
    k.group = j.at("group").get<std::string>();
    k.model_disagrees = j.value("model_disagrees", "");
    it->kernels.push_back(std::move(k));
  }
}

std::vector<ScheduleSpec> make_specs() {
  std::vector<ScheduleSpec> s;
  s.push_back(detail::spec_gemm_sm90_ws());
  s.push_back(detail::spec_gemm_sm90_fp8());
  s.push_back(detail::spec_gemm_sm80_mma());
  s.push_back(detail::spec_gemm_sm100());
  s.push_back(detail::spec_attn_fa2());
  s.push_back(detail::spec_attn_fa3());
  s.push_back(detail::spec_attn_fa4());
  s.push_back(detail::spec_decode_splitkv());
  s.push_back(detail::spec_mla_decode());
  attach_kernels(s);
  return s;
}

bool in_domain(const ParamSpec& p, double v) {
  if (!(v >= p.min && v <= p.max)) return false;
  if (p.type == ParamType::kReal) return true;
  if (std::floor(v) != v) return false;
  if (p.type == ParamType::kFlag) return v == 0.0 || v == 1.0;
  return p.multiple_of == 0 || static_cast<int64_t>(v) % p.multiple_of == 0;
}

std::string domain_text(const ParamSpec& p) {
  std::string s;
  if (p.type == ParamType::kFlag) {
    s = "0 or 1";
  } else {
    s = (p.type == ParamType::kInt && p.multiple_of > 1 ? "a multiple of " + std::to_string(p.multiple_of) + " in "
                                                          : (p.type == ParamType::kInt ? "an integer in " : "in ")) +
        number(p.min) + ".." + number(p.max);
  }
  if (!p.range_reason.empty()) s += " (" + p.range_reason + ")";
  return s;
}

std::string rule_text(const Constraint& c) { return std::string(c.rule) + " (" + c.reason + ")"; }

}  // namespace

const std::vector<ScheduleSpec>& schedules() {
  static const std::vector<ScheduleSpec> s = make_specs();
  return s;
}

const ScheduleSpec& schedule_spec(const std::string& name) {
  for (const auto& s : schedules())
    if (s.name == name) return s;
  std::string valid;
  for (const auto& s : schedules()) valid += (valid.empty() ? "" : ", ") + s.name;
  throw ModelError("schedule: unknown '" + name + "' (valid: " + valid + ")");
}

std::string chip_support(const Profile& p, const ScheduleSpec& s) {
  for (const auto& f : s.features) {
    double have = 0.0;
    switch (f.feature) {
      case Feature::kWgmma: have = p.features.wgmma.value; break;
      case Feature::kTcgen05: have = p.features.tcgen05.value; break;
      case Feature::kTma: have = p.features.tma.value; break;
    }
    if (have == 0.0) {
      std::string name = feature_field(f.feature);
      name = name.substr(name.find('.') + 1);
      return s.name + " needs " + name + " (" + feature_field(f.feature) + " = 0 on " + p.id + ": " + f.why + ")";
    }
  }
  return "";
}

std::string chip_support(const Profile& p, const std::string& schedule) {
  return chip_support(p, schedule_spec(schedule));
}

const char* check_tile(const ScheduleSpec& s, const Tile& full, const Problem& prob, const Profile& p,
                       std::string* message) {
  for (const auto& ps : s.params) {
    const double v = full.values.find(ps.name)->second;
    if (!in_domain(ps, v)) {
      if (message) *message = ps.name + " must be " + domain_text(ps) + ", got " + number(v);
      return "shape";
    }
  }
  const TileView view{full, prob, p};
  for (const auto& c : s.constraints)
    if (!c.holds(view)) {
      if (message) *message = rule_text(c);
      return c.key;
    }
  return nullptr;
}

std::string check_kernel_rules(const ScheduleSpec& s, const Tile& full, const Problem& prob, const Profile& p) {
  const TileView view{full, prob, p};
  for (const auto& c : s.kernel_rules)
    if (!c.holds(view)) return rule_text(c);
  return "";
}

bool instance_serves(const KernelInstance& k, const Problem& prob) {
  for (const auto& [key, v] : k.requires_.items()) {
    if (key == "head_dim") {
      if (prob.head_dim != v.get<int64_t>() || prob.head_dim_v != v.get<int64_t>()) return false;
    } else if (key == "dtype") {
      if (dtype_name(prob.dtype) != v.get<std::string>()) return false;
    } else if (key == "paged") {
      if ((prob.page_size > 0) != (v.get<int>() != 0)) return false;
    } else if (key == "max_group_rows") {
      if ((prob.heads_q / prob.heads_kv) * prob.q_per_seq > v.get<int64_t>()) return false;
    }
  }
  return true;
}

bool has_kernel(const ScheduleSpec& s, const Tile& full, const Problem& prob) {
  for (const auto& k : s.kernels) {
    bool match = true;
    for (const auto& [name, v] : k.tile.values) {
      auto it = full.values.find(name);
      if (it == full.values.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match && instance_serves(k, prob)) return true;
  }
  return false;
}

Problem instance_problem(const ScheduleSpec& s, const KernelInstance& k) {
  Problem prob = s.representative;
  for (const auto& [key, v] : k.requires_.items()) {
    if (key == "head_dim") {
      prob.head_dim = prob.head_dim_v = v.get<int64_t>();
    } else if (key == "dtype") {
      prob.dtype = parse_dtype(v.get<std::string>());
    } else if (key == "paged") {
      prob.page_size = v.get<int>() != 0 ? 64 : 0;
    } else if (key == "max_group_rows") {
      // the most query rows per kv head the instance serves
      prob.heads_q = prob.heads_kv * std::max<int64_t>(1, v.get<int64_t>() / prob.q_per_seq);
    }
  }
  return prob;
}

Tile complete_tile(const std::string& schedule, const Tile& t, std::vector<std::string>* defaulted) {
  const auto& spec = schedule_spec(schedule);
  for (const auto& [k, v] : t.values) {
    (void)v;
    if (spec.param(k) == nullptr) {
      std::string valid;
      for (const auto& p : spec.params) valid += (valid.empty() ? "" : ", ") + p.name;
      throw ModelError("tile: unknown parameter '" + k + "' for " + schedule + " (valid: " + valid + ")");
    }
  }
  Tile out = t;
  std::string missing;
  for (const auto& p : spec.params) {
    if (out.has(p.name)) continue;
    if (p.has_default) {
      out.set(p.name, p.default_value);
      if (defaulted) defaulted->push_back(p.name);
    } else {
      missing += (missing.empty() ? "" : ", ") + p.name;
    }
  }
  if (!missing.empty()) throw ModelError("tile: missing " + missing + " (required by " + schedule + ")");
  return out;
}

nlohmann::json to_json(const ScheduleSpec& s) {
  nlohmann::json j;
  j["name"] = s.name;
  j["summary"] = s.summary;
  j["kind"] = problem_kind_name(s.kind);
  j["params"] = nlohmann::json::array();
  for (const auto& p : s.params) {
    nlohmann::json e{{"name", p.name},       {"type", param_type_name(p.type)}, {"min", p.min},
                     {"max", p.max},         {"description", p.description},  {"tune_values", p.tune_values},
                     {"runtime", std::count(s.runtime_params.begin(), s.runtime_params.end(), p.name) != 0}};
    if (p.multiple_of > 1) e["multiple_of"] = p.multiple_of;
    if (!p.range_reason.empty()) e["range_reason"] = p.range_reason;
    e["default"] = p.has_default ? nlohmann::json(p.default_value) : nlohmann::json(nullptr);
    j["params"].push_back(e);
  }
  auto rules = [](const std::vector<Constraint>& cs) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& c : cs) a.push_back({{"key", c.key}, {"rule", c.rule}, {"reason", c.reason}});
    return a;
  };
  j["constraints"] = rules(s.constraints);
  j["kernel_rules"] = rules(s.kernel_rules);
  j["features"] = nlohmann::json::array();
  for (const auto& f : s.features) j["features"].push_back({{"field", feature_field(f.feature)}, {"why", f.why}});
  j["runner"] = s.runner.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.runner);
  j["kernels"] = nlohmann::json::array();
  for (const auto& k : s.kernels)
    j["kernels"].push_back({{"tile", to_json(k.tile)}, {"requires", k.requires_}, {"ci", k.ci}});
  return j;
}

std::string describe(const ScheduleSpec& s) {
  std::ostringstream os;
  os << s.name << ": " << s.summary << "\n(problem kind: " << problem_kind_name(s.kind) << ")\n";
  if (!s.features.empty()) {
    os << "needs:";
    for (const auto& f : s.features) os << " " << feature_field(f.feature) << " (" << f.why << ");";
    os << "\n";
  }
  os << "parameters:\n";
  for (const auto& p : s.params) {
    os << "  " << p.name << " (" << param_type_name(p.type) << ", " << domain_text(p) << "): " << p.description;
    if (p.has_default) os << "; default " << number(p.default_value);
    if (std::count(s.runtime_params.begin(), s.runtime_params.end(), p.name)) os << "; chosen per launch";
    os << "; tune tries";
    for (double v : p.tune_values) os << " " << number(v);
    os << "\n";
  }
  if (!s.constraints.empty()) {
    os << "constraints:\n";
    for (const auto& c : s.constraints) os << "  " << c.rule << " -- " << c.reason << "\n";
  }
  if (!s.runner.empty()) {
    os << "kernels (" << s.runner << ", " << s.kernels.size() << " instances in kernels/instances.json):\n";
    for (const auto& c : s.kernel_rules) os << "  rule: " << c.rule << " -- " << c.reason << "\n";
    for (const auto& k : s.kernels)
      os << "  " << k.tile.to_string() << "  serves " << k.requires_.dump() << (k.ci ? "  [ci]" : "") << "\n";
  }
  return os.str();
}

ScheduleDesc build_schedule_impl(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                                 const ModelConstants& k, bool detailed) {
  const auto& spec = schedule_spec(schedule);
  validate(prob);
  if (spec.kind != prob.kind)
    throw ModelError("schedule " + schedule + " is for " + problem_kind_name(spec.kind) + " problems, not " +
                     problem_kind_name(prob.kind));
  const std::string why = chip_support(p, spec);
  if (!why.empty()) throw ModelError(why);
  return detail::build_checked(p, prob, spec, complete_tile(schedule, tile, nullptr), k, detailed, nullptr);
}

namespace detail {
ScheduleDesc build_checked(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const Tile& full,
                           const ModelConstants& k, bool detailed, std::string* reject) {
  std::string message;
  if (const char* key = check_tile(spec, full, prob, p, &message)) throw Infeasible(key, message);
  return build_unchecked(p, prob, spec, full, k, detailed, reject);
}

ChipTerms chip_terms(const Profile& p, const ModelConstants& k) {
  ChipTerms t;
  t.clock_mhz = p.model_clock_mhz();
  t.clock = clock_line(p, k);
  t.launch_us = p.latency.kernel_launch_us.value;
  t.l2_peak_bytes_per_s = p.chip.l2_bandwidth.value;
  t.hbm_peak_bytes_per_s = p.chip.hbm_bandwidth.value;
  t.l2_bytes_per_s = t.l2_peak_bytes_per_s * k.l2_efficiency;
  t.hbm_bytes_per_s = t.hbm_peak_bytes_per_s * k.hbm_efficiency;
  t.iteration_overhead_cycles = k.iteration_overhead_cycles;
  t.item_setup_cycles = k.item_setup_cycles;
  t.cta_launch_cycles = k.cta_launch_cycles;
  t.hbm_latency_cycles = p.latency.hbm.value;
  const double l2_bytes = p.capacity.l2.value;
  t.l2_dirty_bytes_at_start = k.l2_clean_at_start ? 0.0 : k.l2_flush_dirty_share * l2_bytes;
  t.l2_dirty_evict_bytes = k.l2_dirty_evict_l2_multiple * l2_bytes;
  t.power_known = p.has(p.power.board_limit_w) && p.has(p.power.idle_w) &&
                  p.power.board_limit_w.value > p.power.idle_w.value;
  if (t.power_known) {
    t.power_limit_w = p.power.board_limit_w.value;
    t.power_idle_w = p.power.idle_w.value;
    constexpr double kJoulesPerPicojoule = 1e-12;
    t.energy_j_per_work[static_cast<int>(Unit::kTensor)] = k.energy_tensor_pj_per_flop * kJoulesPerPicojoule;
    t.energy_j_per_work[static_cast<int>(Unit::kSmem)] = k.energy_smem_pj_per_byte * kJoulesPerPicojoule;
    t.energy_j_per_work[static_cast<int>(Unit::kL2)] = k.energy_l2_pj_per_byte * kJoulesPerPicojoule;
    t.energy_j_per_work[static_cast<int>(Unit::kHbm)] = k.energy_hbm_pj_per_byte * kJoulesPerPicojoule;
    t.energy_j_per_work[static_cast<int>(Unit::kIssue)] = k.energy_issue_pj_per_op * kJoulesPerPicojoule;
  }
  return t;
}

ScheduleDesc build_unchecked(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const Tile& full,
                             const ModelConstants& k, bool detailed, std::string* reject) {
  detail::Ctx c{p, prob, full, k, detailed, reject};
  ScheduleDesc d;
  d.loop.reserve(16);
  d.prologue.reserve(2);
  d.epilogue.reserve(4);
  d.schedule = spec.name;
  d.chip = chip_terms(p, k);
  if (prob.dtype == Dtype::kFp8) d.chip.clock.tensor_power_ratio = k.clock_fp8_tensor_power_ratio;
  d.grid.sm_count = c.sm_count();
  spec.build(c, d);
  if (reject != nullptr && !reject->empty()) return d;  // rejected by occupancy (tune)
  detail::validate_desc(d);
  return d;
}
}  // namespace detail

ScheduleDesc build_schedule(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                            const ModelConstants& k) {
  return build_schedule_impl(p, prob, schedule, tile, k, true);
}

}  // namespace tilesim::model
