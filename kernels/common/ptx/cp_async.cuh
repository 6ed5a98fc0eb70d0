// cp.async (sm_80+): 16-byte global -> shared copies in commit groups, the loads of the
// mma.sync kernels' multi-stage rings.
#pragma once

#include <cstdint>

namespace tilesim::ptx {

// Through L2 only (.cg). src_bytes = 0 writes 16 zero bytes and reads nothing: rows past
// the end of a tensor land as zeros, never garbage.
__device__ __forceinline__ void cp_async_16(std::uint32_t dst, const void* src,
                                            std::uint32_t src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}
// Wait until at most kPending committed groups of this thread are still in flight.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(kPending) : "memory");
}

}  // namespace tilesim::ptx
