// Printing profiles: JSON (every number with its unit and its source spelled out) and a
// text table for people.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tilesim/profile.hpp"

namespace tilesim::profiles {

// The profile as JSON in the file schema, except that each quantity's "source" is the
// full source object (kind, citation, ...) rather than its id, so the output stands alone.
nlohmann::json to_json(const Profile& p);

// One line per quantity: path, value, unit, source kind and citation, alternatives.
std::string to_text(const Profile& p);

// Human form of a number with SI-ish grouping for big byte counts.
std::string format_value(double v);

}  // namespace tilesim::profiles
