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

std::vector<kernels::ListedInstance> instance_list() {
  std::vector<kernels::ListedInstance> out;
  for (const auto& inst : decode_instances()) {
    const DecodeTile& t = inst.tile;
    // The model's tile (splits is chosen per launch); m_tiles 16-row MMA tiles of
    // (query heads of a group) x q_per_seq bound the rows an instance serves.
    out.push_back({describe(t),
                   "decode_splitkv",
                   {{"block_n", t.block_n}, {"stages", t.stages}, {"l2_prefetch", t.l2_prefetch ? 1 : 0}},
                   {{"head_dim", t.head_dim},
                    {"dtype", "bf16"},
                    {"paged", t.paged ? 1 : 0},
                    {"max_group_rows", 16 * t.m_tiles}}});
  }
  return out;
}

}  // namespace tilesim::decode
