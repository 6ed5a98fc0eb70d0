// The value check shared by every field table (fields.hpp).
#include "tilesim/fields.hpp"

#include <cmath>

#include "tilesim/input_file.hpp"

namespace tilesim::fields {

std::string check(const Unit& unit, Rule rule, double v) {
  if (!std::isfinite(v)) return "must be finite";
  switch (rule) {
    case Rule::kAny:
      break;
    case Rule::kPositive:
      if (!(v > 0.0)) return "must be > 0, got " + short_number(v);
      break;
    case Rule::kNonNegative:
      if (v < 0.0) return "must be >= 0, got " + short_number(v);
      break;
    case Rule::kFlag:
      if (v != 0.0 && v != 1.0) return "must be a flag (true/false or 0/1)";
      break;
  }
  const std::string u(unit.symbol);
  if (v < unit.lo || v > unit.hi)
    return std::string(v < unit.lo ? "implausibly small" : "implausibly large") + " value " +
           short_number(v) + " " + u + ", out of range (plausible range [" + short_number(unit.lo) +
           ", " + short_number(unit.hi) + "] " + u + ")";
  if (unit.integer && std::floor(v) != v) return "must be a whole number, got " + short_number(v);
  return "";
}

}  // namespace tilesim::fields
