// An HBM-bound kernel: its stream starts after the first items' prologue (at least one DRAM
// latency: the first request's round trip) and the kernel ends after the last item's
// epilogue (at least one latency: its stores reach memory), so the HBM bound is bytes /
// achievable rate plus those two ends.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

// Decode over 16.8 MB of KV, 128 CTAs of 4 iterations in one wave: the chip's HBM binds, the SMs' loop
// does not (predict --explain: hbm-bound over the whole kernel). On the H20 profile, which
// has no DVFS line, so the clock stays put.
TEST(HbmStreamEnds, TheLastItemsEpilogueEndsAnHbmBoundKernel) {
  const Profile p = profiles::resolve_profile("h20");
  const Problem prob = parse_problem(
      R"({"kind":"decode","batch":16,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":256,"head_dim":128,"page_size":0})");
  const Tile tile = parse_tile("block_n=64,splits=1,stages=3,l2_prefetch=0");
  ModelConstants k = default_constants();
  const Prediction a = predict(p, prob, "decode_splitkv", tile, k);
  ASSERT_EQ(a.bottleneck, "hbm");
  // An epilogue 5000 SM cycles longer: the HBM-bound time grows by exactly those cycles at
  // the kernel's clock (the epilogue is already longer than a DRAM latency).
  k.decode_item_chain_cycles += 5000.0;
  const Prediction b = predict(p, prob, "decode_splitkv", tile, k);
  ASSERT_EQ(b.bottleneck, "hbm");
  ASSERT_DOUBLE_EQ(a.clock_mhz, b.clock_mhz);
  EXPECT_NEAR(b.time_us - a.time_us, 5000.0 / a.clock_mhz, 1e-9);
}

}  // namespace
}  // namespace tilesim::model
