// Registry of the compiled mla_decode instantiations. Each generated translation unit (from
// kernels/instances.json) registers one tile at static-initialisation time, so the runner
// sees exactly what was built.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <functional>
#include <string>
#include <vector>

#include "instance_list.hpp"
#include "mla_params.hpp"

namespace tilesim::mla {

// Device buffers the tensor maps are built over (host side, once per prepared launch).
struct MlaBuffers {
  const __nv_bfloat16* q = nullptr;        // [batch, q_per_seq, heads_q, 576]
  const __nv_bfloat16* kv_pool = nullptr;  // [num_pages, 64, 576]
  int num_pages = 0;
};

struct MlaInstance {
  MlaTile tile;
  int smem_bytes = 0;
  // Checks the problem against the instance, builds the TMA maps and returns the launch of
  // the split kernel (grid row blocks x splits x batch) and, when splits > 1, the combine.
  std::function<void(cudaStream_t)> (*prepare)(const MlaParams& p, const MlaBuffers& buf) = nullptr;
  // Query-row blocks (grid x) for `rows` query rows per sequence.
  int row_blocks(int rows) const { return (rows + tile.block_q - 1) / tile.block_q; }
};

std::vector<MlaInstance>& mla_instances();
std::string describe(const MlaTile& tile);
// The compiled instances as `--list --json` prints them (schedule, tile, requires).
std::vector<kernels::ListedInstance> instance_list();

struct MlaRegistrar {
  explicit MlaRegistrar(const MlaInstance& inst) { mla_instances().push_back(inst); }
};

}  // namespace tilesim::mla
