// A tile: named integer/real parameters of a schedule ("block_m=128,block_n=256,...").
// Names per schedule are declared by the schedule specs (schedule_spec.hpp).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tilesim::model {

struct Tile {
  std::map<std::string, double> values;  // ordered: printing is stable

  bool has(const std::string& k) const { return values.count(k) != 0; }
  double get(const std::string& k) const;  // throws ModelError if absent
  int geti(const std::string& k) const;    // get() as int (checked integral)
  void set(const std::string& k, double v) { values[k] = v; }
  std::string to_string() const;           // "block_m=128,block_n=256"
  bool operator==(const Tile& o) const { return values == o.values; }
};

// "k=v,k=v". Throws ModelError on a malformed entry, naming it.
Tile parse_tile(const std::string& text);
// {"block_m": 128, ...}; numbers or booleans. Throws ModelError on anything else.
Tile tile_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Tile& t);

}  // namespace tilesim::model
