// Strict JSON -> Profile. Every error names the origin (file) and the field path.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tilesim/input_file.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::profiles {
namespace {

using nlohmann::json;

const std::set<std::string> kSourceKinds = {"datasheet", "paper", "published", "measured", "derived", "assumed"};
// Keys of the top level besides the quantities and their groups (schema::kFields).
const std::set<std::string> kMetadataKeys = {"schema", "id", "name", "arch", "family", "base", "sources", "comment",
                                             "ops"};
constexpr const char* kSchema = "tilesim.profile.v1";

// The objects that group quantities ("clocks", ...), in table order.
const std::vector<std::string>& groups() {
  static const std::vector<std::string> g = [] {
    std::vector<std::string> out;
    for (const auto& f : schema::kFields) {
      const std::string group(fields::group_of(f.name));
      if (!group.empty() && std::find(out.begin(), out.end(), group) == out.end()) out.push_back(group);
    }
    return out;
  }();
  return g;
}

bool is_group(const std::string& key) {
  return std::find(groups().begin(), groups().end(), key) != groups().end();
}

bool is_top_level_quantity(const std::string& key) {
  return key.find('.') == std::string::npos && fields::contains(schema::kFields, key);
}

[[noreturn]] void fail(const std::string& origin, const std::string& path, const std::string& what) {
  throw ProfileError(origin + ": " + (path.empty() ? std::string("") : "field '" + path + "': ") + what);
}

std::string type_name(const json& j) { return j.type_name(); }

std::string get_string(const json& obj, const std::string& key, const std::string& origin,
                       const std::string& path, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) fail(origin, path, "missing");
    return "";
  }
  if (!it->is_string()) fail(origin, path, "must be a string, got " + type_name(*it));
  return it->get<std::string>();
}

double get_number(const json& j, const std::string& origin, const std::string& path) {
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  if (!j.is_number()) fail(origin, path, "must be a number, got " + type_name(j));
  const double v = j.get<double>();
  if (!std::isfinite(v)) fail(origin, path, "must be finite");
  return v;
}

// Architectures a profile may name (compute capability of NVIDIA GPUs with tensor cores).
const std::set<std::string> kArchs = {"sm_70",  "sm_72",   "sm_75",  "sm_80",   "sm_86",  "sm_87",
                                      "sm_89",  "sm_90",   "sm_90a", "sm_100",  "sm_100a", "sm_101",
                                      "sm_103", "sm_103a", "sm_110", "sm_120",  "sm_121"};

Quantity parse_quantity(const json& j, const ProfileField& spec, const std::string& origin,
                        const std::string& path, const std::map<std::string, Source>& sources) {
  if (!j.is_object()) fail(origin, path, "must be an object {value, unit, source}, got " + type_name(j));
  static const std::set<std::string> keys = {"value", "unit", "source", "note", "alternatives"};
  for (const auto& [k, _] : j.items())
    if (!keys.count(k)) fail(origin, path + "." + k, "unknown key");
  Quantity q;
  q.present = true;
  if (!j.contains("value")) fail(origin, path + ".value", "missing");
  q.value = get_number(j.at("value"), origin, path + ".value");
  const std::string why = fields::check(spec, q.value);
  if (!why.empty()) fail(origin, path + ".value", why);
  q.unit = get_string(j, "unit", origin, path + ".unit", true);
  if (q.unit != spec.unit.symbol)
    fail(origin, path + ".unit", "must be '" + std::string(spec.unit.symbol) + "', got '" + q.unit + "'");
  q.source = get_string(j, "source", origin, path + ".source", true);
  if (!sources.count(q.source)) fail(origin, path + ".source", "unknown source id '" + q.source + "'");
  q.note = get_string(j, "note", origin, path + ".note", false);
  if (j.contains("alternatives")) {
    const json& alts = j.at("alternatives");
    if (!alts.is_array()) fail(origin, path + ".alternatives", "must be an array");
    for (std::size_t i = 0; i < alts.size(); ++i) {
      const std::string ap = path + ".alternatives[" + std::to_string(i) + "]";
      const json& a = alts[i];
      if (!a.is_object()) fail(origin, ap, "must be an object {value, source, note}");
      for (const auto& [k, _] : a.items())
        if (k != "value" && k != "source" && k != "note") fail(origin, ap + "." + k, "unknown key");
      Alternative alt;
      if (!a.contains("value")) fail(origin, ap + ".value", "missing");
      alt.value = get_number(a.at("value"), origin, ap + ".value");
      alt.source = get_string(a, "source", origin, ap + ".source", true);
      if (!sources.count(alt.source)) fail(origin, ap + ".source", "unknown source id '" + alt.source + "'");
      alt.note = get_string(a, "note", origin, ap + ".note", false);
      q.alternatives.push_back(alt);
    }
  }
  return q;
}

std::map<std::string, Source> parse_sources(const json& root, const std::string& origin) {
  std::map<std::string, Source> out;
  if (!root.contains("sources")) return out;
  const json& s = root.at("sources");
  if (!s.is_object()) fail(origin, "sources", "must be an object of id -> source");
  for (const auto& [id, j] : s.items()) {
    const std::string path = "sources." + id;
    if (!j.is_object()) fail(origin, path, "must be an object");
    static const std::set<std::string> keys = {"kind", "citation", "device", "date", "tool"};
    for (const auto& [k, _] : j.items())
      if (!keys.count(k)) fail(origin, path + "." + k, "unknown key");
    Source src;
    src.id = id;
    src.kind = get_string(j, "kind", origin, path + ".kind", true);
    if (!kSourceKinds.count(src.kind))
      fail(origin, path + ".kind", "must be one of datasheet, paper, published, measured, derived, assumed; got '" + src.kind + "'");
    src.citation = get_string(j, "citation", origin, path + ".citation", true);
    const bool measured = src.kind == "measured";
    src.device = get_string(j, "device", origin, path + ".device", measured);
    src.date = get_string(j, "date", origin, path + ".date", measured);
    src.tool = get_string(j, "tool", origin, path + ".tool", measured);
    out[id] = src;
  }
  return out;
}

// "ops": [{"op", "key": {...}, "value", "unit": "cycles", "source", "note"}, ...]. Each entry
// replaces an entry of `ops` (the base's) with the same op and key, else is added.
void parse_ops(const json& root, const std::string& origin, const std::map<std::string, Source>& sources,
               std::vector<OpCost>& ops) {
  if (!root.contains("ops")) return;
  const json& list = root.at("ops");
  if (!list.is_array()) fail(origin, "ops", "must be an array of measured op costs");
  std::vector<OpCost> own;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "ops[" + std::to_string(i) + "]";
    const json& e = list[i];
    if (!e.is_object()) fail(origin, path, "must be an object {op, key, value, unit, source}");
    static const std::set<std::string> keys = {"op", "key", "value", "unit", "source", "note"};
    for (const auto& [k, _] : e.items())
      if (!keys.count(k)) fail(origin, path + "." + k, "unknown key");
    OpCost c;
    c.op = get_string(e, "op", origin, path + ".op", true);
    const OpKind* kind = find_op_kind(c.op);
    if (kind == nullptr) {
      std::string known;
      for (const auto& k : kOpKinds) known += (known.empty() ? "" : ", ") + std::string(k.name);
      fail(origin, path + ".op", "unknown op '" + c.op + "' (known: " + known + ")");
    }
    if (!e.contains("key") || !e.at("key").is_object()) fail(origin, path + ".key", "missing or not an object");
    for (const auto& [k, v] : e.at("key").items()) {
      if (std::find(kind->keys.begin(), kind->keys.end(), k) == kind->keys.end())
        fail(origin, path + ".key." + k, "not a key of op '" + c.op + "'");
      c.key[k] = get_number(v, origin, path + ".key." + k);
    }
    for (const auto& k : kind->keys)
      if (!c.key.count(std::string(k))) fail(origin, path + ".key." + std::string(k), "missing");
    if (!e.contains("value")) fail(origin, path + ".value", "missing");
    c.cycles = get_number(e.at("value"), origin, path + ".value");
    const std::string why = fields::check(schema::kCycles, fields::Rule::kPositive, c.cycles);
    if (!why.empty()) fail(origin, path + ".value", why);
    const std::string unit = get_string(e, "unit", origin, path + ".unit", true);
    if (unit != schema::kCycles.symbol)
      fail(origin, path + ".unit", "must be '" + std::string(schema::kCycles.symbol) + "', got '" + unit + "'");
    c.source = get_string(e, "source", origin, path + ".source", true);
    if (!sources.count(c.source)) fail(origin, path + ".source", "unknown source id '" + c.source + "'");
    c.note = get_string(e, "note", origin, path + ".note", false);
    if (std::any_of(own.begin(), own.end(), [&](const OpCost& o) { return o.op == c.op && o.key == c.key; }))
      fail(origin, path, "a second entry for op '" + c.op + "' with the same key");
    own.push_back(std::move(c));
  }
  for (auto& c : own) {
    auto same = std::find_if(ops.begin(), ops.end(), [&](const OpCost& o) { return o.op == c.op && o.key == c.key; });
    if (same != ops.end()) *same = std::move(c);
    else ops.push_back(std::move(c));
  }
}

}  // namespace

Profile parse_profile(const std::string& json_text, const std::string& origin) {
  json root;
  try {
    root = parse_json_strict(json_text, origin);
  } catch (const InputFileError& e) {
    throw ProfileError(e.what());
  }
  if (!root.is_object()) fail(origin, "", "top level must be a JSON object");
  for (const auto& [k, _] : root.items())
    if (!kMetadataKeys.count(k) && !is_group(k) && !is_top_level_quantity(k)) fail(origin, k, "unknown key");
  const std::string schema = get_string(root, "schema", origin, "schema", true);
  if (schema != kSchema) fail(origin, "schema", "must be '" + std::string(kSchema) + "', got '" + schema + "'");

  const std::string base = get_string(root, "base", origin, "base", false);
  Profile p;
  if (!base.empty()) {
    try {
      p = builtin_profile(base);  // the overrides below replace its numbers one by one
    } catch (const ProfileError&) {
      std::string ids;
      for (const auto& id : builtin_ids()) ids += (ids.empty() ? "" : ", ") + id;
      fail(origin, "base", "'" + base + "' is not a built-in profile (base names one of: " + ids + ")");
    }
    p.base = p.id;
  }
  auto own_sources = parse_sources(root, origin);
  for (auto& [id, s] : own_sources) p.sources[id] = s;

  p.id = get_string(root, "id", origin, "id", true);
  if (p.id.empty()) fail(origin, "id", "must not be empty");
  const bool partial = !base.empty();
  auto str_or_base = [&](const char* key, std::string& dst) {
    std::string v = get_string(root, key, origin, key, !partial);
    if (!v.empty() || !partial) dst = v;
  };
  str_or_base("name", p.name);
  str_or_base("arch", p.arch);
  str_or_base("family", p.family);
  if (!kArchs.count(p.arch)) {
    std::string known;
    for (const auto& a : kArchs) known += (known.empty() ? "" : ", ") + a;
    fail(origin, "arch", "unknown architecture '" + p.arch + "' (known: " + known + ")");
  }
  p.origin = origin;

  for (const auto& g : groups()) {
    if (!root.contains(g)) continue;
    if (!root.at(g).is_object()) fail(origin, g, "must be an object");
    for (const auto& [k, _] : root.at(g).items())
      if (!fields::contains(schema::kFields, g + "." + k)) fail(origin, g + "." + k, "unknown key");
  }
  for (const auto& spec : schema::kFields) {
    const std::string path(spec.name);
    const std::string group(fields::group_of(spec.name));
    const json* holder = &root;
    if (!group.empty()) {
      auto g = root.find(group);
      if (g == root.end()) {
        if (spec.optional || partial) continue;
        fail(origin, group, "missing");
      }
      holder = &*g;
    }
    auto it = holder->find(std::string(fields::key_of(spec.name)));
    if (it == holder->end()) {
      if (spec.optional || partial) continue;
      fail(origin, path, "missing");
    }
    spec.of(p) = parse_quantity(*it, spec, origin, path, p.sources);
  }
  parse_ops(root, origin, p.sources, p.ops);
  // Cross-field sanity that a typo would break.
  if (p.capacity.smem_per_block.value > p.capacity.smem_per_sm.value)
    fail(origin, "capacity.smem_per_block", "exceeds capacity.smem_per_sm");
  if (p.clocks.tensor_spec_mhz.value > p.clocks.max_boost_mhz.value)
    fail(origin, "clocks.tensor_spec", "exceeds clocks.max_boost");
  return p;
}

Profile load_profile_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path);
  } catch (const InputFileError& e) {
    throw ProfileError(std::string(e.what()) + " (expected a profile .json)");
  }
  return parse_profile(text, path);
}

const ProfileField& field_at(const std::string& path) {
  for (const auto& f : schema::kFields)
    if (f.name == path) return f;
  throw ProfileError("unknown profile field '" + path + "'");
}

Quantity& field(Profile& p, const std::string& path) { return field_at(path).of(p); }

}  // namespace tilesim::profiles
