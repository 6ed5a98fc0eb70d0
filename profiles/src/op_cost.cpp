// Lookups in the measured op-cost table (op_cost.hpp).
#include "tilesim/op_cost.hpp"

#include <algorithm>

namespace tilesim::profiles {

const OpKind* find_op_kind(std::string_view name) {
  for (const auto& k : kOpKinds)
    if (k.name == name) return &k;
  return nullptr;
}

namespace {
bool same_key(const OpCost& c, std::span<const OpKeyValue> key) {
  if (c.key.size() != key.size()) return false;
  for (const auto& [k, v] : key) {
    auto it = c.key.find(k);
    if (it == c.key.end() || it->second != v) return false;
  }
  return true;
}
}  // namespace

const OpCost* find_op(const std::vector<OpCost>& ops, std::string_view op, std::span<const OpKeyValue> key) {
  auto it = std::find_if(ops.begin(), ops.end(), [&](const OpCost& c) { return c.op == op && same_key(c, key); });
  return it == ops.end() ? nullptr : &*it;
}

const OpCost* find_op(const std::vector<OpCost>& ops, std::string_view op, const std::map<std::string, double>& key) {
  std::vector<OpKeyValue> kv(key.begin(), key.end());
  return find_op(ops, op, std::span<const OpKeyValue>(kv));
}

}  // namespace tilesim::profiles
