// gemm_sm90_ws 256x128 tiles: raster group variants, and 2-CTA clusters with the other raster.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<256, 128, 64, 4, 2, 1, 1, 1>());
const Registrar reg_1(sm90::sm90_entry<256, 128, 64, 4, 2, 1, 1, 4>());
const Registrar reg_2(sm90::sm90_entry<256, 128, 64, 4, 2, 1, 1, 16>());
const Registrar reg_3(sm90::sm90_entry<256, 128, 64, 4, 2, 1, 2, 4>());
const Registrar reg_4(sm90::sm90_entry<128, 256, 64, 4, 2, 1, 1, 4>());
}  // namespace
}  // namespace tilesim::gemm
