#include "mla_registry.hpp"

#include <sstream>

namespace tilesim::mla {

std::vector<MlaInstance>& mla_instances() {
  static std::vector<MlaInstance> instances;  // function-local: no static-order hazard
  return instances;
}

std::string describe(const MlaTile& tile) {
  std::ostringstream s;
  s << (tile.kv_on_m ? "kv_on_m" : "heads_on_m") << "_bq" << tile.block_q << "_bn" << tile.block_n << "_st"
    << tile.stages;
  return s.str();
}

std::vector<kernels::ListedInstance> instance_list() {
  std::vector<kernels::ListedInstance> out;
  for (const auto& inst : mla_instances()) {
    const MlaTile& t = inst.tile;
    out.push_back({describe(t),
                   "mla_decode",
                   {{"block_n", t.block_n}, {"stages", t.stages}, {"kv_on_m", t.kv_on_m}, {"block_q", t.block_q}},
                   {{"dtype", "bf16"}, {"paged", 1}}});
  }
  return out;
}

}  // namespace tilesim::mla
