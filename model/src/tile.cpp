// Tile parsing and printing.
#include <cmath>
#include <sstream>

#include "tilesim/model/problem.hpp"
#include "tilesim/model/tile.hpp"

namespace tilesim::model {

double Tile::get(const std::string& k) const {
  auto it = values.find(k);
  if (it == values.end()) throw ModelError("tile: missing parameter '" + k + "'");
  return it->second;
}

int Tile::geti(const std::string& k) const {
  const double v = get(k);
  if (std::floor(v) != v || std::fabs(v) > 1e9)
    throw ModelError("tile: parameter '" + k + "' must be an integer, got " + std::to_string(v));
  return static_cast<int>(v);
}

namespace {
std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream os;
  os << v;
  return os.str();
}
// -?digits[.digits], at most 18 characters.
bool plain_decimal(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  size_t digits = 0, dots = 0;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else if (s[i] == '.' && dots == 0 && digits > 0 && i + 1 < s.size()) {
      ++dots;
    } else {
      return false;
    }
  }
  return digits > 0;
}
}  // namespace

std::string Tile::to_string() const {
  std::string s;
  for (const auto& [k, v] : values) {
    if (!s.empty()) s += ",";
    s += k + "=" + format_number(v);
  }
  return s;
}

Tile parse_tile(const std::string& text) {
  Tile t;
  std::string item;
  std::istringstream is(text);
  while (std::getline(is, item, ',')) {
    if (item.empty()) throw ModelError("tile: empty entry in '" + text + "' (expected k=v,k=v)");
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw ModelError("tile: malformed entry '" + item + "' (expected name=value)");
    const std::string key = item.substr(0, eq), val = item.substr(eq + 1);
    // Plain decimal only ("128", "0.5", "-1"): "1e2", "0x80", "inf" are refused, not
    // silently read as another number.
    if (!plain_decimal(val))
      throw ModelError("tile: value of '" + key + "' is not a number in plain decimal (e.g. 128, 0.5): '" + val + "'");
    double v = 0.0;
    try {
      size_t used = 0;
      v = std::stod(val, &used);
      if (used != val.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ModelError("tile: value of '" + key + "' is not a number: '" + val + "'");
    }
    if (!std::isfinite(v)) throw ModelError("tile: value of '" + key + "' is not finite");
    if (t.has(key)) throw ModelError("tile: parameter '" + key + "' given twice");
    t.set(key, v);
  }
  if (t.values.empty()) throw ModelError("tile: empty (expected k=v,k=v)");
  return t;
}

Tile tile_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ModelError("tile: expected a JSON object, got " + j.dump());
  Tile t;
  for (const auto& [k, v] : j.items()) {
    if (v.is_boolean()) {
      t.set(k, v.get<bool>() ? 1.0 : 0.0);
    } else if (v.is_number()) {
      const double d = v.get<double>();
      if (!std::isfinite(d)) throw ModelError("tile: value of '" + k + "' is not finite");
      t.set(k, d);
    } else {
      throw ModelError("tile: value of '" + k + "' must be a number or boolean, got " + v.dump());
    }
  }
  return t;
}

nlohmann::json to_json(const Tile& t) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : t.values) {
    if (std::floor(v) == v && std::fabs(v) < 1e15)
      j[k] = static_cast<long long>(v);
    else
      j[k] = v;
  }
  return j;
}

}  // namespace tilesim::model
