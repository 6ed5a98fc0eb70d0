// The --scale parser ("mufu=2,tensor=0.5") applied to a built-in profile. An accepted
// what-if chip keeps finite, positive rates and at least one SM.
#include "fuzz_util.hpp"
#include "tilesim/model/model.hpp"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  static const profiles::Profile base = profiles::builtin_profile("h100");
  profiles::Profile p = base;
  try {
    model::apply_scale(p, fuzz::text(data, size));
    for (const auto& f : profiles::schema::kFields)
      if (f.of(p).present) fuzz::require(std::isfinite(f.of(p).value), "every scaled value finite");
    fuzz::require(p.sm_count.value >= 1.0, "at least one SM");
  } catch (const model::ModelError&) {
  } catch (const profiles::ProfileError&) {
  }
  return 0;
}
