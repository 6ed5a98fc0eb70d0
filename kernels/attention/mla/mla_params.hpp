// Shared description of one MLA decode problem (DeepSeek absorbed form) and one mla_decode
// tile, used by the kernels (device side) and the runner (host side).
//
// Layouts (row-major, innermost last):
//   q            [batch, q_per_seq, heads_q, kHeadDimQk]   (bf16; the rows of one sequence,
//                                                          token-major, are its "query rows")
//   kv pool      [num_pages, kPageSize, kHeadDimQk]         (bf16; one latent row per token:
//                                                          512 nope/V values + 64 rope; V is
//                                                          the first kHeadDimV columns)
//   block_table  [batch, max_pages] (int32), seq_lens [batch] (int32, per sequence)
//   out          [batch, q_per_seq, heads_q, kHeadDimV]    (bf16)
//   o_part       [splits, batch * q_per_seq * heads_q, kHeadDimV]  (fp32, normalised per split)
//   lse_part     [splits, batch * q_per_seq * heads_q]     (fp32, log2 domain)
// These are decode_splitkv's split layouts, so its combine kernel merges the splits.
// Query token i of a sequence of length L sits at position L - q_per_seq + i and sees KV
// rows [0, L - q_per_seq + i] (bottom-right causal, as decode_splitkv).
#pragma once

#include <cuda_bf16.h>

namespace tilesim::mla {

inline constexpr int kHeadDimQk = 576;  // latent (512) + rope (64)
inline constexpr int kHeadDimV = 512;   // V = the first 512 columns of the latent row
inline constexpr int kPageSize = 64;    // KV rows per page = KV rows per iteration (block_n)

struct MlaParams {
  const int* block_table = nullptr;
  const int* seq_lens = nullptr;
  __nv_bfloat16* out = nullptr;
  float* o_part = nullptr;    // used only when splits > 1
  float* lse_part = nullptr;  // used only when splits > 1
  int batch = 0;
  int heads_q = 0;
  int q_per_seq = 0;
  int rows = 0;       // query rows per sequence: heads_q * q_per_seq
  int max_pages = 0;  // row stride of block_table
  int splits = 1;
  int blocks_per_split = 0;  // KV blocks (pages) per split
  float scale_log2 = 0.f;    // softmax scale * log2(e): scores go through exp2
};

// One mla_decode tile (names as in the model; splits is chosen per launch).
//   kv_on_m = 0: query rows on the wgmma M dimension, 64 per CTA (padded).
//   kv_on_m = 1: KV rows on M (S^T = K Q^T), block_q query rows per CTA on N (16/32/64).
struct MlaTile {
  int block_n = kPageSize;
  int stages = 2;
  int kv_on_m = 0;
  int block_q = 64;  // query rows per CTA (heads-on-M: always 64, the wgmma M)
  bool operator==(const MlaTile&) const = default;
};

}  // namespace tilesim::mla
