// Shared description of one decode-attention problem and one decode_splitkv tile, used by
// the kernels (device side) and the runner (host side).
//
// Layouts (row-major, innermost last):
//   q, out        [batch, q_per_seq, heads_q, head_dim]            (bf16)
//   k, v (contig) [batch, heads_kv, seq_kv, head_dim]              (bf16; "BHSD", torch SDPA's
//                                                                    own [B,H,S,D] layout)
//   k, v (paged)  pool [num_pages, heads_kv, page_size, head_dim]  (bf16; "HND" pages: one
//                 head's rows of a page are contiguous), page_table [batch, max_pages] (int32)
//   o_part        [splits, batch, q_per_seq, heads_q, head_dim]    (fp32, normalised per split)
//   lse_part      [splits, batch, q_per_seq, heads_q]              (fp32, log2 domain)
// Query head hq uses kv head hq / (heads_q / heads_kv) (consecutive query heads form a group).
// With q_per_seq > 1 (speculative decoding) query token i of a sequence sits at position
// seq_kv - q_per_seq + i and sees kv rows [0, seq_kv - q_per_seq + i] (bottom-right causal).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace tilesim::decode {

struct DecodeParams {
  const __nv_bfloat16* q = nullptr;
  const __nv_bfloat16* k = nullptr;
  const __nv_bfloat16* v = nullptr;
  const int* page_table = nullptr;  // nullptr for contiguous KV
  __nv_bfloat16* out = nullptr;
  float* o_part = nullptr;    // used only when splits > 1
  float* lse_part = nullptr;  // used only when splits > 1
  int batch = 0;
  int heads_q = 0;
  int heads_kv = 0;
  int group = 0;  // heads_q / heads_kv
  int q_per_seq = 0;
  int seq_kv = 0;
  int page_size_log2 = 0;  // paged only; page_size is a power of two
  int max_pages = 0;       // paged only: row stride of page_table
  int splits = 1;
  int blocks_per_split = 0;  // KV blocks of block_n rows per split
  float scale_log2 = 0.f;    // softmax scale * log2(e): scores go through exp2
  // Each split CTA's clock64 and %globaltimer at its start and end (ptx/clock_span.cuh:
  // [splits x heads_kv x batch][cuda::kSpanValues]), the SM clock the launch ran at, for the
  // runner's --clock-trace; null: nothing recorded.
  std::uint64_t* clock_span = nullptr;
};

// One decode_splitkv tile (names as in the model; splits is chosen per launch).
struct DecodeTile {
  int head_dim = 128;
  int block_n = 64;
  int stages = 3;
  int m_tiles = 1;  // 16-row MMA tiles of (query heads of a group) x q_per_seq
  bool paged = false;
  bool l2_prefetch = false;
  bool operator==(const DecodeTile&) const = default;
};

}  // namespace tilesim::decode
