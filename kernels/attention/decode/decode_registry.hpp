// Registry of the compiled decode_splitkv instantiations. Each generated translation unit
// (from kernels/instances.json) registers one tile at static-initialisation time, so the runner
// sees exactly what was built: every sweep tile with TILESIM_ALL_KERNELS=ON, a
// representative pair (contiguous + paged) in CI builds.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "decode_params.hpp"
#include "instance_list.hpp"

namespace tilesim::decode {

struct DecodeInstance {
  DecodeTile tile;
  int smem_bytes = 0;
  // Launches the split kernel (grid splits x heads_kv x batch) and, when p.splits > 1,
  // the combine kernel. Throws CudaError on a launch error.
  void (*launch)(const DecodeParams& p, cudaStream_t stream) = nullptr;
  // Resident CTAs per SM for this kernel (occupancy API, after the smem opt-in).
  int (*ctas_per_sm)() = nullptr;
};

std::vector<DecodeInstance>& decode_instances();
const DecodeInstance* find_decode_instance(const DecodeTile& tile);
std::string describe(const DecodeTile& tile);
// The compiled instances as `--list --json` prints them (schedule, tile, requires).
std::vector<kernels::ListedInstance> instance_list();

struct DecodeRegistrar {
  explicit DecodeRegistrar(const DecodeInstance& inst) { decode_instances().push_back(inst); }
};

}  // namespace tilesim::decode
