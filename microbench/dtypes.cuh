// Tensor-core operand types the suite measures, with the facts every benchmark of them
// needs: the name used in benchmark names, bytes per element, and the dense per-SM peak
// on Hopper (FLOP per clock per SM; the datasheet rates divided by 132 SMs x 1.83 GHz,
// see shared/REFERENCES.md: bf16/fp16 989.4 TFLOP/s -> 4096, fp8 -> 8192, tf32 -> 2048).
#pragma once

#include <cstdint>

#include "ptx/dtype.cuh"

namespace tilesim::microbench {

using ptx::DType;

struct DTypeInfo {
  const char* name;
  int bytes_per_element;
  double hopper_peak_flop_per_clk_sm;
};

constexpr DTypeInfo dtype_info(DType t) {
  switch (t) {
    case DType::bf16:
      return {"bf16", 2, 4096.0};
    case DType::fp16:
      return {"fp16", 2, 4096.0};
    case DType::e4m3:
      return {"e4m3", 1, 8192.0};
    case DType::tf32:
      return {"tf32", 4, 2048.0};
  }
  return {"?", 0, 0.0};
}

}  // namespace tilesim::microbench
