// --scale edge cases: each bad factor is a usage error (exit 2) that names --scale and,
// where the factor makes a field implausible, the field.
#include <gtest/gtest.h>

#include "robust_util.hpp"

namespace tilesim::robust {
namespace {

CliResult predict_scaled(const std::string& scale) {
  return cli({"predict", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096", "--schedule",
              "gemm_sm90_ws", "--tile", kGemmTile, "--scale", scale});
}

TEST(ScaleOption, ExtremeFactorsNameScaleAndTheField) {
  for (const char* s : {"tensor=1e308", "tensor=1e-300", "hbm=1e-12"}) {
    const auto r = predict_scaled(s);
    EXPECT_EQ(r.rc, 2) << s << ": " << r.out;
    EXPECT_TRUE(contains(r.err, "--scale")) << s << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "implausible")) << s << ": " << r.err;
    EXPECT_EQ(r.out, "") << s;
  }
}

TEST(ScaleOption, SubnormalFactorIsANumberButOutOfRange) {
  const auto r = predict_scaled("tensor=1e-308");
  EXPECT_EQ(r.rc, 2);
  EXPECT_FALSE(contains(r.err, "not a number")) << r.err;
  EXPECT_TRUE(contains(r.err, "--scale")) << r.err;
}

TEST(ScaleOption, DuplicateAndEmptyAreRefused) {
  auto r = predict_scaled("mufu=2,mufu=3");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "twice")) << r.err;
  r = predict_scaled("");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "--scale")) << r.err;
  const auto s = cli({"simulate", "--gpu", "h100", "gemm", "--m", "1024", "--n", "1024", "--k", "1024", "--schedule",
                      "gemm_sm90_ws", "--tile", kGemmTile, "--scale", ""});
  EXPECT_EQ(s.rc, 2);
}

TEST(ScaleOption, FewerThanOneSmIsRefusedNotRoundedUp) {
  const auto r = predict_scaled("sms=0.001");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "sms")) << r.err;
  EXPECT_EQ(predict_scaled("sms=0.5").rc, 0);
  EXPECT_EQ(predict_scaled("mufu=2,tensor=0.5").rc, 0);
}

}  // namespace
}  // namespace tilesim::robust
