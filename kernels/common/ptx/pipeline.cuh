// Position in a `stages`-deep producer/consumer ring of full/empty mbarriers: the slot
// index and the parity of the lap. A consumer waits on full[index] with `phase`; a
// producer waits on empty[index] with `phase ^ 1` (the first lap finds every slot free,
// because waiting on the parity of the phase before the barrier's first completes at once).
#pragma once

#include <cstdint>

namespace tilesim::ptx {

struct PipelineState {
  int index = 0;
  std::uint32_t phase = 0;

  // The state after `position` advances from the start (rings whose position carries
  // over between tiles or is addressed at an offset).
  __device__ __forceinline__ static PipelineState at(int position, int stages) {
    return {position % stages, static_cast<std::uint32_t>((position / stages) & 1)};
  }
  __device__ __forceinline__ void advance(int stages) {
    if (++index == stages) {
      index = 0;
      phase ^= 1;
    }
  }
};

}  // namespace tilesim::ptx
