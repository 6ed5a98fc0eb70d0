// The layer-step sequence model (GEMM then decode, KV prefetched into L2 during the GEMM):
// the prefetch is capped by L2, by idle HBM bandwidth and by free SMs; nothing kept means
// no gain; bad input is named.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "tilesim/model/sequence.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

// The runner's tiles (kernels/layer_step/layer_step_bench.cu).
Tile gemm_tile() { return parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1,raster=8"); }
Tile decode_tile() { return parse_tile("block_n=64,stages=3,l2_prefetch=0,splits=1"); }

LayerStepProblem step(int m, int n, int seq_kv) {
  LayerStepProblem p;
  p.gemm = parse_problem(R"({"kind":"gemm","m":)" + std::to_string(m) + R"(,"n":)" + std::to_string(n) + R"(,"k":4096})");
  p.decode = parse_problem(R"({"kind":"decode","batch":32,"heads_q":32,"heads_kv":8,"seq_kv":)" + std::to_string(seq_kv) +
                           R"(,"head_dim":128})");
  return p;
}

LayerStepSetup setup(PrefetchPolicy pol) {
  LayerStepSetup s;
  s.gemm_tile = gemm_tile();
  s.decode_tile = decode_tile();
  s.policy = pol;
  return s;
}

const Profile& h100() {
  static const Profile p = profiles::resolve_profile("h100");
  return p;
}

TEST(Sequence, KvBytesAndGridByHand) {
  // m=1024, n=4096: 8 x 16 tiles of 128 x 256, clusters of 2 along M: 64 clusters = 128 CTAs.
  const LayerStepPrediction r = predict_layer_step(h100(), step(1024, 4096, 256), setup(PrefetchPolicy::kEvictLast));
  EXPECT_DOUBLE_EQ(r.kv_bytes, 32.0 * 8 * 256 * (128 + 128) * 2);  // 33,554,432 B
  EXPECT_EQ(r.gemm_ctas, 128);
  EXPECT_EQ(r.free_sms, 132 - 128);
}

TEST(Sequence, PrefetchAloneByHand) {
  // One CTA per SM: min(132 x 229 GB/s, 1.36 x 3.35 TB/s) = 4.556 TB/s; 6.05 us to start.
  const LayerStepPrediction r = predict_layer_step(h100(), step(1024, 4096, 256), setup(PrefetchPolicy::kEvictLast));
  EXPECT_NEAR(r.prefetch_alone_us, 6.05 + 33554432.0 / (1.36 * 3.35e12) * 1e6, 1e-9);
}

TEST(Sequence, KeptBytesCappedByPersistingL2) {
  // 134 MB of KV: far above the set-aside (0.625 x 50 MiB = 32,768,000 B, H100's
  // persistingL2CacheMaxSize), so the kept bytes are the set-aside, not 0.82 x KV.
  const LayerStepPrediction big = predict_layer_step(h100(), step(1024, 4096, 1024), setup(PrefetchPolicy::kEvictLast));
  EXPECT_DOUBLE_EQ(big.kept_bytes, 32768000.0);
  EXPECT_LT(big.hit_fraction, 0.25);
  // 16.8 MB: below it, the measured share 0.82 is kept.
  const LayerStepPrediction small = predict_layer_step(h100(), step(1024, 4096, 128), setup(PrefetchPolicy::kEvictLast));
  EXPECT_DOUBLE_EQ(small.kept_bytes, 0.82 * small.kv_bytes);
  EXPECT_EQ(small.cap, "kv");
  EXPECT_LT(small.decode_in_step_us, small.decode_cold_us + default_prefetch_constants().decode_after_gemm_us);
  EXPECT_GT(small.gain_pct, 0.0);
  // A chip without a set-aside keeps nothing with evict_last.
  PrefetchConstants none = default_prefetch_constants();
  none.persisting_l2_fraction = 0.0;
  const LayerStepPrediction z =
      predict_layer_step(h100(), step(1024, 4096, 128), setup(PrefetchPolicy::kEvictLast), default_constants(), none);
  EXPECT_EQ(z.kept_bytes, 0.0);
}

TEST(Sequence, RateCappedByIdleHbmOrBySms) {
  // m=512, n=6144: 4 x 24 tiles = 96 CTAs, 36 SMs free: 36 x 229 GB/s = 8.2 TB/s of issue,
  // above the ceiling (4.56 TB/s); the HBM the GEMM leaves idle is below both.
  const LayerStepPrediction r = predict_layer_step(h100(), step(512, 6144, 512), setup(PrefetchPolicy::kEvictLast));
  ASSERT_EQ(r.free_sms, 36);
  ASSERT_LT(r.idle_hbm_bytes_per_s, 1.36 * 3.35e12);
  EXPECT_DOUBLE_EQ(r.prefetch_rate_bytes_per_s, r.idle_hbm_bytes_per_s);
  // With slow copy engines the free SMs bind instead.
  PrefetchConstants slow = default_prefetch_constants();
  slow.prefetch_bytes_per_s_per_sm = 1e9;
  const LayerStepPrediction s =
      predict_layer_step(h100(), step(512, 6144, 512), setup(PrefetchPolicy::kEvictLast), default_constants(), slow);
  EXPECT_DOUBLE_EQ(s.prefetch_rate_bytes_per_s, 36 * 1e9);
  EXPECT_EQ(s.cap, "bandwidth");
  EXPECT_GT(s.prefetch_end_us, s.gemm_us);
  EXPECT_DOUBLE_EQ(s.gemm_prefetch_us, s.prefetch_end_us);  // the decode waits for it
}

TEST(Sequence, NothingKeptMeansNoGain) {
  // evict_normal behind a GEMM that streams more than the usable L2: nothing survives, and
  // the prefetch ends inside the GEMM, so the step is unchanged.
  const LayerStepPrediction r = predict_layer_step(h100(), step(1024, 4096, 128), setup(PrefetchPolicy::kEvictNormal));
  ASSERT_LT(r.prefetch_end_us, r.gemm_us);
  EXPECT_EQ(r.kept_bytes, 0.0);
  EXPECT_EQ(r.l2_room_bytes, 0.0);
  EXPECT_DOUBLE_EQ(r.step_prefetch_us, r.step_us);
  // The two step times are sums taken in another order: equal to the last bits, so the gain
  // is 0 to within rounding (1e-12 %), not exactly.
  EXPECT_NEAR(r.gain_pct, 0.0, 1e-12);
  // No prefetch at all: the same step, gain 0.
  const LayerStepPrediction n = predict_layer_step(h100(), step(1024, 4096, 128), setup(PrefetchPolicy::kNone));
  EXPECT_DOUBLE_EQ(n.step_prefetch_us, n.step_us);
  EXPECT_DOUBLE_EQ(n.step_us, r.step_us);
}

TEST(Sequence, FullGridBlocksTheSidePrefetch) {
  // m=2048, n=6144: 384 tiles, the persistent grid takes all 132 SMs.
  LayerStepSetup s = setup(PrefetchPolicy::kEvictLast);
  const LayerStepPrediction r = predict_layer_step(h100(), step(2048, 6144, 256), s);
  EXPECT_EQ(r.free_sms, 0);
  EXPECT_TRUE(r.prefetch_blocked);
  EXPECT_EQ(r.cap, "blocked");
  EXPECT_GT(r.gemm_prefetch_us, r.gemm_us);
  // Reserving SMs frees issuers: no longer blocked, and the GEMM runs on fewer SMs.
  s.gemm_reserve_sms = 16;
  const LayerStepPrediction q = predict_layer_step(h100(), step(2048, 6144, 256), s);
  EXPECT_FALSE(q.prefetch_blocked);
  EXPECT_EQ(q.free_sms, 16);
  EXPECT_GE(q.gemm_us, r.gemm_us);
}

TEST(Sequence, BlockedPrefetchLandsAtTheFirstRetirementByHand) {
  // m=2048, n=6144: 16 x 24 tiles of 128 x 256, clusters of 2 along M: 8 x 24 = 192 cluster
  // tiles over 66 clusters: some get 2, some 3, so the first SMs free up after 2/3 of the GEMM.
  const PrefetchConstants& pc = default_prefetch_constants();
  const double hbm_rate = 3.35e12 * default_constants().hbm_efficiency;  // H100 datasheet x hbm_efficiency
  LayerStepSetup s = setup(PrefetchPolicy::kEvictLast);
  const LayerStepPrediction r = predict_layer_step(h100(), step(2048, 6144, 256), s);
  ASSERT_TRUE(r.prefetch_blocked);
  EXPECT_NEAR(r.prefetch_resident_us, r.gemm_us * 2.0 / 3.0, 1e-9);
  // 132 CTAs of 254 KB each: the delay bound holds (135.1 us + 33.6 MB at the HBM rate).
  EXPECT_NEAR(r.prefetch_end_us, r.prefetch_resident_us + pc.blocked_prefetch_delay_us + r.kv_bytes / hbm_rate * 1e6, 1e-6);
  EXPECT_DOUBLE_EQ(r.gemm_prefetch_us, r.prefetch_end_us);
  // 8 CTAs, 67.1 MB: each CTA's 8.4 MB at 30.26 GB/s (277 us) is the longer bound.
  s.prefetch_ctas = 8;
  const LayerStepPrediction e = predict_layer_step(h100(), step(2048, 6144, 512), s);
  EXPECT_NEAR(e.prefetch_end_us, e.prefetch_resident_us + e.kv_bytes / 8 / pc.blocked_prefetch_bytes_per_s_per_cta * 1e6, 1e-6);
  EXPECT_GT(e.prefetch_end_us - e.prefetch_resident_us, pc.blocked_prefetch_delay_us + e.kv_bytes / hbm_rate * 1e6);
}

TEST(Sequence, EvenlySplitGridFreesNoSmBeforeItsEnd) {
  // m=2816, n=3072: 22 x 12 tiles, 11 x 12 = 132 cluster tiles, 2 for each of the 66
  // clusters: no SM frees up early, and the prefetch runs alone after the GEMM.
  const LayerStepPrediction r = predict_layer_step(h100(), step(2816, 3072, 256), setup(PrefetchPolicy::kEvictLast));
  ASSERT_TRUE(r.prefetch_blocked);
  EXPECT_DOUBLE_EQ(r.prefetch_resident_us, r.gemm_us);
  EXPECT_DOUBLE_EQ(r.prefetch_end_us, r.gemm_us + r.prefetch_alone_us);
}

TEST(Sequence, TimedPartsAndJsonRoundTrip) {
  const nlohmann::json problem = {{"kind", "layer_step"}, {"m", 1024},  {"n", 4096},         {"k", 4096},
                                  {"batch", 32},          {"heads_q", 32}, {"heads_kv", 8},  {"q_per_seq", 1},
                                  {"seq_kv", 256},        {"head_dim", 128}, {"page_size", 0}, {"dtype", "bf16"}};
  const nlohmann::json tile = {{"timed", "step_pf_last"}, {"prefetch", "evict_last"}, {"prefetch_ctas", 132},
                               {"gemm", to_json(gemm_tile())}, {"decode", to_json(decode_tile())}};
  const LayerStepPrediction r =
      predict_layer_step(h100(), layer_step_problem_from_json(problem), layer_step_setup_from_json(tile));
  EXPECT_DOUBLE_EQ(r.time_of("step"), r.step_us);
  EXPECT_DOUBLE_EQ(r.time_of("step_pf_last"), r.step_prefetch_us);
  EXPECT_DOUBLE_EQ(r.time_of("gemm"), r.gemm_us);
  EXPECT_LT(r.time_of("decode_l2"), r.time_of("decode_cold"));
  EXPECT_TRUE(to_json(r).contains("gain_pct"));
}

template <typename F>
void expect_model_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Sequence, BadInputIsNamed) {
  LayerStepProblem swapped = step(1024, 4096, 256);
  std::swap(swapped.gemm, swapped.decode);
  expect_model_error([&] { predict_layer_step(h100(), swapped, setup(PrefetchPolicy::kEvictLast)); }, "must be a gemm");
  LayerStepSetup s = setup(PrefetchPolicy::kEvictLast);
  s.gemm_reserve_sms = 132;
  expect_model_error([&] { predict_layer_step(h100(), step(1024, 4096, 256), s); }, "gemm_reserve_sms");
  s = setup(PrefetchPolicy::kEvictLast);
  s.prefetch_ctas = -1;
  expect_model_error([&] { predict_layer_step(h100(), step(1024, 4096, 256), s); }, "prefetch_ctas");
  PrefetchConstants bad = default_prefetch_constants();
  bad.persisting_kept_fraction = 1.5;
  expect_model_error(
      [&] { predict_layer_step(h100(), step(1024, 4096, 256), setup(PrefetchPolicy::kEvictLast), default_constants(), bad); },
      "prefetch constants");
  expect_model_error([] { parse_prefetch_policy("evict_first"); }, "prefetch");
  expect_model_error([] { parse_prefetch_launch("later"); }, "prefetch_launch");
  const nlohmann::json tile = {{"prefetch", "evict_last"}, {"gemm", to_json(gemm_tile())}, {"decode", to_json(decode_tile())}};
  nlohmann::json t2 = tile;
  t2["prefetch_distance"] = 2;
  expect_model_error([&] { layer_step_setup_from_json(t2); }, "unknown field 'prefetch_distance'");
  nlohmann::json t3 = tile;
  t3.erase("decode");
  expect_model_error([&] { layer_step_setup_from_json(t3); }, "'decode'");
  nlohmann::json t4 = tile;
  t4["gemm_reserve_sms"] = -3;
  expect_model_error([&] { layer_step_setup_from_json(t4); }, "gemm_reserve_sms");
  expect_model_error([] { layer_step_problem_from_json({{"kind", "gemm"}, {"m", 8}}); }, "layer_step");
  expect_model_error([] { layer_step_problem_from_json({{"kind", "layer_step"}, {"m", 8}, {"n", 8}, {"k", 8}}); }, "'batch'");
  const LayerStepPrediction r = predict_layer_step(h100(), step(1024, 4096, 256), setup(PrefetchPolicy::kEvictLast));
  expect_model_error([&] { (void)r.time_of("decode_warm"); }, "unknown timed part");
}

}  // namespace
}  // namespace tilesim::model

namespace tilesim::model {
namespace {

TEST(Sequence, PrefetchingOnlyWhatL2KeepsEndsSooner) {
  // KV 134 MB beside the m=1024 GEMM (4 free SMs): the whole KV takes ~150 us to request,
  // far past the GEMM; the first 32.8 MB (the set-aside) ends inside it and keeps 0.82 of it.
  LayerStepProblem p;
  p.gemm = test::parse_problem(R"({"kind":"gemm","m":1024,"n":4096,"k":4096})");
  p.decode = test::parse_problem(R"({"kind":"decode","batch":32,"heads_q":32,"heads_kv":8,"seq_kv":1024,"head_dim":128})");
  LayerStepSetup s;
  s.gemm_tile = parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1,raster=8");
  s.decode_tile = parse_tile("block_n=64,stages=3,l2_prefetch=0,splits=1");
  s.policy = PrefetchPolicy::kEvictLast;
  const Profile h100 = profiles::resolve_profile("h100");
  const LayerStepPrediction all = predict_layer_step(h100, p, s);
  s.prefetch_bytes = 32768000.0;
  const LayerStepPrediction fit = predict_layer_step(h100, p, s);
  EXPECT_DOUBLE_EQ(all.prefetch_bytes, all.kv_bytes);
  EXPECT_DOUBLE_EQ(fit.prefetch_bytes, 32768000.0);
  EXPECT_GT(all.prefetch_end_us, all.gemm_us);
  EXPECT_LT(fit.prefetch_end_us, all.prefetch_end_us);
  EXPECT_DOUBLE_EQ(fit.kept_bytes, 0.82 * 32768000.0);
  EXPECT_LT(fit.step_prefetch_us, all.step_prefetch_us);
  s.prefetch_bytes = -1;
  EXPECT_THROW(predict_layer_step(h100, p, s), ModelError);
}

}  // namespace
}  // namespace tilesim::model
