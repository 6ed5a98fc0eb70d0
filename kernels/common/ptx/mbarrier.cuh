// mbarriers: the full/empty handshakes of every producer/consumer ring (TMA and bulk
// copies complete on them through transaction bytes). Addresses are shared-window
// addresses (smem_u32). Every wrapper carries the "memory" clobber: without it the
// compiler may move ordinary shared-memory accesses across the barrier operation.
#pragma once

#include <cstdint>

namespace tilesim::ptx {

__device__ __forceinline__ void mbar_init(std::uint32_t bar, std::uint32_t arrive_count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(arrive_count) : "memory");
}
// Makes the initialised barriers visible to the async proxy (TMA) and to the other CTAs of
// the cluster before anyone (TMA, a peer's remote arrive) touches them.
__device__ __forceinline__ void fence_mbar_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
__device__ __forceinline__ void mbar_arrive_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbar_arrive(std::uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
// Arrive on the barrier at the same shared offset in CTA `cta_rank` of this cluster.
// Default semantics (release, CTA scope), as CUTLASS's ClusterBarrier does: the arrive
// only says "my wgmma reads of this stage are complete" (wgmma.wait_group already ordered
// them), while an explicit .release.cluster adds a cluster-scope fence to every arrive
// (measured slower on 2-CTA GEMM configs).
__device__ __forceinline__ void mbar_arrive_cluster(std::uint32_t bar, std::uint32_t cta_rank) {
  asm volatile(
      "{\n.reg .b32 ra;\nmapa.shared::cluster.u32 ra, %0, %1;\n"
      "mbarrier.arrive.shared::cluster.b64 _, [ra];\n}" ::"r"(bar),
      "r"(cta_rank)
      : "memory");
}
// Spins until the barrier's phase with the given parity has completed (the retry loop is
// in the PTX: try_wait and a branch, nothing else on the spin path).
__device__ __forceinline__ void mbar_wait(std::uint32_t bar, std::uint32_t parity) {
  asm volatile(
      "{\n.reg .pred p;\nWAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
      "@!p bra WAIT_%=;\n}" ::"r"(bar),
      "r"(parity)
      : "memory");
}

}  // namespace tilesim::ptx
