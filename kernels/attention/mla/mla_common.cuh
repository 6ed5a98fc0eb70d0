// Parts shared by the two MLA decode kernels (mla_heads_on_m.cuh, mla_kv_on_m.cuh):
// shared-memory plan, the TMA producer (Q once, one 64-token page per ring slot), the
// split range of a CTA, the causal limit of a query row, and the zeroing of a page's rows
// past the sequence end.
//
// Both kernels run 3 warpgroups: WG0 producer (one thread issues TMA), WG1 and WG2
// consumers that each own half of the 512 output columns. Only WG1 computes the scores and
// the softmax; it hands P (or P^T) to WG2 through shared memory (FlashMLA's arrangement).
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>

#include <cstdint>

#include "mla_params.hpp"
#include "ptx/all.cuh"

namespace tilesim::mla {

// Shared-memory plan for kQRows query rows (64 on M, or 16/32/64 on N) and kStages pages.
// Every operand is stored in 128-byte-swizzled panels of 64 columns (TMA SWIZZLE_128B).
template <int kQRows, int kStages>
struct MlaSmem {
  static constexpr int kPanels = kHeadDimQk / 64;   // 9 panels of Q and of a page
  static constexpr int kVPanels = kHeadDimV / 64;   // V = the first 8 panels of a page
  static constexpr int kPanelRowBytes = 128;
  static constexpr int kQPanelBytes = kQRows * kPanelRowBytes;
  static constexpr int kQBytes = kPanels * kQPanelBytes;
  static constexpr int kKvPanelBytes = kPageSize * kPanelRowBytes;  // 8192
  static constexpr int kKvBytes = kPanels * kKvPanelBytes;           // 73728: one page
  // P (64 query rows x 64 KV, heads-on-M) or P^T (kQRows rows x 64 KV, KV-on-M): one panel
  // of 128-byte rows, K-major for the PV wgmma.
  static constexpr int kPBytes = kQRows * kPanelRowBytes;
  static constexpr int kAlignSlack = 1024;  // 128B swizzle needs 1024-byte aligned panels
  static constexpr int kSmemBytes = kQBytes + kStages * kKvBytes + kPBytes + kAlignSlack;
  static constexpr int kThreads = 384;
  static_assert(kQPanelBytes % ptx::kSw128AtomBytes == 0, "query rows: a multiple of 8 (swizzle atom)");
  static_assert(kStages >= 2, "at least a double buffer of pages");
  // 227 KB per block on sm_90, static shared memory included: the kernels' barriers and
  // per-row / per-column arrays must stay within kStaticSmemBudget (ptxas prints their size).
  static constexpr int kStaticSmemBudget = 2048;
  static_assert(kSmemBytes + kStaticSmemBudget <= 227 * 1024, "shared memory over the 227 KB per-block limit");
};

// Named barriers (0 is __syncthreads). P_FULL: WG1 arrives when P and the rescale factors
// of a block are in shared memory, WG2 waits. P_EMPTY: WG2 arrives when its PV wgmma has
// read them, WG1 waits before writing the next block's. WG1: the 128 softmax threads among
// themselves. EPILOGUE: both consumers, after WG1 wrote the final row statistics.
inline constexpr std::uint32_t kBarPFull = 1;
inline constexpr std::uint32_t kBarPEmpty = 2;
inline constexpr std::uint32_t kBarWg1 = 3;
inline constexpr std::uint32_t kBarEpilogue = 4;
inline constexpr std::uint32_t kTwoConsumers = 256;
inline constexpr std::uint32_t kOneWarpgroup = 128;
inline constexpr int kProducerRegs = 24;
inline constexpr int kConsumerRegs = 240;  // 128 * 24 + 256 * 240 = 64512 <= 65536

// KV blocks (pages) [first, first + count) of this CTA's split; count may be 0 (a short
// sequence in a long batch): the CTA then writes zeros and lse = -inf for its rows.
struct SplitRange {
  int first = 0, count = 0, len = 0;
};
__device__ __forceinline__ SplitRange split_range(const MlaParams& p, int b, int split) {
  SplitRange r;
  r.len = p.seq_lens[b];
  const int blocks = (r.len + kPageSize - 1) / kPageSize;
  r.first = split * p.blocks_per_split;
  r.count = max(0, min(blocks, r.first + p.blocks_per_split) - r.first);
  return r;
}

// KV rows visible to query row `row` of a sequence of length len (0 for padding rows).
__device__ __forceinline__ int visible_kv(const MlaParams& p, int len, int row) {
  if (row >= p.rows) return 0;
  const int token = row / p.heads_q;
  return len - (p.q_per_seq - 1 - token);
}

// Producer (one thread): Q's kQRows rows starting at q_row0 of sequence b, then `count`
// pages through the ring. Rows of Q past the sequence's rows are zero-filled by TMA.
template <class Sm, int kStages>
__device__ __forceinline__ void produce(const CUtensorMap* tm_q, const CUtensorMap* tm_kv, std::uint8_t* q_smem,
                                        std::uint8_t* kv_smem, std::uint64_t* bar_q, std::uint64_t* kv_full,
                                        std::uint64_t* kv_empty, const MlaParams& p, int b, int q_row0,
                                        const SplitRange& range) {
  using namespace ::tilesim::ptx;
  if (range.count == 0) return;
  tma_prefetch_desc(tm_q);
  tma_prefetch_desc(tm_kv);
  mbar_arrive_expect_tx(smem_u32(bar_q), Sm::kQBytes);
#pragma unroll
  for (int c = 0; c < Sm::kPanels; ++c)
    tma_load_3d(smem_u32(q_smem + c * Sm::kQPanelBytes), tm_q, smem_u32(bar_q), c * 64, q_row0, b);
  const int* table = p.block_table + static_cast<int64_t>(b) * p.max_pages;
  PipelineState st;
  for (int i = 0; i < range.count; ++i, st.advance(kStages)) {
    const int page = table[range.first + i];
    mbar_wait(smem_u32(&kv_empty[st.index]), st.phase ^ 1);
    mbar_arrive_expect_tx(smem_u32(&kv_full[st.index]), Sm::kKvBytes);
    std::uint8_t* dst = kv_smem + st.index * Sm::kKvBytes;
#pragma unroll
    for (int c = 0; c < Sm::kPanels; ++c)
      tma_load_3d(smem_u32(dst + c * Sm::kKvPanelBytes), tm_kv, smem_u32(&kv_full[st.index]), c * 64, 0, page);
  }
}

// Rows [valid, 64) of a page in shared memory <- 0, by the 128 threads of one warpgroup.
// Those rows hold whatever the pool has past the sequence end (NaN in the tests): their
// scores are masked to -inf, but P = 0 times a NaN of V would still poison O. A whole
// 128-byte row of a panel is zeroed, so the swizzle does not matter.
template <class Sm>
__device__ __forceinline__ void zero_tail_rows(std::uint8_t* page, int valid, int tid) {
  constexpr int kChunksPerRow = Sm::kPanels * (Sm::kPanelRowBytes / 16);
  const int chunks = (kPageSize - valid) * kChunksPerRow;
  for (int c = tid; c < chunks; c += kOneWarpgroup) {
    const int r = valid + c / kChunksPerRow, rem = c % kChunksPerRow;
    *reinterpret_cast<uint4*>(page + (rem / 8) * Sm::kKvPanelBytes + r * Sm::kPanelRowBytes + (rem % 8) * 16) =
        make_uint4(0u, 0u, 0u, 0u);
  }
}

// Byte offset of the 16-bit element (row, col < 64) in a 128B-swizzled panel: 16-byte
// chunk col / 8 of a row is stored at chunk (col / 8) ^ (row % 8) (TMA's SWIZZLE_128B).
__device__ __forceinline__ std::uint32_t sw128_offset(int row, int col) {
  return static_cast<std::uint32_t>(row * 128 + ((((col >> 3) ^ (row & 7)) << 4) | ((col & 7) << 1)));
}

}  // namespace tilesim::mla
