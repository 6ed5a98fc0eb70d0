// Measured op costs: what one piece of a kernel's own device code costs when it runs in its
// main-loop order on on-chip data (microbench "op/..." benchmarks, microbench/README.md
// "Attention op costs"). A profile may carry a table of them ("ops": [...]); the model
// uses a measured op where the chip has one for the tile it builds and its instruction-
// stream estimate elsewhere, and `predict --explain` says which.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tilesim::profiles {

// The keys of an FA3 consumer op: the attn_fa3 tile and problem it was measured at (the
// model's parameter names; pingpong 0 = both warpgroups issue freely, as the lockstep
// kernels' consumers do when no load stalls them).
inline constexpr std::array<std::string_view, 6> kFa3OpKeys = {
    "head_dim", "block_n", "intra_overlap", "pingpong", "exp_emu_fraction", "rescale_threshold"};

struct OpKind {
  std::string_view name;
  std::span<const std::string_view> keys;
  std::string_view meaning;
};

// Every op a profile may carry: its name, the keys that select it, what it measures. The
// cost is SM cycles per main-loop iteration (fa3.item: per work item) of one consumer
// warpgroup (mean of its warps), two consumer warpgroups per SM as the kernel runs them.
inline constexpr std::array kOpKinds{
    OpKind{"fa3.qk_block", kFa3OpKeys,
           "from the warpgroup's turn until S = Q K^T is in its registers: issuing the wgmma block (descriptors, "
           "fences, commit; with intra_overlap also O += P V of the previous block) and the wait for S"},
    OpKind{"fa3.softmax", kFa3OpKeys,
           "OnlineSoftmax::step and pack_p on the warpgroup's 64 x block_n scores, the row max not growing"},
    OpKind{"fa3.softmax_rescaling", kFa3OpKeys,
           "the same with every row's max growing (a correction exp2 per row, the rescale flag set)"},
    OpKind{"fa3.rescale", kFa3OpKeys, "rescale_rows: O (64 x head_dim fp32) times the per-row correction, when taken"},
    OpKind{"fa3.item", kFa3OpKeys,
           "per work item, outside the main loop: the peeled first block (S, softmax, P), the last PV "
           "(intra_overlap), O's normalisation and its stores to global memory"},
    OpKind{"fa3.iteration", kFa3OpKeys,
           "one whole main-loop iteration on on-chip data (no loads, no mbarriers), the row max not growing"},
};

// One measured op: which op, at which key (every key of its kind, no other), how many
// cycles, from which source of the profile.
struct OpCost {
  std::string op;
  std::map<std::string, double, std::less<>> key;
  double cycles = 0.0;
  std::string source;  // id into Profile::sources
  std::string note;
};

// The op kind of that name, or nullptr.
const OpKind* find_op_kind(std::string_view name);

// The table's entry for `op` whose key equals `key` exactly, or nullptr.
const OpCost* find_op(const std::vector<OpCost>& ops, std::string_view op, const std::map<std::string, double>& key);
// The same without building a map (the model looks ops up on tune's hot path).
using OpKeyValue = std::pair<std::string_view, double>;
const OpCost* find_op(const std::vector<OpCost>& ops, std::string_view op, std::span<const OpKeyValue> key);

}  // namespace tilesim::profiles
