// The fitted per-item costs of decode_splitkv and mla_decode (mla_item_chain_cycles,
// decode_item_chain_cycles): the epilogue op of each work item lasts at least that long, so
// a short item pays it in full and a grid pays it once per item it runs in series;
// decode_splitkv's counted epilogue stream comes on top. And the fitted per-iteration cost
// of decode_splitkv's L2 prefetch issue on the warps' chain.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

const char* kDecode =
    R"({"kind":"decode","batch":4,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":4096,"head_dim":128,"page_size":0})";
const char* kMla =
    R"({"kind":"mla","batch":4,"heads_q":16,"heads_kv":1,"q_per_seq":1,"seq_kv":4096,"head_dim":576,"head_dim_v":512,"page_size":64})";

ModelConstants with_items(double decode_cycles, double mla_cycles) {
  ModelConstants k = default_constants();
  k.decode_item_chain_cycles = decode_cycles;
  k.mla_item_chain_cycles = mla_cycles;
  return k;
}

TEST(ItemChain, TheEpilogueCarriesTheFittedItemCost) {
  const Profile p = profiles::resolve_profile("h100");
  const ModelConstants k = with_items(12345.0, 23456.0);
  const auto decode_epilogue = [&](const char* problem, const ModelConstants& kc) {
    const Prediction pr = predict(p, parse_problem(problem), "decode_splitkv",
                                  parse_tile("block_n=64,splits=4,stages=3,l2_prefetch=0"), kc);
    return op_named(pr.desc.epilogue, "epilogue").chain_cycles;
  };
  EXPECT_NEAR(decode_epilogue(kDecode, k) - decode_epilogue(kDecode, with_items(0.0, 0.0)), 12345.0, 1e-6);
  // The counted stream (ncu's executed instructions per warp): 4 query rows per CTA in one
  // m tile merge (265) and fill one output step of four (143 + 3 x 13); 32 rows in two
  // m tiles merge twice and fill all eight steps. 128 items on 132 SMs: one CTA per SM, so
  // the spacing is the one-warp cost.
  ModelConstants alone = with_items(0.0, 0.0);
  const double cpi = alone.decode_warp_cycles_per_instruction;
  EXPECT_NEAR(decode_epilogue(kDecode, alone), (265.0 + 143.0 + 3 * 13.0) * cpi, 1e-6);
  const char* k32Rows =
      R"({"kind":"decode","batch":4,"heads_q":32,"heads_kv":8,"q_per_seq":8,"seq_kv":4096,"head_dim":128,"page_size":0})";
  EXPECT_NEAR(decode_epilogue(k32Rows, alone), (2 * 265.0 + 8 * 143.0) * cpi, 1e-6);
  const Prediction mla = predict(p, parse_problem(kMla), "mla_decode",
                                 parse_tile("block_n=64,splits=4,stages=2,kv_on_m=0"), k);
  EXPECT_DOUBLE_EQ(op_named(mla.desc.epilogue, "epilogue").chain_cycles, 23456.0);
}

// 4 x 8 heads x 4 splits = 128 decode items on 132 SMs: one item per SM, so the makespan
// grows by the item cost's increase (the epilogue's own units finish well within it).
TEST(ItemChain, AOneWaveGridPaysTheItemCostOnce) {
  const Profile p = profiles::resolve_profile("h100");
  const Tile t = parse_tile("block_n=64,splits=4,stages=3,l2_prefetch=0");
  const Prediction a = predict(p, parse_problem(kDecode), "decode_splitkv", t, with_items(5000.0, 0.0));
  const Prediction b = predict(p, parse_problem(kDecode), "decode_splitkv", t, with_items(9000.0, 0.0));
  ASSERT_EQ(a.work_items, 128);
  EXPECT_NEAR(b.makespan_cycles - a.makespan_cycles, 4000.0, 1.0);
}

// decode_l2_prefetch_issue_cycles: with l2_prefetch the loop's warp chain is its counted
// instructions (40 more for the prefetch's page lookup and issue) plus the fitted issue cost;
// without it, the instructions alone.
TEST(ItemChain, TheL2PrefetchIssueHoldsTheWarpChain) {
  const Profile p = profiles::resolve_profile("h100");
  ModelConstants k = default_constants();
  k.decode_l2_prefetch_issue_cycles = 777.0;
  k.decode_cpi_share_per_co_resident_warp = 0.0;  // the per-instruction cost alone, whatever shares the SM
  const auto chain = [&](int pf, const ModelConstants& kc) {
    const Prediction pr = predict(p, parse_problem(kDecode), "decode_splitkv",
                                  parse_tile("block_n=64,splits=4,stages=3,l2_prefetch=" + std::to_string(pf)), kc);
    return op_named(pr.desc.loop, "softmax").chain_cycles;
  };
  // 4096 / 4 splits = 16 blocks of 64 rows each: all but the first 3 (stages) prefetched.
  const double share = (16.0 - 3.0) / 16.0;
  const double extra_instructions = 40.0 * k.decode_warp_cycles_per_instruction;
  EXPECT_NEAR(chain(1, k) - chain(0, k), extra_instructions + 777.0 * share, 1e-9);
  k.decode_l2_prefetch_issue_cycles = 0.0;
  EXPECT_NEAR(chain(1, k) - chain(0, k), extra_instructions, 1e-9);
}

// A split no longer than the ring prefetches nothing (its blocks come with the prologue's
// and the first iteration's loads): no issue cost, no bytes fetched twice.
TEST(ItemChain, ASplitWithinTheRingPrefetchesNothing) {
  const Profile p = profiles::resolve_profile("h100");
  ModelConstants k = default_constants();
  k.decode_l2_prefetch_issue_cycles = 777.0;
  k.decode_cpi_share_per_co_resident_warp = 0.0;
  const auto predict_pf = [&](int pf) {
    // 4096 / 32 splits = 128 rows = 2 blocks of 64, fewer than the 3 stages.
    return predict(p, parse_problem(kDecode), "decode_splitkv",
                   parse_tile("block_n=64,splits=32,stages=3,l2_prefetch=" + std::to_string(pf)), k);
  };
  const Prediction on = predict_pf(1), off = predict_pf(0);
  EXPECT_NEAR(op_named(on.desc.loop, "softmax").chain_cycles - op_named(off.desc.loop, "softmax").chain_cycles,
              40.0 * k.decode_warp_cycles_per_instruction, 1e-9);
  EXPECT_DOUBLE_EQ(on.bytes_hbm, off.bytes_hbm);
}

}  // namespace
}  // namespace tilesim::model

namespace tilesim::model {
namespace {
// A decode warp's per-instruction spacing grows with the other CTAs' warps on its
// sub-partition (decode_cpi_share_per_co_resident_warp): a grid of one CTA per SM keeps the
// one-warp cost, a grid that fills two CTAs per SM pays the share.
TEST(ItemChain, TheWarpSpacingGrowsWithTheCtasSharingAnSm) {
  const Profile p = profiles::resolve_profile("h100");
  const auto chain = [&](int splits, double share) {
    ModelConstants k = default_constants();
    k.decode_cpi_share_per_co_resident_warp = share;
    const Prediction pr = predict(p, test::parse_problem(kDecode), "decode_splitkv",
                                  parse_tile("block_n=64,stages=3,l2_prefetch=0,splits=" + std::to_string(splits)), k);
    EXPECT_EQ(pr.desc.grid.ctas_per_sm, 2);
    return test::op_named(pr.desc.loop, "softmax").chain_cycles;
  };
  // 4 x 8 heads x 1 split = 32 CTAs (one per SM); x 16 splits = 512 (two per SM).
  EXPECT_DOUBLE_EQ(chain(16, 0.0), chain(1, 0.0));
  EXPECT_DOUBLE_EQ(chain(1, 0.5), chain(1, 0.0));
  EXPECT_GT(chain(16, 0.5), chain(16, 0.0) * 1.3);
}
}  // namespace
}  // namespace tilesim::model
