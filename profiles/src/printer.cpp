#include <cmath>
#include <cstdio>
#include <sstream>

#include "tilesim/profile_io.hpp"

namespace tilesim::profiles {

using nlohmann::json;

namespace {

json source_json(const Profile& p, const std::string& id) {
  json s;
  s["id"] = id;
  auto it = p.sources.find(id);
  if (it == p.sources.end()) return s;
  s["kind"] = it->second.kind;
  s["citation"] = it->second.citation;
  if (!it->second.device.empty()) s["device"] = it->second.device;
  if (!it->second.date.empty()) s["date"] = it->second.date;
  if (!it->second.tool.empty()) s["tool"] = it->second.tool;
  return s;
}

}  // namespace

std::string format_value(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
  }
  return buf;
}

json to_json(const Profile& p) {
  json j;
  j["schema"] = "tilesim.profile.v1";
  j["id"] = p.id;
  j["name"] = p.name;
  j["arch"] = p.arch;
  j["family"] = p.family;
  if (!p.base.empty()) j["base"] = p.base;
  j["origin"] = p.origin;
  for (const auto& spec : schema::kFields) {
    const Quantity& q = spec.of(p);
    if (!q.present) continue;
    json qj;
    qj["value"] = q.value;
    qj["unit"] = q.unit;
    qj["source"] = source_json(p, q.source);
    if (!q.note.empty()) qj["note"] = q.note;
    if (!q.alternatives.empty()) {
      qj["alternatives"] = json::array();
      for (const auto& a : q.alternatives) {
        json aj{{"value", a.value}, {"unit", q.unit}, {"source", source_json(p, a.source)}};
        if (!a.note.empty()) aj["note"] = a.note;
        qj["alternatives"].push_back(aj);
      }
    }
    const std::string group(fields::group_of(spec.name)), key(fields::key_of(spec.name));
    if (group.empty()) {
      j[key] = qj;
    } else {
      j[group][key] = qj;
    }
  }
  if (!p.ops.empty()) {
    j["ops"] = json::array();
    for (const auto& c : p.ops) {
      json oj{{"op", c.op}, {"key", c.key}, {"value", c.cycles}, {"unit", std::string(schema::kCycles.symbol)},
              {"source", source_json(p, c.source)}};
      if (!c.note.empty()) oj["note"] = c.note;
      j["ops"].push_back(oj);
    }
  }
  return j;
}

namespace {
// "head_dim=128 block_n=128 ..." in the op kind's key order.
std::string key_text(const OpCost& c) {
  std::string s;
  const OpKind* kind = find_op_kind(c.op);
  if (kind == nullptr) return s;
  for (const auto& k : kind->keys) {
    auto it = c.key.find(std::string(k));
    if (it == c.key.end()) continue;
    if (!s.empty()) s += ' ';
    s.append(k);
    s += '=';
    s += format_value(it->second);
  }
  return s;
}
}  // namespace

std::string to_text(const Profile& p) {
  std::ostringstream out;
  out << p.name << " (" << p.id << ", " << p.arch << ", " << p.family << ")";
  if (!p.base.empty()) out << ", based on " << p.base;
  out << "\n  from " << p.origin << "\n\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-34s %16s  %-12s %s\n", "field", "value", "unit", "source");
  out << line;
  for (const auto& spec : schema::kFields) {
    const Quantity& q = spec.of(p);
    if (!q.present) continue;
    auto it = p.sources.find(q.source);
    std::string src = q.source;
    if (it != p.sources.end()) src = it->second.kind + ": " + it->second.citation;
    std::snprintf(line, sizeof line, "  %-34s %16s  %-12s %s\n", std::string(spec.name).c_str(),
                  format_value(q.value).c_str(), q.unit.c_str(), src.c_str());
    out << line;
    if (!q.note.empty()) out << "  " << std::string(36, ' ') << "note: " << q.note << "\n";
    for (const auto& a : q.alternatives) {
      auto ia = p.sources.find(a.source);
      out << "  " << std::string(36, ' ') << "also " << format_value(a.value) << " " << q.unit << " ("
          << (ia != p.sources.end() ? ia->second.kind + ": " + ia->second.citation : a.source) << ")"
          << (a.note.empty() ? "" : "; " + a.note) << "\n";
    }
  }
  if (!p.ops.empty()) {
    out << "\n  measured op costs (cycles per main-loop iteration of one warpgroup; see op_cost.hpp):\n";
    for (const auto& c : p.ops) {
      std::snprintf(line, sizeof line, "  %-22s %10s  %s [%s]\n", c.op.c_str(), format_value(c.cycles).c_str(),
                    key_text(c).c_str(), c.source.c_str());
      out << line;
    }
  }
  out << "\n  sources:\n";
  for (const auto& [id, s] : p.sources) {
    out << "    " << id << " [" << s.kind << "] " << s.citation;
    if (!s.device.empty()) out << " (device " << s.device << ", " << s.date << ", " << s.tool << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace tilesim::profiles
