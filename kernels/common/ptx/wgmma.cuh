// wgmma ordering (fence / commit / wait), operand register fences and the shared-memory
// matrix descriptor; the mma_async wrappers themselves are generated (wgmma_ops.cuh).
#pragma once

#include <cstdint>

#include "wgmma_ops.cuh"

namespace tilesim::ptx {

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(kPending) : "memory");
}

// Keeps the compiler from moving reads/writes of wgmma operands across fences and waits
// (the registers belong to the tensor core between issue and wait).
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void fence_operand(std::uint32_t& r) {
  asm volatile("" : "+r"(r)::"memory");
}
template <class T, int R>
__device__ __forceinline__ void fence_operands(T (&r)[R]) {
#pragma unroll
  for (int i = 0; i < R; ++i) fence_operand(r[i]);
}
template <class T, int R, int C>
__device__ __forceinline__ void fence_operands(T (&r)[R][C]) {
#pragma unroll
  for (int i = 0; i < R; ++i) fence_operands(r[i]);
}

// Shared-memory matrix descriptor, 128-byte swizzle (layout type 1 in bits 62-63); the
// address and both offsets are stored in 16-byte units. K-major operand: the 16-element K
// step stays inside one 128-byte swizzle row, so the leading offset is unused (16 B by
// convention, as CUTLASS does) and the stride offset is 1024 B between 8-row atoms.
// MN-major operand (e.g. V as the B of P V): leading offset = byte stride between
// 64-element (128 B) column panels, stride offset = 1024 B between 8-row groups along K.
inline constexpr std::uint32_t kSw128AtomBytes = 1024;  // 8 rows x 128 B
__device__ __forceinline__ std::uint64_t make_desc_sw128(
    std::uint32_t smem_addr, std::uint32_t lbo_bytes = 16,
    std::uint32_t sbo_bytes = kSw128AtomBytes) {
  std::uint64_t d = 0;
  d |= static_cast<std::uint64_t>((smem_addr & 0x3FFFF) >> 4);
  d |= static_cast<std::uint64_t>((lbo_bytes >> 4) & 0x3FFF) << 16;
  d |= static_cast<std::uint64_t>((sbo_bytes >> 4) & 0x3FFF) << 32;
  d |= std::uint64_t{1} << 62;
  return d;
}

}  // namespace tilesim::ptx
