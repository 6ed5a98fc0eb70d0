// An HBM-bound kernel: its stream starts one DRAM latency after launch (the first request's
// round trip) and the kernel ends one latency after the last bytes (its stores reach
// memory), so the HBM bound is bytes / achievable rate plus two DRAM latencies.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

// Decode over 33.6 MB of KV with 4 iterations per CTA: the chip's HBM binds, the SMs' loop
// does not (predict --explain: hbm-bound over the whole kernel).
TEST(HbmStreamEnds, AnHbmBoundKernelPaysOneDramLatencyAtEachEnd) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(
      R"({"kind":"decode","batch":32,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":256,"head_dim":128,"page_size":0})");
  const Tile tile = parse_tile("block_n=64,splits=1,stages=3,l2_prefetch=0");
  const Prediction pr = predict(p, prob, "decode_splitkv", tile);
  ASSERT_EQ(pr.bottleneck, "hbm");
  // The same chip with half the DRAM latency: the loads' own latency moves the SMs' loop,
  // which the HBM bound still covers, so the time moves by exactly one latency at each end
  // (counted at the profile's model clock, as the bound's cycles are: a fixed time).
  Profile q = p;
  q.latency.hbm.value = 0.5 * p.latency.hbm.value;
  const Prediction pq = predict(q, prob, "decode_splitkv", tile);
  ASSERT_EQ(pq.bottleneck, "hbm");
  EXPECT_NEAR(pr.time_us - pq.time_us, 2.0 * (p.latency.hbm.value - q.latency.hbm.value) / p.model_clock_mhz(), 1e-9);
}

}  // namespace
}  // namespace tilesim::model
