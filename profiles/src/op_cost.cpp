// Lookups in the measured op-cost table (op_cost.hpp).
#include "tilesim/op_cost.hpp"

#include <algorithm>

namespace tilesim::profiles {

const OpKind* find_op_kind(std::string_view name) {
  for (const auto& k : kOpKinds)
    if (k.name == name) return &k;
  return nullptr;
}

const OpCost* find_op(const std::vector<OpCost>& ops, std::string_view op, const std::map<std::string, double>& key) {
  auto it = std::find_if(ops.begin(), ops.end(), [&](const OpCost& c) { return c.op == op && c.key == key; });
  return it == ops.end() ? nullptr : &*it;
}

}  // namespace tilesim::profiles
