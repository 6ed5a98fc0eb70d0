// Inline-PTX wrappers for the fifth-generation tensor cores (tcgen05, sm_100a only):
// tensor-memory allocation, tcgen05.mma in the forms the suite measures, commit to an
// mbarrier, tensor-memory loads and stores, and the descriptors they take. One PTX
// instruction per function, named after it. Written from the PTX ISA 8.7/9.0 chapters
// "Tensor Core 5th Generation Family Instructions" (tcgen05.alloc/dealloc/mma/commit/ld/st,
// the instruction descriptor table and the shared memory descriptor table).
#pragma once

#include <cstdint>

namespace tilesim::microbench::tc5 {

// ---- descriptors ---------------------------------------------------------------------
// Instruction descriptor (32 bits) for .kind::f16 / .kind::tf32 / .kind::f8f6f4:
//   [4,6) D format (1 = F32), [7,10) A format, [10,13) B format, bit 15/16 A/B major
//   (0 = K-major), [17,23) N >> 3, [24,29) M >> 4; dense, no negation, no saturation.
struct Format {
  // .kind::f16
  static constexpr std::uint32_t kF16 = 0, kBf16 = 1;
  // .kind::tf32
  static constexpr std::uint32_t kTf32 = 2;
  // .kind::f8f6f4 (fp4/fp6 operands one per byte in shared memory)
  static constexpr std::uint32_t kE4m3 = 0, kE5m2 = 1, kE2m3 = 3, kE3m2 = 4, kE2m1 = 5;
};
constexpr std::uint32_t kDFormatF32 = 1;

constexpr std::uint32_t instr_desc(std::uint32_t ab_format, int m, int n) {
  return (kDFormatF32 << 4) | (ab_format << 7) | (ab_format << 10) |
         (static_cast<std::uint32_t>(n >> 3) << 17) | (static_cast<std::uint32_t>(m >> 4) << 24);
}
static_assert(instr_desc(Format::kBf16, 128, 256) == ((1u << 4) | (1u << 7) | (1u << 10) | (32u << 17) | (8u << 24)),
              "instruction descriptor fields as in the PTX ISA table");

// Shared-memory matrix descriptor (64 bits) for a K-major operand in the 128-byte swizzle:
// [0,14) start address >> 4, [16,30) leading byte offset >> 4 (unused for swizzled K-major;
// 1 as CUTLASS sets it), [32,46) stride byte offset >> 4 (1024: one 8-row atom),
// [46,49) fixed 0b001 (the tcgen05 descriptor version), [61,64) swizzle mode 2 = 128 B.
__device__ __forceinline__ std::uint64_t smem_desc_sw128(std::uint32_t smem_addr) {
  std::uint64_t d = 0;
  d |= static_cast<std::uint64_t>((smem_addr & 0x3FFFF) >> 4);
  d |= std::uint64_t{1} << 16;
  d |= std::uint64_t{1024 >> 4} << 32;
  d |= std::uint64_t{1} << 46;
  d |= std::uint64_t{2} << 61;
  return d;
}

// Tensor-memory address: lane in bits [16,32), column in [0,16).
__device__ __forceinline__ std::uint32_t tmem_addr(std::uint32_t base, int lane, int col) {
  return base + (static_cast<std::uint32_t>(lane) << 16) + static_cast<std::uint32_t>(col);
}

// ---- allocation (one whole warp; for cta_group::2 one warp in each CTA of the pair) ---
template <int kCtaGroup>
__device__ __forceinline__ void alloc(std::uint32_t dst_smem, std::uint32_t ncols) {
  if constexpr (kCtaGroup == 1)
    asm volatile("tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [%0], %1;" ::"r"(dst_smem), "r"(ncols)
                 : "memory");
  else
    asm volatile("tcgen05.alloc.cta_group::2.sync.aligned.shared::cta.b32 [%0], %1;" ::"r"(dst_smem), "r"(ncols)
                 : "memory");
}
template <int kCtaGroup>
__device__ __forceinline__ void relinquish_alloc_permit() {
  if constexpr (kCtaGroup == 1)
    asm volatile("tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned;" ::: "memory");
  else
    asm volatile("tcgen05.relinquish_alloc_permit.cta_group::2.sync.aligned;" ::: "memory");
}
template <int kCtaGroup>
__device__ __forceinline__ void dealloc(std::uint32_t taddr, std::uint32_t ncols) {
  if constexpr (kCtaGroup == 1)
    asm volatile("tcgen05.dealloc.cta_group::1.sync.aligned.b32 %0, %1;" ::"r"(taddr), "r"(ncols) : "memory");
  else
    asm volatile("tcgen05.dealloc.cta_group::2.sync.aligned.b32 %0, %1;" ::"r"(taddr), "r"(ncols) : "memory");
}

// ---- ordering ------------------------------------------------------------------------
__device__ __forceinline__ void fence_before_thread_sync() {
  asm volatile("tcgen05.fence::before_thread_sync;" ::: "memory");
}
__device__ __forceinline__ void fence_after_thread_sync() {
  asm volatile("tcgen05.fence::after_thread_sync;" ::: "memory");
}
// Arrives once on the mbarrier when every tcgen05.mma this thread issued before has
// completed.
template <int kCtaGroup>
__device__ __forceinline__ void commit(std::uint32_t mbar) {
  if constexpr (kCtaGroup == 1)
    asm volatile("tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [%0];" ::"r"(mbar)
                 : "memory");
  else
    asm volatile("tcgen05.commit.cta_group::2.mbarrier::arrive::one.shared::cluster.b64 [%0];" ::"r"(mbar)
                 : "memory");
}

// ---- MMA -----------------------------------------------------------------------------
enum class Kind { f16, tf32, f8f6f4 };

// D[tmem] (+)= A * B. A from shared memory (descriptor) or, kATmem, from tensor memory.
template <Kind kKind, int kCtaGroup, bool kATmem>
__device__ __forceinline__ void mma(std::uint32_t d_tmem, std::uint64_t a_desc, std::uint32_t a_tmem,
                                    std::uint64_t b_desc, std::uint32_t idesc, std::uint32_t accumulate) {
#define TILESIM_TC5_MMA(CG, KIND, A)                                                                       \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %4, 0;\n"                                                 \
               "tcgen05.mma.cta_group::" #CG ".kind::" #KIND " [%0], " A ", %2, %3, p;\n}" ::"r"(d_tmem), \
               "l"(a_desc), "l"(b_desc), "r"(idesc), "r"(accumulate), "r"(a_tmem)                          \
               : "memory")
  // Operand %1 is the A descriptor, %5 the A tensor-memory address.
  if constexpr (kCtaGroup == 1 && kKind == Kind::f16 && !kATmem) TILESIM_TC5_MMA(1, f16, "%1");
  else if constexpr (kCtaGroup == 1 && kKind == Kind::f16) TILESIM_TC5_MMA(1, f16, "[%5]");
  else if constexpr (kCtaGroup == 1 && kKind == Kind::tf32 && !kATmem) TILESIM_TC5_MMA(1, tf32, "%1");
  else if constexpr (kCtaGroup == 1 && kKind == Kind::tf32) TILESIM_TC5_MMA(1, tf32, "[%5]");
  else if constexpr (kCtaGroup == 1 && kKind == Kind::f8f6f4 && !kATmem) TILESIM_TC5_MMA(1, f8f6f4, "%1");
  else if constexpr (kCtaGroup == 1 && kKind == Kind::f8f6f4) TILESIM_TC5_MMA(1, f8f6f4, "[%5]");
  else if constexpr (kCtaGroup == 2 && kKind == Kind::f16 && !kATmem) TILESIM_TC5_MMA(2, f16, "%1");
  else if constexpr (kCtaGroup == 2 && kKind == Kind::f16) TILESIM_TC5_MMA(2, f16, "[%5]");
  else if constexpr (kCtaGroup == 2 && kKind == Kind::tf32 && !kATmem) TILESIM_TC5_MMA(2, tf32, "%1");
  else if constexpr (kCtaGroup == 2 && kKind == Kind::tf32) TILESIM_TC5_MMA(2, tf32, "[%5]");
  else if constexpr (kCtaGroup == 2 && kKind == Kind::f8f6f4 && !kATmem) TILESIM_TC5_MMA(2, f8f6f4, "%1");
  else TILESIM_TC5_MMA(2, f8f6f4, "[%5]");
#undef TILESIM_TC5_MMA
}

// ---- tensor-memory loads and stores (one warp: its 32 lanes, 32-bit columns) ---------
// 32 lanes x 16 columns x 32 bit per instruction (2 KiB per warp).
__device__ __forceinline__ void ld_32x32b_x16(std::uint32_t taddr, std::uint32_t (&r)[16]) {
  asm volatile(
      "tcgen05.ld.sync.aligned.32x32b.x16.b32 {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15}, [%16];"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]), "=r"(r[6]), "=r"(r[7]),
        "=r"(r[8]), "=r"(r[9]), "=r"(r[10]), "=r"(r[11]), "=r"(r[12]), "=r"(r[13]), "=r"(r[14]), "=r"(r[15])
      : "r"(taddr)
      : "memory");
}
__device__ __forceinline__ void st_32x32b_x16(std::uint32_t taddr, const std::uint32_t (&r)[16]) {
  asm volatile(
      "tcgen05.st.sync.aligned.32x32b.x16.b32 [%0], {%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16};" ::"r"(
          taddr),
      "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3]), "r"(r[4]), "r"(r[5]), "r"(r[6]), "r"(r[7]), "r"(r[8]), "r"(r[9]),
      "r"(r[10]), "r"(r[11]), "r"(r[12]), "r"(r[13]), "r"(r[14]), "r"(r[15])
      : "memory");
}
__device__ __forceinline__ void wait_ld() { asm volatile("tcgen05.wait::ld.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wait_st() { asm volatile("tcgen05.wait::st.sync.aligned;" ::: "memory"); }

}  // namespace tilesim::microbench::tc5
