// gemm_sm90_ws 128x256 raster variants and 128x192 tiles.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 16>());
const Registrar reg_1(sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 4>());
const Registrar reg_2(sm90::sm90_entry<128, 256, 64, 4, 2, 1, 1, 1>());
const Registrar reg_3(sm90::sm90_entry<128, 192, 64, 4, 2, 2, 1, 8>());
}  // namespace
}  // namespace tilesim::gemm
