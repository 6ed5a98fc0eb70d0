#pragma once
#include <vector>

namespace tilesim::profiles::detail {
struct EmbeddedProfile {
  const char* id;    // file stem
  const char* file;  // path relative to data/profiles
  const char* json;
};
const std::vector<EmbeddedProfile>& embedded_profiles();
}  // namespace tilesim::profiles::detail
