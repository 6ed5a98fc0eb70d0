// An epilogue's stores leave their SM at sm_store_bytes_per_clk (measured: the Hopper GEMMs'
// own epilogue code, microbench gemm/epilogue), shared by the consumer warpgroups that store
// at the same time: the time a cooperative GEMM's SM spends per tile outside its main loop
// grows with the tile's bytes, fp32 split-K partials twice bf16 C.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;

ModelConstants with_store_rate(double bytes_per_clk) {
  ModelConstants k = default_constants();
  k.sm_store_bytes_per_clk = bytes_per_clk;
  return k;
}

const char* kLarge = R"({"kind":"gemm","m":4096,"n":12288,"k":4096,"dtype":"bf16"})";
const char* kTile = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1";

// 128 x 256 bf16 tile, two consumers of 64 rows: each stores 64 x 256 x 2 B = 32 KiB while
// the other stores its own, so each one's chain is the CTA's 64 KiB at the SM's rate; the
// epilogue is that chain plus the store's DRAM latency (the op's latency).
TEST(EpilogueStore, TheTileLeavesTheSmAtTheStoreRate) {
  const Profile p = profiles::resolve_profile("h200");
  const ModelConstants k = with_store_rate(16.0);
  const Prediction pr = predict(p, parse_problem(kLarge), "gemm_sm90_ws", parse_tile(kTile), k);
  const Op& ep = op_named(pr.desc.epilogue, "epilogue.wg0");
  EXPECT_DOUBLE_EQ(ep.chain_cycles, 2.0 * 64 * 256 * 2 / 16.0);
  EXPECT_DOUBLE_EQ(pr.epilogue_cycles, ep.chain_cycles + ep.latency_cycles);
}

// split_k = 2: the partials are fp32, twice the bytes of the bf16 tile, so twice the chain;
// at twice the rate the chain halves.
TEST(EpilogueStore, SplitKPartialsTakeTwiceTheBf16Chain) {
  const Profile p = profiles::resolve_profile("h200");
  const std::string split = std::string(kTile) + ",split_k=2";
  const Prediction bf16 = predict(p, parse_problem(kLarge), "gemm_sm90_ws", parse_tile(kTile), with_store_rate(16.0));
  const Prediction part = predict(p, parse_problem(kLarge), "gemm_sm90_ws", parse_tile(split), with_store_rate(16.0));
  const Prediction fast = predict(p, parse_problem(kLarge), "gemm_sm90_ws", parse_tile(split), with_store_rate(32.0));
  const double c_bf16 = op_named(bf16.desc.epilogue, "epilogue.wg1").chain_cycles;
  const double c_part = op_named(part.desc.epilogue, "epilogue.wg1").chain_cycles;
  EXPECT_DOUBLE_EQ(c_part, 2.0 * c_bf16);
  EXPECT_DOUBLE_EQ(op_named(fast.desc.epilogue, "epilogue.wg1").chain_cycles, 0.5 * c_part);
  EXPECT_GT(part.epilogue_cycles, bf16.epilogue_cycles);
}

// The built-in constant is the measured one, within the H200 run's spread (28.0-30.3 B/clk
// over both paths and 1-32 CTAs).
TEST(EpilogueStore, BuiltInRateIsTheMeasuredOne) {
  EXPECT_GE(default_constants().sm_store_bytes_per_clk, 28.0);
  EXPECT_LE(default_constants().sm_store_bytes_per_clk, 30.3);
}

}  // namespace
}  // namespace tilesim::model
