// gemm_sm90_ws 128x256 tiles, 2 consumers: cluster shape, stage count and raster group
// variants, and split-K (2, 4) of the 2-CTA recipe.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 8>());
const Registrar reg_1(sm90::sm90_entry<128, 256, 64, 4, 2, 1, 2, 8>());
const Registrar reg_2(sm90::sm90_entry<128, 256, 64, 4, 2, 1, 1, 8>());
const Registrar reg_3(sm90::sm90_entry<128, 256, 64, 3, 2, 2, 1, 8>());
const Registrar reg_4(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 1>());
const Registrar reg_5(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 8>(2));
const Registrar reg_6(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 8>(4));
}  // namespace
}  // namespace tilesim::gemm
