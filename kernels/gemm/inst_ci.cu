// CI subset (TILESIM_ALL_KERNELS=OFF): the known-best Hopper recipe (2-CTA multicast), a 1-consumer
// no-cluster variant and one Ampere-style config. Registers these configurations with the runner
// (one translation unit per group so that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 8>());
const Registrar reg_1(sm90::sm90_entry<128, 128, 64, 6, 1, 1, 1, 8>());
const Registrar reg_2(sm80::sm80_entry<128, 128, 32, 4, 2, 2>());
}  // namespace
}  // namespace tilesim::gemm
