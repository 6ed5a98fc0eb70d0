// attn_fa4 with a causal mask: each softmax warpgroup masks the last ceil(q_tiles x block_m /
// block_n) KV blocks of its item, and a softmax thread owns a whole row of S, so the mask's
// compare and select of the row's block_n elements are instructions on that thread's own
// stream (the loop's binding chain at head dim 64), once per item and Q tile.
#include <gtest/gtest.h>

#include <algorithm>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

const char* kTile = "block_m=128,block_n=128,stages=10,q_tiles=2,exp_emu_fraction=0.125,rescale_threshold=8,cluster_m=1";

Problem attention(bool causal) {
  return parse_problem(std::string(R"({"kind":"attention","batch":32,"heads_q":32,"seq_q":1024,"head_dim":64,"causal":)") +
                       (causal ? "true" : "false") + "}");
}

TEST(Fa4CausalMask, EachSoftmaxWarpgroupMasksTheItemsMaskingRange) {
  const Profile p = profiles::resolve_profile("b200");
  const ModelConstants k = default_constants();
  const Prediction pr = predict(p, attention(true), "attn_fa4", parse_tile(kTile), k);
  // 2 x 128 rows per item against 128-column KV blocks: 2 masked blocks, 2 ops per element.
  const double per_thread = 2.0 * 128 * 2.0;
  for (const char* name : {"mask.q0", "mask.q1"}) {
    const Op& m = op_named(pr.desc.epilogue, name);
    EXPECT_EQ(pr.desc.roles[m.role].kind, RoleKind::kSoftmax) << name;
    EXPECT_NEAR(m.chain_cycles, per_thread * k.consumer_cycles_per_instruction, 1e-9) << name;
  }
  // The output is written after its tile's masked blocks.
  const Op& ep = op_named(pr.desc.epilogue, "epilogue.q1");
  ASSERT_EQ(ep.deps.size(), 1u);
  EXPECT_EQ(pr.desc.epilogue[ep.deps[0].op].name, "mask.q1");
}

TEST(Fa4CausalMask, TheMaskLengthensTheItemNotJustTheAluBound) {
  const Profile p = profiles::resolve_profile("b200");
  const ModelConstants k = default_constants();
  const Prediction causal = predict(p, attention(true), "attn_fa4", parse_tile(kTile), k);
  const Prediction full = predict(p, attention(false), "attn_fa4", parse_tile(kTile), k);
  for (const auto& op : full.desc.epilogue) EXPECT_EQ(op.name.rfind("mask", 0), std::string::npos) << op.name;
  // The item's once-per-item work now waits for a Q tile's mask before O is stored: its
  // thread's stream or, where longer, the warpgroup's ALU work (16 lanes per sub-partition).
  const double per_thread = 2.0 * 128 * 2.0;
  const double mask = std::max(per_thread * k.consumer_cycles_per_instruction, per_thread * 128 / p.per_sm.alu.value);
  EXPECT_NEAR(causal.epilogue_cycles - full.epilogue_cycles, mask, 1e-6);
  EXPECT_GT(causal.time_us, full.time_us * 0.5);  // half the score blocks, plus the mask
}

}  // namespace
}  // namespace tilesim::model
