// MUFU queueing between softmax warps that share a sub-partition (mufu_sharing.hpp).
#include "mufu_sharing.hpp"

#include <algorithm>

namespace tilesim::model::detail {

double shared_mufu_wait_cycles(double mufu_instructions, double mufu_instruction_cycles, int other_warps,
                               double period_cycles) {
  if (other_warps <= 0 || mufu_instructions <= 0.0 || period_cycles <= 0.0) return 0.0;
  const double others_busy = other_warps * mufu_instructions * mufu_instruction_cycles / period_cycles;
  const double p_busy = std::min(1.0, others_busy);
  return mufu_instructions * p_busy * kMeanResidualServiceShare * mufu_instruction_cycles;
}

}  // namespace tilesim::model::detail
