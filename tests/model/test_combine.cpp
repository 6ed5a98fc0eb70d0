// The split-KV combine pass (decode_combine_kernel, decode and MLA): one warp per output row
// walks the splits one at a time (the compiled loop holds one split's loads in flight), so
// beside its traffic the pass lasts at least one L2 round trip for the LSE maximum plus one
// per split, per wave of resident warps.
#include <gtest/gtest.h>

#include <cmath>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

double l2_latency_cycles(const Profile& p) { return 0.5 * (p.latency.l2_near.value + p.latency.l2_far.value); }

// 2 sequences x 16 query heads = 32 rows (one warp each, one wave), 64 splits: 1 + 64 round trips.
TEST(Combine, ItsChainIsOneRoundTripPerSplit) {
  const Profile p = profiles::resolve_profile("h100");
  const Prediction pr = predict(
      p, parse_problem(R"({"kind":"decode","batch":2,"heads_q":16,"heads_kv":2,"q_per_seq":1,"seq_kv":131072,"head_dim":128,"page_size":0})"),
      "decode_splitkv", parse_tile("block_n=64,splits=64,stages=3,l2_prefetch=0"));
  const double expected_us = 65.0 * l2_latency_cycles(p) / p.model_clock_mhz();
  EXPECT_NEAR(pr.desc.post.chain_us, expected_us, 1e-9);
  // Its traffic (32 rows x 64 splits x 129 fp32 values, then 32 x 128 bf16) takes less: the
  // chain sets the pass's time.
  EXPECT_NEAR(pr.post_us, pr.desc.post.launch_us + expected_us, 1e-9);
}

TEST(Combine, OneSplitHasNoPass) {
  const Profile p = profiles::resolve_profile("h100");
  const Prediction pr = predict(
      p, parse_problem(R"({"kind":"decode","batch":2,"heads_q":16,"heads_kv":2,"q_per_seq":1,"seq_kv":4096,"head_dim":128,"page_size":0})"),
      "decode_splitkv", parse_tile("block_n=64,splits=1,stages=3,l2_prefetch=0"));
  EXPECT_EQ(pr.post_us, 0.0);
  EXPECT_EQ(pr.desc.post.chain_us, 0.0);
}

}  // namespace
}  // namespace tilesim::model
