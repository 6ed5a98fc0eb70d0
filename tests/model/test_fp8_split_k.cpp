// gemm_sm90_fp8 with split-K: each split of an output tile promotes its own K groups into
// an fp32 partial tile, and a reduce pass sums the partials into bf16 C, as gemm_sm90_ws
// splits (one helper, add_split_k_reduce). A 64 x 2112 x 7168 projection (17 tiles of
// 64 x 128, 56 K groups) is where it pays: 17 CTAs alone leave 115 of the 132 SMs idle.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;
using test::use_work;

const char* kFp8 = R"({"kind":"gemm","m":64,"n":2112,"k":7168,"dtype":"fp8"})";
const char* kBf16 = R"({"kind":"gemm","m":64,"n":2112,"k":7168,"dtype":"bf16"})";
const char* kTile = "block_m=64,block_n=128,block_k=128,stages=8,consumers=1,promote_overlap=1";

Prediction fp8(int split_k) {
  return predict(profiles::resolve_profile("h200"), parse_problem(kFp8), "gemm_sm90_fp8",
                 parse_tile(std::string(kTile) + ",split_k=" + std::to_string(split_k)));
}

TEST(Fp8SplitK, SplitsTheKGroupsOverMoreItems) {
  const Prediction one = fp8(1), four = fp8(4);
  EXPECT_EQ(one.work_items, 17);
  EXPECT_EQ(four.work_items, 4 * 17);
  ASSERT_EQ(four.desc.grid.classes.size(), 1u);
  EXPECT_EQ(four.desc.grid.classes[0].iterations, 14);  // 56 K groups / 4
  EXPECT_LT(four.time_us, one.time_us) << "17 CTAs on 132 SMs: splitting K fills them";
}

TEST(Fp8SplitK, PartialsAreFp32AndAReducePassSumsThem) {
  const Prediction one = fp8(1), four = fp8(4);
  const double mn = 64.0 * 2112.0;
  EXPECT_TRUE(one.desc.post.name.empty());
  EXPECT_EQ(four.desc.post.name, "split-k reduce");
  constexpr double kFp32 = 4.0, kBf16Bytes = 2.0;
  EXPECT_DOUBLE_EQ(four.desc.post.hbm_bytes, mn * kFp32 * 4 + mn * kBf16Bytes);  // read 4 partials, write C
  // The partial is stored as it is: no conversion, and twice the bf16 tile's bytes.
  const Op& e1 = op_named(one.desc.epilogue, "epilogue.wg0");
  const Op& e4 = op_named(four.desc.epilogue, "epilogue.wg0");
  EXPECT_GT(use_work(e1, Unit::kCvt), 0.0);
  EXPECT_DOUBLE_EQ(use_work(e4, Unit::kCvt), 0.0);
  EXPECT_DOUBLE_EQ(use_work(e4, Unit::kSmem), 2.0 * use_work(e1, Unit::kSmem));
}

// One reduce pass for both schedules: the same C and split give the same post pass.
TEST(Fp8SplitK, SameReducePassAsTheBf16Gemm) {
  const Prediction f = fp8(4);
  const Prediction b = predict(profiles::resolve_profile("h200"), parse_problem(kBf16), "gemm_sm90_ws",
                               parse_tile("block_m=64,block_n=128,block_k=64,stages=8,consumers=1,cluster_m=1,cluster_n=1,split_k=4"));
  EXPECT_DOUBLE_EQ(f.desc.post.hbm_bytes, b.desc.post.hbm_bytes);
  EXPECT_DOUBLE_EQ(f.desc.post.launch_us, b.desc.post.launch_us);
}

// As the kernel: every split gets ceil(K groups / split_k) groups, so 8 splits asked over
// 2 K groups run as 2.
TEST(Fp8SplitK, SplitsBeyondTheKGroupsRunAsOnePerGroup) {
  const Profile h200 = profiles::resolve_profile("h200");
  const Problem short_k = parse_problem(R"({"kind":"gemm","m":64,"n":2112,"k":256,"dtype":"fp8"})");
  const Prediction eight = predict(h200, short_k, "gemm_sm90_fp8", parse_tile(std::string(kTile) + ",split_k=8"));
  const Prediction two = predict(h200, short_k, "gemm_sm90_fp8", parse_tile(std::string(kTile) + ",split_k=2"));
  EXPECT_EQ(eight.work_items, 2 * 17);
  EXPECT_DOUBLE_EQ(eight.time_us, two.time_us);
}

}  // namespace
}  // namespace tilesim::model
