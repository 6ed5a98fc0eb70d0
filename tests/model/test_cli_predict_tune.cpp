// `tilesim predict` and `tilesim tune` through the CLI entry point: exit codes, messages
// that name the bad field, JSON fields.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "command.hpp"
#include "nlohmann/json.hpp"

namespace tilesim::cli {
namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Context ctx{out, err};
  const int rc = run_cli(args, ctx);
  return {rc, out.str(), err.str()};
}

const std::vector<std::string> kGemm = {"predict", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096",
                                        "--schedule", "gemm_sm90_ws", "--tile",
                                        "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1"};

std::vector<std::string> with(std::vector<std::string> a, std::initializer_list<std::string> more) {
  a.insert(a.end(), more);
  return a;
}

void expect_all_finite(const nlohmann::json& j) {
  if (j.is_number()) {
    EXPECT_TRUE(std::isfinite(j.get<double>()));
  }
  if (j.is_structured())
    for (const auto& x : j) expect_all_finite(x);
}

TEST(CliPredict, JsonHasTheDocumentedFields) {
  const Result r = run(with(kGemm, {"--json"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"time_us", "tflops", "bytes_hbm", "hbm_gbps", "bottleneck", "units", "waves", "tail_efficiency", "why", "tile"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["units"].contains("tensor"));
  EXPECT_TRUE(j["units"]["tensor"].contains("cycles_per_iter"));
  EXPECT_TRUE(j["units"]["tensor"].contains("utilization"));
  EXPECT_EQ(j["tile"]["raster"], 1);  // defaulted, and said so:
  EXPECT_EQ(j["defaults"][0], "raster");
  expect_all_finite(j);
}

TEST(CliPredict, ExplainAndTextAndScale) {
  const Result e = run(with(kGemm, {"--explain"}));
  ASSERT_EQ(e.rc, 0) << e.err;
  EXPECT_NE(e.out.find("mma.wg0"), std::string::npos);
  EXPECT_NE(e.out.find("2*64*256*64 FLOP"), std::string::npos);
  const Result t = run(kGemm);
  ASSERT_EQ(t.rc, 0);
  EXPECT_NE(t.out.find("bottleneck: tensor"), std::string::npos);
  EXPECT_NE(t.out.find("defaults: raster=1"), std::string::npos);
  const Result s = run(with(kGemm, {"--scale", "tensor=4", "--json"}));
  ASSERT_EQ(s.rc, 0) << s.err;
  EXPECT_NE(nlohmann::json::parse(s.out)["bottleneck"], "tensor");  // 4x tensor: something else binds
}

// A memory-bound decode from the runners' memset-flushed L2 writes its dirty lines back (and
// --explain says how many bytes); from a clean L2 it does not.
TEST(CliPredict, L2StartStateOfAMemoryBoundKernel) {
  const std::vector<std::string> decode = {"predict", "--gpu", "h200", "decode", "--batch", "16", "--heads-q", "16",
                                           "--heads-kv", "2", "--q-per-seq", "2", "--seq-kv", "8192", "--head-dim", "128",
                                           "--schedule", "decode_splitkv", "--tile", "block_n=64,splits=4,stages=4"};
  const Result m = run(with(decode, {"--json"}));
  const Result c = run(with(decode, {"--l2-start", "clean", "--json"}));
  ASSERT_EQ(m.rc, 0) << m.err;
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto jm = nlohmann::json::parse(m.out), jc = nlohmann::json::parse(c.out);
  EXPECT_GT(jm["l2_writeback_bytes"].get<double>(), 1e7);
  EXPECT_EQ(jc["l2_writeback_bytes"].get<double>(), 0.0);
  EXPECT_GT(jm["time_us"].get<double>(), jc["time_us"].get<double>() + 5.0);
  const Result e = run(with(decode, {"--explain"}));
  ASSERT_EQ(e.rc, 0) << e.err;
  EXPECT_NE(e.out.find("write back dirty lines the L2 held at the start"), std::string::npos);
}

TEST(CliPredict, BadInputExitsTwoNamingTheField) {
  auto expect2 = [](const std::vector<std::string>& a, const std::string& needle) {
    const Result r = run(a);
    EXPECT_EQ(r.rc, 2) << needle;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  expect2(with(kGemm, {"--scale", "warp=2"}), "valid: tensor, mufu");
  expect2(with(kGemm, {"--l2-start", "dirty"}), "--l2-start must be memset, clean or warm, got 'dirty'");
  expect2({"predict", "--gpu", "h100", "gemm", "--m", "0", "--n", "8", "--k", "8", "--schedule", "gemm_sm90_ws", "--tile", "block_m=64"},
          "m must be > 0");
  expect2({"predict", "--gpu", "h100", "gemm", "--n", "8", "--k", "8", "--schedule", "gemm_sm90_ws", "--tile", "block_m=64"}, "--m");
  expect2({"predict", "--gpu", "h100", "gemm", "--m", "8", "--n", "8", "--k", "8", "--seq-q", "4", "--schedule", "gemm_sm90_ws",
           "--tile", "block_m=64"},
          "--seq-q does not apply");
  expect2({"predict", "--gpu", "h100", "gemm", "--m", "64", "--n", "64", "--k", "64", "--schedule", "nope", "--tile", "block_m=64"},
          "unknown 'nope'");
  expect2({"predict", "--gpu", "h100", "gemm", "--m", "64", "--n", "64", "--k", "64", "--schedule", "gemm_sm90_ws", "--tile", "block_m"},
          "malformed");
  expect2({"predict", "--gpu", "mi300", "gemm", "--m", "64", "--n", "64", "--k", "64", "--schedule", "gemm_sm90_ws", "--tile", "a=1"},
          "unknown GPU 'mi300'");
  expect2({"predict", "--gpu", "b200", "attention", "--batch", "1", "--heads-q", "8", "--seq-q", "1024", "--head-dim", "128",
           "--schedule", "attn_fa3", "--tile", "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"},
          "sm_90a");
  expect2({"predict", "--gpu", "h100", "gemm", "--m", "64", "--n", "64", "--k", "64", "--schedule", "gemm_sm90_ws", "--tile",
           "block_m=128,block_n=256,block_k=64,stages=9,consumers=2,cluster_m=1,cluster_n=1"},
          "infeasible");
}

TEST(CliTune, SideBySideAndJson) {
  const std::vector<std::string> a = {"tune", "--gpu", "h100,h20,b200", "attention", "--batch", "2", "--heads-q", "16",
                                      "--seq-q", "2048", "--head-dim", "128", "--top", "2"};
  const Result t = run(a);
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("best tile per GPU"), std::string::npos);
  EXPECT_NE(t.out.find("attn_fa4"), std::string::npos);  // B200's best
  const Result j = run(with(a, {"--json"}));
  ASSERT_EQ(j.rc, 0);
  const auto js = nlohmann::json::parse(j.out);
  ASSERT_EQ(js["gpus"].size(), 3u);
  for (const auto& g : js["gpus"]) {
    EXPECT_LE(g["ranked"].size(), 2u);
    EXPECT_GT(g["feasible"].get<int>(), 0);
  }
  EXPECT_TRUE(js["gpus"][2]["schedules_rejected"].contains("attn_fa3"));
  expect_all_finite(js);
  EXPECT_EQ(run(with(a, {"--top", "0"})).rc, 2);
}

}  // namespace
}  // namespace tilesim::cli

namespace tilesim::cli {
namespace {

// A layer step (GEMM then decode, KV prefetch into L2) through --sequence.
TEST(CliPredict, SequenceFilePredictsTheStep) {
  const std::string file = std::string(TILESIM_DATA_DIR_FOR_TESTS) + "/model/layer_step_example.json";
  const Result r = run({"predict", "--gpu", "h100", "--sequence", file, "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"step_us", "step_prefetch_us", "gain_pct", "kept_bytes", "cap", "why"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_GT(j["step_us"].get<double>(), j["gemm_us"].get<double>());
  // Text output names what limits the gain.
  const Result t = run({"predict", "--gpu", "h100", "--sequence", file});
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("limited by"), std::string::npos) << t.out;
  // The file carries the problem: a problem kind beside it is a usage error.
  const Result both = run({"predict", "--gpu", "h100", "--sequence", file, "gemm", "--m", "8", "--n", "8", "--k", "8"});
  EXPECT_EQ(both.rc, 2);
  const Result missing = run({"predict", "--gpu", "h100", "--sequence", "/nonexistent/step.json"});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("/nonexistent/step.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace tilesim::cli
