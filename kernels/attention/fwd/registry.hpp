// The list of compiled forward-attention kernels. Each generated instance unit
// (kernels/instances.json) registers its instantiations at static-initialisation time;
// TILESIM_ALL_KERNELS decides which are generated (CI builds only the "ci" subset).
#pragma once

#include <cuda_runtime.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn_types.hpp"
#include "instance_list.hpp"

namespace tilesim::attention {

struct KernelEntry {
  std::string name;      // unique, e.g. fa3_d128_bn128_s2_pp1_io1_e0_t0
  std::string schedule;  // model schedule name: attn_fa2 | attn_fa3
  nlohmann::json tile;   // tile parameters under the model's names
  int head_dim = 0;
  // Validates the problem, does the host set-up (tensor maps, smem attribute) once and
  // returns the launch.
  std::function<std::function<void(cudaStream_t)>(const AttnArgs&)> prepare;
};

std::vector<KernelEntry>& kernel_registry();
// The registry as `--list --json` prints it (schedule, tile, requires).
std::vector<kernels::ListedInstance> instance_list();

struct KernelRegistrar {
  explicit KernelRegistrar(KernelEntry e) { kernel_registry().push_back(std::move(e)); }
};

}  // namespace tilesim::attention
