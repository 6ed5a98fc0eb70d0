// The layer-step model with the prefetch issued inside the GEMM (launch in_gemm): it needs no
// free SM, it lengthens the GEMM by KV / issue ceiling, and (as measured on H100) its lines
// are kept as normal ones, so a GEMM that streams more than the usable L2 after them keeps
// nothing; pacing late in the GEMM keeps more; bad input is named.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "tilesim/model/sequence.hpp"

namespace tilesim::model {
namespace {

LayerStepProblem step(int m, int n, int seq_kv) {
  LayerStepProblem p;
  p.gemm = test::parse_problem(R"({"kind":"gemm","m":)" + std::to_string(m) + R"(,"n":)" + std::to_string(n) +
                               R"(,"k":4096})");
  p.decode = test::parse_problem(R"({"kind":"decode","batch":32,"heads_q":32,"heads_kv":8,"seq_kv":)" +
                                 std::to_string(seq_kv) + R"(,"head_dim":128})");
  return p;
}

LayerStepSetup in_gemm() {
  LayerStepSetup s;
  s.gemm_tile = parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1,raster=8");
  s.decode_tile = parse_tile("block_n=64,stages=3,l2_prefetch=0,splits=1");
  s.policy = PrefetchPolicy::kEvictLast;
  s.launch = PrefetchLaunch::kInGemm;
  return s;
}

const Profile& h100() {
  static const Profile p = profiles::resolve_profile("h100");
  return p;
}

TEST(SequenceInGemm, FullGridIsNotBlocked) {
  // m=2048 n=6144: 384 tile clusters, the grid takes all 132 SMs. The side kernel is blocked
  // there; the in-GEMM prefetch is not.
  LayerStepSetup side = in_gemm();
  side.launch = PrefetchLaunch::kSide;
  const LayerStepPrediction s = predict_layer_step(h100(), step(2048, 6144, 256), side);
  const LayerStepPrediction g = predict_layer_step(h100(), step(2048, 6144, 256), in_gemm());
  EXPECT_EQ(g.free_sms, 0);
  EXPECT_TRUE(s.prefetch_blocked);
  EXPECT_FALSE(g.prefetch_blocked);
  // The side prefetch starts when the GEMM ends; the in-GEMM one ends inside the GEMM.
  EXPECT_GT(s.prefetch_end_us, s.gemm_us);
  EXPECT_LE(g.prefetch_end_us, g.gemm_prefetch_us);
  EXPECT_LT(g.prefetch_end_us, s.prefetch_end_us);
}

TEST(SequenceInGemm, GemmLengthenedByKvOverIssueCeilingByHand) {
  // Unpaced: the GEMM ends later by KV / (1.36 x 3.35 TB/s).
  const LayerStepPrediction r = predict_layer_step(h100(), step(1024, 4096, 256), in_gemm());
  EXPECT_NEAR(r.gemm_prefetch_us - r.gemm_us, 33554432.0 / (1.36 * 3.35e12) * 1e6, 1e-6);
}

TEST(SequenceInGemm, EarlyLinesAreEvictedByTheGemmsStream) {
  // Issued at the GEMM's start, kept as normal lines: the GEMM streams more than the usable
  // L2 after them, so nothing is kept and the step can only lose (the measured outcome).
  const LayerStepPrediction r = predict_layer_step(h100(), step(2048, 6144, 256), in_gemm());
  EXPECT_DOUBLE_EQ(r.kept_bytes, 0.0);
  EXPECT_LT(r.gain_pct, 0.0);
  // If the hint were honoured, the set-aside would keep 0.82 of the 33.6 MB.
  PrefetchConstants honoured = default_prefetch_constants();
  honoured.in_gemm_hint_honoured = true;
  const LayerStepPrediction h = predict_layer_step(h100(), step(2048, 6144, 256), in_gemm(), default_constants(), honoured);
  EXPECT_DOUBLE_EQ(h.kept_bytes, 0.82 * h.kv_bytes);
  EXPECT_GT(h.gain_pct, 0.0);
}

TEST(SequenceInGemm, LatePacingKeepsMore) {
  // The same prefetch placed in the last part of the GEMM meets less of its stream.
  const LayerStepPrediction early = predict_layer_step(h100(), step(1024, 4096, 256), in_gemm());
  LayerStepSetup late = in_gemm();
  late.prefetch_delay_us = 0.75 * early.gemm_us;
  late.prefetch_pace_us = 0.15 * early.gemm_us;
  const LayerStepPrediction l = predict_layer_step(h100(), step(1024, 4096, 256), late);
  EXPECT_GT(l.kept_bytes, early.kept_bytes);
  EXPECT_LT(l.decode_in_step_us, early.decode_in_step_us);
}

TEST(SequenceInGemm, PacingOnlyInGemmAndNamedInErrors) {
  LayerStepSetup s = in_gemm();
  s.launch = PrefetchLaunch::kSide;
  s.prefetch_pace_us = 10;
  EXPECT_THROW(predict_layer_step(h100(), step(1024, 4096, 256), s), ModelError);
  s = in_gemm();
  s.prefetch_delay_us = -1;
  EXPECT_THROW(predict_layer_step(h100(), step(1024, 4096, 256), s), ModelError);
  EXPECT_EQ(parse_prefetch_launch("in_gemm"), PrefetchLaunch::kInGemm);
  EXPECT_STREQ(prefetch_launch_name(PrefetchLaunch::kInGemm), "in_gemm");
  try {
    parse_prefetch_launch("inside");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("in_gemm"), std::string::npos);
  }
}

TEST(SequenceInGemm, TileJsonReadsPaceAndDelay) {
  const nlohmann::json t = {{"timed", "step_pf_last"},
                            {"prefetch", "evict_last"},
                            {"prefetch_launch", "in_gemm"},
                            {"prefetch_pace_ns", 24000},
                            {"prefetch_delay_ns", 36000},
                            {"gemm", {{"block_m", 128}, {"block_n", 256}, {"block_k", 64}, {"stages", 4},
                                      {"consumers", 2}, {"cluster_m", 2}, {"cluster_n", 1}, {"raster", 8}}},
                            {"decode", {{"block_n", 64}, {"stages", 3}, {"l2_prefetch", 0}, {"splits", 1}}}};
  const LayerStepSetup s = layer_step_setup_from_json(t);
  EXPECT_EQ(s.launch, PrefetchLaunch::kInGemm);
  EXPECT_DOUBLE_EQ(s.prefetch_pace_us, 24.0);
  EXPECT_DOUBLE_EQ(s.prefetch_delay_us, 36.0);
  nlohmann::json side = t;
  side["prefetch_launch"] = "side";
  EXPECT_THROW(layer_step_setup_from_json(side), ModelError);
  nlohmann::json neg = t;
  neg["prefetch_delay_ns"] = -5;
  EXPECT_THROW(layer_step_setup_from_json(neg), ModelError);
}

}  // namespace
}  // namespace tilesim::model
