// gemm_sm90_ws small tiles for skinny problems (few output tiles to spread over 132 SMs),
// and split-K 2 of 128x64.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<64, 256, 64, 5, 1, 1, 1, 8>());
const Registrar reg_1(sm90::sm90_entry<64, 128, 64, 8, 1, 1, 1, 8>());
const Registrar reg_2(sm90::sm90_entry<128, 64, 64, 8, 2, 1, 1, 8>());
const Registrar reg_3(sm90::sm90_entry<64, 64, 64, 8, 1, 1, 1, 8>());
const Registrar reg_4(sm90::sm90_entry<128, 64, 64, 8, 2, 1, 1, 8>(2));
}  // namespace
}  // namespace tilesim::gemm
