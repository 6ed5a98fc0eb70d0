// The representative subset, compiled in every build (CI too): one FA2 and the FA3
// default at head dims 128 and 64. Every other sweep point lives in instances_sweep_*.cu,
// compiled only with TILESIM_ALL_KERNELS=ON.
#include "instance_macros.cuh"

namespace tilesim::attention {
std::vector<KernelEntry>& kernel_registry() {
  static std::vector<KernelEntry> entries;
  return entries;
}
}  // namespace tilesim::attention

TILESIM_REGISTER_FA2(128, 128, 64, 2);
TILESIM_REGISTER_FA3(128, 128, 2, 1, 1, 0, 0);
TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 0, 0);
