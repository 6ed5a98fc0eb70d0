// Tensor-core operand types, as named in the wgmma wrappers and the microbenchmarks.
#pragma once

namespace tilesim::ptx {

enum class DType { bf16, fp16, e4m3, tf32 };

}  // namespace tilesim::ptx
