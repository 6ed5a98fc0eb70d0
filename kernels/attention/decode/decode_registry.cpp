#include "decode_registry.hpp"

#include <sstream>

namespace tilesim::decode {

std::vector<DecodeInstance>& decode_instances() {
  static std::vector<DecodeInstance> instances;  // function-local: no static-order hazard
  return instances;
}

const DecodeInstance* find_decode_instance(const DecodeTile& tile) {
  for (const auto& inst : decode_instances())
    if (inst.tile == tile) return &inst;
  return nullptr;
}

std::string describe(const DecodeTile& tile) {
  std::ostringstream s;
  s << "d" << tile.head_dim << "_bn" << tile.block_n << "_st" << tile.stages << "_mt"
    << tile.m_tiles << (tile.paged ? "_paged" : "_contig") << (tile.l2_prefetch ? "_pf" : "");
  return s.str();
}

}  // namespace tilesim::decode
