// The list that the generated instance units (kernels/instances.json) register into, and
// its `--list --json` form.
#include "registry.hpp"

namespace tilesim::attention {
std::vector<KernelEntry>& kernel_registry() {
  static std::vector<KernelEntry> entries;
  return entries;
}

std::vector<kernels::ListedInstance> instance_list() {
  std::vector<kernels::ListedInstance> out;
  for (const auto& k : kernel_registry())
    out.push_back({k.name, k.schedule, k.tile, {{"head_dim", k.head_dim}, {"dtype", "bf16"}}});
  return out;
}
}  // namespace tilesim::attention
