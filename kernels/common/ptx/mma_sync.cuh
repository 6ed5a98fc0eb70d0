// mma.sync (sm_80+ warp-level tensor-core MMA) and the bf16 packing of its fragments.
#pragma once

#include <cstdint>

namespace tilesim::ptx {

// d[0..3] += A * B for one m16n8k16 tile, bf16 inputs, fp32 accumulators. d may point into
// a larger register array at a constant offset (the compiler keeps it in registers).
__device__ __forceinline__ void mma_m16n8k16_bf16(float* d, const std::uint32_t (&a)[4],
                                                  std::uint32_t b0, std::uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two fp32 -> one bf16x2 register, `lo` in the low half (round to nearest even).
__device__ __forceinline__ std::uint32_t pack_bf16x2(float lo, float hi) {
  std::uint32_t r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

}  // namespace tilesim::ptx
