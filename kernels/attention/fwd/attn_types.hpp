// Problem description and kernel arguments shared by every forward-attention kernel.
// Layout: Q [batch][heads_q][seq_q][head_dim], K/V [batch][heads_kv][seq_kv][head_dim],
// O like Q; bf16, contiguous. Causal masking is top-left aligned (key j visible to query
// i iff j <= i), as torch SDPA's is_causal; for seq_q == seq_kv it equals FA2's convention.
#pragma once

#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tilesim/model/causal_mask.hpp"

namespace tilesim::attention {

struct AttnProblem {
  int batch = 1;
  int heads_q = 1;
  int heads_kv = 1;
  int seq_q = 1;
  int seq_kv = 1;
  int head_dim = 128;
  bool causal = false;
};

struct AttnArgs {
  const __nv_bfloat16* q = nullptr;
  const __nv_bfloat16* k = nullptr;
  const __nv_bfloat16* v = nullptr;
  __nv_bfloat16* o = nullptr;
  AttnProblem prob;
  float scale_log2 =
      0.f;  // softmax scale (1/sqrt(head_dim)) times log2(e): exp(x*s) = exp2(x*scale_log2)
  // attn_fa3 only: each CTA's clock64 and %globaltimer at its start and end
  // (ptx/clock_span.cuh: [grid][cuda::kSpanValues]), the SM clock the launch ran at, for the
  // runner's --clock-trace; null: nothing recorded.
  std::uint64_t* clock_span = nullptr;
};

inline float default_scale_log2(int head_dim) {
  return static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(head_dim)));
}

// FLOP convention of the project: 4*B*H*D (two GEMMs) x the score area, Sq*Skv or,
// when causal, the visible area of the one mask definition (tilesim/model/causal_mask.hpp).
inline double attention_flops(const AttnProblem& p) {
  const double area = p.causal ? tilesim::model::causal_visible_area(p.seq_q, p.seq_kv)
                               : static_cast<double>(p.seq_q) * p.seq_kv;
  return 4.0 * p.batch * p.heads_q * area * p.head_dim;
}

inline void validate(const AttnProblem& p) {
  auto bad = [](const std::string& what) {
    throw std::invalid_argument("attention problem: " + what);
  };
  if (p.batch < 1) bad("batch must be >= 1");
  if (p.heads_q < 1 || p.heads_kv < 1) bad("heads_q and heads_kv must be >= 1");
  if (p.heads_q % p.heads_kv != 0) bad("heads_q must be a multiple of heads_kv (GQA)");
  if (p.seq_q < 1 || p.seq_kv < 1) bad("seq_q and seq_kv must be >= 1");
  if (p.head_dim != 64 && p.head_dim != 128) bad("head_dim must be 64 or 128");
}

}  // namespace tilesim::attention
