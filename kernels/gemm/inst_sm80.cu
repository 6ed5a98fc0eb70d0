// gemm_sm80_mma (Ampere-style contrast kernel) configurations.
// Registers these configurations with the runner (one translation unit per group so
// that the device build compiles them in parallel).
#include "gemm_sm80_mma.cuh"
#include "gemm_sm90_ws.cuh"

namespace tilesim::gemm {
namespace {
const Registrar reg_0(sm80::sm80_entry<128, 128, 32, 4, 2, 2>());
const Registrar reg_1(sm80::sm80_entry<128, 256, 32, 3, 2, 4>());
const Registrar reg_2(sm80::sm80_entry<128, 128, 64, 3, 2, 2>());
const Registrar reg_3(sm80::sm80_entry<256, 128, 32, 3, 4, 2>());
const Registrar reg_4(sm80::sm80_entry<64, 64, 64, 4, 2, 2>());
}  // namespace
}  // namespace tilesim::gemm
