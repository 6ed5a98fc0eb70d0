// Every profile rate and model constant has plausible bounds on both sides, checked on
// load with the field named; a prediction that is not a finite positive time is an error,
// never printed as a number (text or JSON) and never ranked.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "robust_util.hpp"
#include "tilesim/model/model.hpp"

namespace tilesim::robust {
namespace {

// A partial profile over h100 that replaces one field.
std::string override_profile(const std::string& group, const std::string& name, const std::string& unit,
                             const std::string& value) {
  std::string field = "{\"value\": " + value + ", \"unit\": \"" + unit + "\", \"source\": \"t\"}";
  std::string body = group.empty() ? "\"" + name + "\": " + field
                                   : "\"" + group + "\": {\"" + name + "\": " + field + "}";
  return "{\"schema\": \"tilesim.profile.v1\", \"id\": \"t\", \"base\": \"h100\", "
         "\"sources\": {\"t\": {\"kind\": \"assumed\", \"citation\": \"test\"}}, " + body + "}";
}

std::string load_error(const std::string& text) {
  try {
    (void)profiles::parse_profile(text, "t.json");
  } catch (const profiles::ProfileError& e) {
    return e.what();
  }
  return "";
}

TEST(PlausibleValues, TinyHbmBandwidthIsRefusedNamingTheField) {
  const std::string e = load_error(override_profile("chip", "hbm_bandwidth", "B/s", "1e-300"));
  EXPECT_TRUE(contains(e, "t.json")) << e;
  EXPECT_TRUE(contains(e, "chip.hbm_bandwidth")) << e;
  EXPECT_TRUE(contains(e, "plausible range")) << e;
}

TEST(PlausibleValues, HugeRateIsRefusedWithAShortNumber) {
  const std::string e = load_error(override_profile("per_sm_per_clk", "mufu_ex2", "op/clk/SM", "1e300"));
  EXPECT_TRUE(contains(e, "per_sm_per_clk.mufu_ex2")) << e;
  EXPECT_LT(e.size(), 300u) << e;  // not 300 digits of 1e300
}

TEST(PlausibleValues, SmCountMustBeAWholeNumberOfAtLeastOne) {
  for (const char* v : {"131.5", "0.5"}) {
    const std::string e = load_error(override_profile("", "sm_count", "SM", v));
    EXPECT_TRUE(contains(e, "sm_count")) << v << ": " << e;
  }
  EXPECT_EQ(load_error(override_profile("", "sm_count", "SM", "66")), "");
}

TEST(PlausibleValues, EveryBuiltInProfileIsPlausible) {
  for (const auto& id : profiles::builtin_ids()) EXPECT_NO_THROW((void)profiles::builtin_profile(id)) << id;
}

std::string constants_with(const std::string& name, double value) {
  std::ifstream in(std::string(TILESIM_DATA_DIR) + "/model/constants.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["constants"][name]["value"] = value;
  return j.dump();
}

TEST(PlausibleValues, HugeConstantIsRefusedNamingIt) {
  try {
    (void)model::parse_constants(constants_with("iteration_overhead_cycles", 1e308), "k.json");
    FAIL() << "accepted";
  } catch (const model::ModelError& e) {
    EXPECT_TRUE(contains(e.what(), "iteration_overhead_cycles")) << e.what();
    EXPECT_TRUE(contains(e.what(), "plausible range")) << e.what();
  }
  EXPECT_NO_THROW((void)model::parse_constants(constants_with("iteration_overhead_cycles", 700), "k.json"));
}

// Past the loader (a profile edited in memory): the model refuses to return infinity.
TEST(PlausibleValues, NonFinitePredictionIsAnError) {
  auto prof = profiles::builtin_profile("h100");
  profiles::field(prof, "chip.hbm_bandwidth").value = 1e-300;
  model::Problem p;
  p.kind = model::ProblemKind::kGemm;
  p.m = p.n = p.k = 4096;
  EXPECT_THROW((void)model::predict(prof, p, "gemm_sm90_ws", model::parse_tile(kGemmTile), model::default_constants()),
               model::ModelError);
}

TEST(PlausibleValues, CliRefusesImplausibleProfileAndConstants) {
  ScratchDir dir("plausible");
  const std::string prof = dir.file("slow.json", override_profile("chip", "hbm_bandwidth", "B/s", "1e-300"));
  for (const char* cmd : {"predict", "tune"}) {
    std::vector<std::string> args = {cmd, "--gpu", prof, "gemm", "--m", "4096", "--n", "4096", "--k", "4096", "--json"};
    if (std::string(cmd) == "predict") {
      for (const char* a : {"--schedule", "gemm_sm90_ws", "--tile", kGemmTile}) args.push_back(a);
    }
    const auto r = cli(args);
    EXPECT_EQ(r.rc, 1) << cmd << r.out;
    EXPECT_TRUE(contains(r.err, "chip.hbm_bandwidth")) << r.err;
    EXPECT_FALSE(contains(r.out, "time_us")) << r.out;
  }
  const std::string k = dir.file("k.json", constants_with("iteration_overhead_cycles", 1e308));
  const auto r = cli({"predict", "--gpu", "h100", "--constants", k, "gemm", "--m", "4096", "--n", "4096", "--k", "4096",
                      "--schedule", "gemm_sm90_ws", "--tile", kGemmTile});
  EXPECT_NE(r.rc, 0);
  EXPECT_TRUE(contains(r.err, "iteration_overhead_cycles")) << r.err;
}

}  // namespace
}  // namespace tilesim::robust
