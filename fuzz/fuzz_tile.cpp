// The --tile parser ("block_m=128,block_n=256,..."). An accepted tile prints as text that
// parses back to the same tile.
#include "fuzz_util.hpp"
#include "tilesim/model/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  try {
    const model::Tile t = model::parse_tile(fuzz::text(data, size));
    const std::string back = t.to_string();
    fuzz::require(model::parse_tile(back).to_string() == back, "to_string round-trips through parse_tile");
  } catch (const model::ModelError&) {
  }
  return 0;
}
