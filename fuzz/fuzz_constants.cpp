// The model-constants loader (--constants file.json).
#include "fuzz_util.hpp"
#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  try {
    (void)model::parse_constants(fuzz::text(data, size), "fuzz.json");
  } catch (const model::ModelError&) {
  }
  return 0;
}
