// The profile loader (JSON text -> Profile, "base" overrides included). Accepted
// profiles must hold only finite, positive rates and a model clock (the loader's
// plausibility bounds).
#include "fuzz_util.hpp"
#include "tilesim/profile.hpp"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  try {
    const profiles::Profile p = profiles::parse_profile(fuzz::text(data, size), "fuzz.json");
    fuzz::require(std::isfinite(p.model_clock_mhz()) && p.model_clock_mhz() > 0.0, "model clock finite and > 0");
    for (const auto& f : profiles::schema::kFields)
      if (f.of(p).present) fuzz::require(std::isfinite(f.of(p).value), "every present value finite");
  } catch (const profiles::ProfileError&) {
  }
  return 0;
}
