// Split-count heuristic for decode_splitkv (a memory-bound stream: what matters is that
// every SM keeps CTAs pulling bytes from the first to the last microsecond).
//
// splits = floor(resident CTA slots / (batch * heads_kv)), at least 1, and no split shorter
// than kMinBlocksPerSplit blocks. Resident slots = SMs x CTAs per SM for this tile
// (occupancy API). So all CTAs are resident in one round (none starts late and lengthens
// the tail) and, for 2-CTA-per-SM tiles, each SM streams with two CTAs' rings in flight.
// batch * heads_kv >= slots gives one split (no combine pass).
//
// Measured basis (H200, 2026-11-21, data/measurements/decode/20261121_h200_*_sweep.json,
// default tile bn64 st3 = 2 CTAs/SM, 264 slots):
//  * smoke run (..._smoke_sweep.json): a rule asking for >= 2 waves of resident CTAs
//    picked 12 splits for B8 Hkv8 and lost 2-6% (spec q4: 86.4% of copy vs 92.7% at 2).
//  * run 2 (..._run2_sweep.json): "cover the SMs once" (2 splits for B8 Hkv8) vs "fill the
//    slots once" (4 splits): GQA 32k 101.5 vs 101.9%, spec q4 93.8 vs 92.8%, spec q8 77.1
//    vs 76.7%, paged ps64 GQA 98.3 vs 100.0%, paged ps64 q8 53.3 vs 71.7%. Filling the
//    slots is never more than 1% behind and avoids the paged cliff, so it is the rule.
//  * B16 Hkv32 and B64 Hkv8 (512 pairs > 264 slots): one split measured best or within 0.1%.
#pragma once

#include <algorithm>

namespace tilesim::decode {

struct SplitChoice {
  int splits = 1;
  int ctas = 0;
  double slot_fill = 0.0;  // CTAs / resident slots (> 1: more than one round)
};

// A split must span at least this many KV blocks; below it the prologue (stages - 1 blocks
// in flight before the first compute) is a large share of the split.
inline constexpr int kMinBlocksPerSplit = 4;
// Upper bound on splits: the combine pass reads splits x rows x head_dim fp32 partials.
inline constexpr int kMaxSplits = 64;

inline SplitChoice choose_splits(int batch, int heads_kv, int seq_kv, int block_n, int sm_count,
                                 int ctas_per_sm) {
  const int blocks = (seq_kv + block_n - 1) / block_n;
  const int max_by_length = std::max(1, std::min(kMaxSplits, blocks / kMinBlocksPerSplit));
  const long pairs = std::max(1L, static_cast<long>(batch) * heads_kv);
  const long slots = static_cast<long>(sm_count) * std::max(1, ctas_per_sm);
  SplitChoice c;
  c.splits = static_cast<int>(std::clamp(slots / pairs, 1L, static_cast<long>(max_by_length)));
  c.ctas = static_cast<int>(pairs * c.splits);
  c.slot_fill = static_cast<double>(c.ctas) / static_cast<double>(slots);
  return c;
}

// Splits of a split count once each split covers a whole number of blocks; returns
// blocks_per_split (the kernel's unit) and rewrites splits to the count actually non-empty.
inline int blocks_per_split(int seq_kv, int block_n, int& splits) {
  const int blocks = (seq_kv + block_n - 1) / block_n;
  splits = std::max(1, std::min(splits, blocks));
  const int per = (blocks + splits - 1) / splits;
  splits = (blocks + per - 1) / per;
  return per;
}

}  // namespace tilesim::decode
