// The causal mask of attention, defined once for the model, the simulator, the kernels
// (kernels/attention/fwd) and validate.
//
// Top-left aligned, as torch SDPA's is_causal and FlashAttention-2's convention for
// seq_q == seq_kv: query row i (0-based) attends to key j iff j <= i. With seq_q > seq_kv
// rows i >= seq_kv see every key; with seq_q < seq_kv keys j >= seq_q are never seen.
//
// Useful FLOPs count the visible area of the seq_q x seq_kv score matrix with the
// diagonal counted half (the field's "halved when causal" convention, exact for
// seq_q == seq_kv, and never more than the pairs a kernel computes):
//   seq_q <= seq_kv: seq_q^2 / 2;   seq_q > seq_kv: seq_q * seq_kv - seq_kv^2 / 2.
// Plain C++ (no dependencies) so that CUDA runners include it too.
#pragma once

#include <cstdint>

namespace tilesim::model {

// Visible (query, key) area of one head under the causal mask, in score elements.
constexpr double causal_visible_area(int64_t seq_q, int64_t seq_kv) {
  const double q = static_cast<double>(seq_q), k = static_cast<double>(seq_kv);
  return seq_q <= seq_kv ? 0.5 * q * q : q * k - 0.5 * k * k;
}

// Keys a block of query rows [0, rows_end) must read under the causal mask: the last
// row, rows_end - 1, sees keys 0..rows_end - 1 (all seq_kv of them once rows_end >= seq_kv).
constexpr int64_t causal_keys_for_rows(int64_t rows_end, int64_t seq_kv) {
  return rows_end < seq_kv ? (rows_end > 0 ? rows_end : 0) : seq_kv;
}

}  // namespace tilesim::model
