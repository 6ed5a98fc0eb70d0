// The L2 a kernel starts from: after a runner's memset flush it holds dirty lines
// (l2_flush_dirty_share of it), and a memory-bound kernel writes them back through HBM as its
// own traffic evicts them: in proportion to the bytes it moves, all of them once it has moved
// l2_dirty_evict_l2_multiple L2 capacities. A compute-bound kernel hides them.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

// H20: no DVFS line, so the clock stays put and the HBM-bound time moves by the write-back's
// HBM time exactly.
struct Started {
  Prediction memset, clean;
};

Started both_ways(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile) {
  Started s;
  s.memset = predict(p, prob, schedule, tile, default_constants());
  s.clean = predict(p, prob, schedule, tile, with_clean_l2(default_constants()));
  return s;
}

double hbm_rate_bytes_per_us(const Profile& p) {
  return p.chip.hbm_bandwidth.value * default_constants().hbm_efficiency * 1e-6;
}

Problem decode(int batch, int seq_kv) {
  return parse_problem(R"({"kind":"decode","batch":)" + std::to_string(batch) +
                       R"(,"heads_q":32,"heads_kv":8,"q_per_seq":1,"seq_kv":)" + std::to_string(seq_kv) +
                       R"(,"head_dim":128,"page_size":0})");
}

TEST(L2Writeback, AStreamLongerThanTheEvictionWritesEveryDirtyLineBack) {
  const Profile p = profiles::resolve_profile("h20");
  const ModelConstants& k = default_constants();
  const double l2 = p.capacity.l2.value;
  const Problem prob = decode(16, 16384);  // 1.07 GB of KV: far beyond the eviction bytes
  const Started s = both_ways(p, prob, "decode_splitkv", parse_tile("block_n=64,splits=1,stages=3,l2_prefetch=0"));
  ASSERT_EQ(s.memset.bottleneck, "hbm");
  ASSERT_EQ(s.clean.bottleneck, "hbm");
  ASSERT_DOUBLE_EQ(s.memset.clock_mhz, s.clean.clock_mhz);
  const double dirty = k.l2_flush_dirty_share * l2;
  EXPECT_GT(s.clean.bytes_hbm, k.l2_dirty_evict_l2_multiple * l2);
  EXPECT_DOUBLE_EQ(s.clean.l2_writeback_bytes, 0.0);
  EXPECT_NEAR(s.memset.l2_writeback_bytes, dirty, 1e-6 * dirty);
  EXPECT_NEAR(s.memset.bytes_hbm - s.clean.bytes_hbm, dirty, 1e-6 * dirty);
  EXPECT_NEAR(s.memset.time_us - s.clean.time_us, dirty / hbm_rate_bytes_per_us(p), 1e-6);
}

TEST(L2Writeback, AShortStreamWritesBackItsShareOfThem) {
  const Profile p = profiles::resolve_profile("h20");
  const ModelConstants& k = default_constants();
  const double l2 = p.capacity.l2.value;
  // 67 MB of KV, a share of the eviction bytes; one split, so no combine pass's bytes either.
  const Problem prob = decode(16, 1024);
  const Started s = both_ways(p, prob, "decode_splitkv", parse_tile("block_n=64,splits=1,stages=3,l2_prefetch=0"));
  ASSERT_EQ(s.memset.bottleneck, "hbm");
  ASSERT_EQ(s.clean.bottleneck, "hbm");
  const double moved = s.clean.bytes_hbm;
  const double evict = k.l2_dirty_evict_l2_multiple * l2;
  ASSERT_LT(moved, evict);
  const double expected = k.l2_flush_dirty_share * l2 * moved / evict;
  EXPECT_NEAR(s.memset.l2_writeback_bytes, expected, 1e-6 * expected);
  // Its HBM time, less what the items' own schedule hides of it (the kernel's time is the
  // larger of its HBM bound and its SMs' schedule).
  const double wb_us = expected / hbm_rate_bytes_per_us(p);
  EXPECT_GT(s.memset.time_us - s.clean.time_us, 0.5 * wb_us);
  EXPECT_LE(s.memset.time_us - s.clean.time_us, wb_us + 1e-9);
}

TEST(L2Writeback, AComputeBoundKernelHidesIt) {
  const Profile p = profiles::resolve_profile("h20");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096})");
  const Started s = both_ways(
      p, prob, "gemm_sm90_ws",
      parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1"));
  ASSERT_EQ(s.memset.bottleneck, "tensor");
  EXPECT_GT(s.memset.l2_writeback_bytes, 0.0);  // written back, in HBM time the tensor pipe leaves idle
  EXPECT_DOUBLE_EQ(s.memset.time_us, s.clean.time_us);
}

}  // namespace
}  // namespace tilesim::model
