// gemm_sm90_ws 128x128 tiles with 1 and 2 consumers (and split-K 2/4 variants), and 3
// consumers on 192-row tiles.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm90::sm90_entry<128, 128, 64, 6, 2, 1, 1, 8>());
const Registrar reg_1(sm90::sm90_entry<128, 128, 64, 6, 1, 1, 1, 8>());
const Registrar reg_2(sm90::sm90_entry<128, 128, 64, 6, 2, 2, 1, 8>());
const Registrar reg_3(sm90::sm90_entry<192, 128, 64, 4, 3, 1, 1, 8>());
const Registrar reg_4(sm90::sm90_entry<128, 128, 64, 6, 2, 1, 1, 8>(2));
const Registrar reg_5(sm90::sm90_entry<128, 128, 64, 6, 2, 1, 1, 8>(4));
const Registrar reg_6(sm90::sm90_entry<128, 128, 64, 6, 1, 1, 1, 8>(2));
}  // namespace
}  // namespace tilesim::gemm
