// Products of sizes (tensor elements, FLOPs) are checked: a problem too large for exact
// counts is a usage error (exit 2) naming the product, never "0 work items" or negative
// bytes.
#include <gtest/gtest.h>

#include "robust_util.hpp"
#include "tilesim/model/model.hpp"

namespace tilesim::robust {
namespace {

TEST(ProblemSize, HugeBatchTimesHeadsIsTooLarge) {
  const auto r = cli({"predict", "--gpu", "h100", "attention", "--batch", "2147483647", "--heads-q", "2147483647",
                      "--seq-q", "1024", "--head-dim", "128", "--schedule", "attn_fa3", "--tile", kFa3TileCli});
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_TRUE(contains(r.err, "problem too large")) << r.err;
  EXPECT_TRUE(contains(r.err, "batch x heads_q")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(ProblemSize, HugeGemmIsTooLargeForPredictTuneAndSimulate) {
  const std::vector<std::string> dims = {"gemm", "--m", "2147483647", "--n", "2147483647", "--k", "2147483647"};
  for (const char* cmd : {"predict", "tune", "simulate"}) {
    std::vector<std::string> args = {cmd, "--gpu", "h100"};
    args.insert(args.end(), dims.begin(), dims.end());
    if (std::string(cmd) != "tune") {
      for (const char* a : {"--schedule", "gemm_sm90_ws", "--tile", kGemmTile}) args.push_back(a);
    }
    const auto r = cli(args);
    EXPECT_EQ(r.rc, 2) << cmd << ": " << r.out;
    EXPECT_TRUE(contains(r.err, "problem too large")) << cmd << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "m x k")) << cmd << ": " << r.err;
  }
}

TEST(ProblemSize, TwoToThe31IsRefusedAsTheMessageSays) {
  model::Problem p;
  p.kind = model::ProblemKind::kGemm;
  p.m = int64_t{1} << 31;
  p.n = p.k = 128;
  EXPECT_THROW(model::validate(p), model::ModelError);
  p.m = (int64_t{1} << 31) - 1;
  EXPECT_NO_THROW(model::validate(p));
}

TEST(ProblemSize, LargeButRealProblemsStillPredict) {
  const auto r = cli({"predict", "--gpu", "h100", "attention", "--batch", "64", "--heads-q", "128", "--seq-q", "131072",
                      "--head-dim", "128", "--schedule", "attn_fa3", "--tile", kFa3TileCli, "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

}  // namespace
}  // namespace tilesim::robust
