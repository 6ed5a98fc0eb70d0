// The one table of profile fields: JSON path, unit, what it means, and the rule its
// value must obey. The loader, the printer and the what-if scaler all walk this table,
// so a field exists in exactly one place.
#pragma once

#include <string>
#include <vector>

#include "tilesim/profile.hpp"

namespace tilesim::profiles::detail {

enum class Rule {
  kPositive,     // rates, clocks, latencies, most capacities: > 0
  kNonNegative,  // capacities a chip may lack (TMEM): >= 0
  kFlag,         // 0 or 1
};

struct FieldSpec {
  const char* group;  // JSON object holding it ("" for top level)
  const char* name;   // key inside the group
  const char* unit;
  const char* description;
  Rule rule;
  bool optional;
  Quantity& (*get)(Profile&);
};

const std::vector<FieldSpec>& field_specs();

// The values a field may plausibly take on any GPU (both ends; a few orders of
// magnitude around today's chips), by unit, and whether it counts whole things.
struct PlausibleRange {
  double lo;
  double hi;
  bool integer;
};
PlausibleRange plausible_range(const FieldSpec& f);
// "" when v is plausible for f, else why not (with the range and unit).
std::string implausible(const FieldSpec& f, double v);
std::string path_of(const FieldSpec& f);

}  // namespace tilesim::profiles::detail
