// The few inline-PTX wrappers the microbenchmarks need (wgmma ordering, async-proxy
// fence, mbarrier, 1-D bulk copy). One instruction per function, named after its PTX.
#pragma once

#include <cstdint>

namespace tilesim::microbench::ptx {

__device__ __forceinline__ std::uint32_t smem_u32(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// ---- wgmma ordering ------------------------------------------------------------------
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
// Keeps the compiler from moving accumulator reads/writes across wgmma ordering points.
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }

// Shared memory written by ordinary stores, read next by the tensor cores or the copy
// engine (the async proxy), needs this fence in each writing thread before the barrier.
__device__ __forceinline__ void fence_proxy_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// Shared-memory matrix descriptor for a K-major tile in the 128-byte swizzle layout:
// rows of 128 bytes, 8-row (1024-byte) swizzle atoms stacked along M/N. The leading
// byte offset is unused for swizzled K-major tiles (set to 1 unit, as CUTLASS does).
__device__ __forceinline__ std::uint64_t smem_desc_sw128(std::uint32_t smem_addr) {
  constexpr std::uint64_t kAtomStrideBytes = 1024;  // 8 rows x 128 bytes
  std::uint64_t d = 0;
  d |= static_cast<std::uint64_t>((smem_addr & 0x3FFFF) >> 4);  // start address / 16
  d |= std::uint64_t{1} << 16;                                  // leading byte offset / 16
  d |= (kAtomStrideBytes >> 4) << 32;                           // stride byte offset / 16
  d |= std::uint64_t{1} << 62;                                  // swizzle mode: 128 B
  return d;
}

// ---- mbarrier and bulk copy ----------------------------------------------------------
__device__ __forceinline__ void mbar_init(std::uint32_t bar, std::uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void fence_mbar_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
__device__ __forceinline__ void mbar_arrive_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbar_wait(std::uint32_t bar, std::uint32_t parity) {
  asm volatile(
      "{\n.reg .pred p;\nWAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
      "@!p bra WAIT_%=;\n}" ::"r"(bar),
      "r"(parity)
      : "memory");
}
// 1-D bulk copy global -> shared, completing `bytes` of transaction on the mbarrier.
__device__ __forceinline__ void bulk_copy_g2s(std::uint32_t dst, const void* src,
                                              std::uint32_t bytes, std::uint32_t bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::
          "r"(dst),
      "l"(src), "r"(bytes), "r"(bar)
      : "memory");
}

}  // namespace tilesim::microbench::ptx
