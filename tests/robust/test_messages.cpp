// Messages say what is wrong in the user's terms: base names a built-in, report --out
// under a file, tile values in plain decimal, architectures that exist.
#include <gtest/gtest.h>

#include "robust_util.hpp"
#include "tilesim/model/model.hpp"

namespace tilesim::robust {
namespace {

std::string profile_error(const std::string& text) {
  try {
    (void)profiles::parse_profile(text, "p.json");
  } catch (const profiles::ProfileError& e) {
    return e.what();
  }
  return "";
}

TEST(Messages, BaseMustNameABuiltIn) {
  const std::string e = profile_error(R"({"schema": "tilesim.profile.v1", "id": "t", "base": "b.json"})");
  EXPECT_TRUE(contains(e, "field 'base'")) << e;
  EXPECT_TRUE(contains(e, "not a built-in")) << e;
  EXPECT_FALSE(contains(e, "path")) << e;
}

TEST(Messages, UnknownArchIsRefused) {
  const std::string e = profile_error(R"({"schema": "tilesim.profile.v1", "id": "t", "base": "h100", "arch": "sm_42"})");
  EXPECT_TRUE(contains(e, "field 'arch'")) << e;
  EXPECT_TRUE(contains(e, "sm_42")) << e;
}

TEST(Messages, ReportOutUnderAFileSaysItIsAFile) {
  ScratchDir dir("report_out");
  const std::string f = dir.file("FILE", "x");
  const auto r = cli({"report", "--out", f + "/r"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.err, "is a file, not a folder")) << r.err;
}

TEST(Messages, TileValuesArePlainDecimal) {
  for (const char* t : {"block_m=1e2", "block_m=0x80", "block_m=inf", "block_m=+128", "block_m=12.", "block_m=.5"})
    EXPECT_THROW((void)model::parse_tile(t), model::ModelError) << t;
  EXPECT_EQ(model::parse_tile(kGemmTile).get("block_m"), 128.0);
  EXPECT_EQ(model::parse_tile("frac=0.25").get("frac"), 0.25);
  const auto r = cli({"predict", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096", "--schedule",
                      "gemm_sm90_ws", "--tile", "block_m=1e2"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "plain decimal")) << r.err;
}

TEST(Messages, SizeLimitMessageMatchesTheCheck) {
  const auto r = cli({"predict", "--gpu", "h100", "gemm", "--m", "2147483648", "--n", "128", "--k", "128", "--schedule",
                      "gemm_sm90_ws", "--tile", kGemmTile});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "< 2^31")) << r.err;
}

}  // namespace
}  // namespace tilesim::robust
