// `tilesim measure` without a GPU: the runner command line built from problem options, the
// kernel selection from the runner's instance list, the measurement JSON read back and
// joined with the model, end to end through a fake runner (a shell script) and a fake
// nvidia-smi on PATH.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.hpp"
#include "measure_core.hpp"
#include "tilesim/model/model.hpp"

namespace {

namespace fs = std::filesystem;
namespace ms = tilesim::cli::measure;
using nlohmann::json;

tilesim::model::Problem attention(int head_dim, bool causal) {
  tilesim::model::Problem p;
  p.kind = tilesim::model::ProblemKind::kAttention;
  p.batch = 2;
  p.heads_q = 32;
  p.heads_kv = 8;
  p.seq_q = 4096;
  p.seq_kv = 4096;
  p.head_dim = head_dim;
  p.head_dim_v = head_dim;
  p.causal = causal;
  return p;
}

const json kList =
    json::parse(R"({"schema": "tilesim.kernel_list.v1", "runner": "tilesim-attn-bench",
  "instances": [
    {"name": "fa2_d128", "schedule": "attn_fa2", "tile": {"block_m": 128, "block_n": 64, "stages": 2, "warps": 8},
     "requires": {"head_dim": 128, "dtype": "bf16"}},
    {"name": "fa3_d128_bn128", "schedule": "attn_fa3", "tile": {"block_n": 128, "stages": 2}, "requires": {"head_dim": 128, "dtype": "bf16"}},
    {"name": "fa3_d128_bn176", "schedule": "attn_fa3", "tile": {"block_n": 176, "stages": 2}, "requires": {"head_dim": 128, "dtype": "bf16"}},
    {"name": "fa3_d64", "schedule": "attn_fa3", "tile": {"block_n": 192, "stages": 2}, "requires": {"head_dim": 64, "dtype": "bf16"}}]})");

TEST(MeasureCore, ShapeArgUsesTheRunnersKeys) {
  EXPECT_EQ(ms::shape_arg(attention(128, true)),
            "batch=2,heads_q=32,heads_kv=8,seq_q=4096,seq_kv=4096,head_dim=128,causal=1");
  tilesim::model::Problem g;
  g.kind = tilesim::model::ProblemKind::kGemm;
  g.m = 4096;
  g.n = 1024;
  g.k = 8192;
  EXPECT_EQ(ms::shape_arg(g), "m=4096,n=1024,k=8192");
  EXPECT_EQ(ms::family_of(g), "gemm");
}

TEST(MeasureCore, RunnerArgsAreATimedCheckedRunOfOneShape) {
  const auto a = ms::runner_args(attention(64, false), "fa3_d64", {30, 3}, "/tmp/x.json");
  const std::vector<std::string> want = {
      "--sweep",
      "--shape",
      "batch=2,heads_q=32,heads_kv=8,seq_q=4096,seq_kv=4096,head_dim=64,causal=0",
      "--kernel",
      "fa3_d64",
      "--reps",
      "30",
      "--passes",
      "3",
      "--out",
      "/tmp/x.json"};
  EXPECT_EQ(a, want);
  // Defaults left to the runner: no --reps / --passes / --kernel.
  EXPECT_EQ(ms::runner_args(attention(64, false), "", {}, "o.json").size(), 5u);
}

TEST(MeasureCore, SelectsOnlyInstancesServingTheProblem) {
  // head_dim 128: the d64 instance does not serve it, whatever the filter.
  EXPECT_EQ(ms::select_kernels(kList, attention(128, false), "attn_fa3", json::object()),
            (std::vector<std::string>{"fa3_d128_bn128", "fa3_d128_bn176"}));
  EXPECT_EQ(ms::select_kernels(kList, attention(128, false), "", json{{"block_n", 176}}),
            (std::vector<std::string>{"fa3_d128_bn176"}));
  EXPECT_EQ(ms::select_kernels(kList, attention(64, false), "", json::object()),
            (std::vector<std::string>{"fa3_d64"}));
}

TEST(MeasureCore, NoMatchingInstanceIsAUsageErrorListingWhatServes) {
  try {
    ms::select_kernels(kList, attention(128, false), "attn_fa3", json{{"block_n", 96}});
    FAIL() << "expected a usage error";
  } catch (const tilesim::cli::UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("attn_fa3"), std::string::npos) << m;
    EXPECT_NE(m.find("\"block_n\":96"), std::string::npos) << m;
    EXPECT_NE(m.find("fa3_d128_bn176"), std::string::npos) << m;  // what does serve it
    EXPECT_EQ(m.find("fa3_d64"), std::string::npos) << m;         // not what does not
  }
}

// A scratch folder with a fake runner and a fake nvidia-smi, first on PATH.
struct FakeMachine {
  fs::path dir;
  std::string old_path;
  explicit FakeMachine(bool gpu) {
    dir = fs::temp_directory_path() /
          ("tilesim_measure_test_" + std::to_string(::getpid()) + (gpu ? "_gpu" : "_nogpu"));
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_exec("nvidia-smi", gpu ? "#!/bin/sh\necho 'GPU 0: fake'\n" : "#!/bin/sh\nexit 9\n");
    // The runner: --list --json prints the instance list; a timed run writes a measurement
    // with one run per instance it was asked for (and cuBLAS-like vendor runs when not
    // restricted), recording its own arguments so the test can check them.
    std::ofstream(dir / "list.json") << R"({"schema": "tilesim.kernel_list.v1", "instances": [
      {"name": "sm90_a", "schedule": "gemm_sm90_ws", "tile": {"block_m": 128, "block_n": 128, "block_k": 64, "stages": 4,
       "consumers": 2, "cluster_m": 1, "cluster_n": 1, "raster": 8, "split_k": 1}, "requires": {"dtype": "bf16"}}]})";
    write_exec("tilesim-gemm-bench", R"(#!/bin/sh
d=$(dirname "$0")
for a in "$@"; do [ "$a" = "--list" ] && exec cat "$d/list.json"; done
echo "$@" >> "$d/calls.txt"
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out="$a"; prev="$a"; done
cat > "$out" <<JSON
{"schema": "tilesim.measurement.v1", "family": "gemm", "device": {"name": "NVIDIA H100 80GB HBM3"},
 "tool": {"name": "tilesim-gemm-bench"},
 "runs": [
  {"impl": "tilesim", "schedule": "gemm_sm90_ws", "problem": {"kind": "gemm", "m": 4096, "n": 4096, "k": 4096, "dtype": "bf16"},
   "tile": {"block_m": 128, "block_n": 128, "block_k": 64, "stages": 4, "consumers": 2, "cluster_m": 1, "cluster_n": 1, "raster": 8, "split_k": 1},
   "median_ms": 0.25, "check": {"passed": true}},
  {"impl": "cublas", "problem": {"kind": "gemm", "m": 4096, "n": 4096, "k": 4096, "dtype": "bf16"},
   "median_ms": 0.2, "check": {"passed": $( [ -f "$d/fail" ] && echo false || echo true )}}]}
JSON
)");
    old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
    setenv("PATH", (dir.string() + ":" + old_path).c_str(), 1);
  }
  ~FakeMachine() {
    setenv("PATH", old_path.c_str(), 1);
    fs::remove_all(dir);
  }
  void write_exec(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    fs::permissions(dir / name, fs::perms::owner_all);
  }
  std::string read(const std::string& name) const {
    std::ifstream f(dir / name);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
};

struct Result {
  int code;
  std::string out, err;
};
Result run(const std::vector<std::string>& argv) {
  std::ostringstream out, err;
  tilesim::cli::Context ctx{out, err};
  const int code = tilesim::cli::run_cli(argv, ctx);
  return {code, out.str(), err.str()};
}

TEST(Measure, RunsTheRunnerAndJoinsMeasuredWithPredicted) {
  FakeMachine fake(true);
  const std::string out = (fake.dir / "m.json").string();
  auto r = run({"measure", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096",
                "--bin-dir", fake.dir.string(), "--out", out, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fake.read("calls.txt"),
            "--sweep --shape m=4096,n=4096,k=4096 --out " + out + ".part0\n");
  const json j = json::parse(r.out);
  ASSERT_EQ(j.at("runs").size(), 2u);
  const json& ours = j.at("runs")[0];
  EXPECT_EQ(ours.at("impl"), "tilesim");
  EXPECT_DOUBLE_EQ(ours.at("measured_us").get<double>(), 250.0);
  ASSERT_TRUE(ours.at("predicted_us").is_number()) << ours.dump();
  EXPECT_GT(ours.at("predicted_us").get<double>(), 0.0);
  EXPECT_TRUE(j.at("runs")[1].at("predicted_us").is_null());  // vendor: no tile to predict
  // The measurement JSON is kept, in the schema validate reads, with what was asked.
  std::ifstream f(out);
  const json saved = json::parse(f);
  EXPECT_EQ(saved.at("schema"), "tilesim.measurement.v1");
  EXPECT_EQ(saved.at("runs").size(), 2u);
  EXPECT_EQ(saved.at("tool").at("measure").at("gpu"), "h100");
  EXPECT_FALSE(fs::exists(out + ".part0"));
}

TEST(Measure, ScheduleAndTileSelectOneKernel) {
  FakeMachine fake(true);
  const std::string out = (fake.dir / "m.json").string();
  auto r = run({"measure", "--gpu", "h100",       "gemm",         "--m",       "4096",
                "--n",     "4096",  "--k",        "4096",         "--bin-dir", fake.dir.string(),
                "--out",   out,     "--schedule", "gemm_sm90_ws", "--tile",    "block_n=128",
                "--reps",  "25"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(
      fake.read("calls.txt"),
      "--sweep --shape m=4096,n=4096,k=4096 --kernel sm90_a --reps 25 --out " + out + ".part0\n");
  EXPECT_NE(r.out.find("gemm_sm90_ws"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("measured_us"), std::string::npos) << r.out;
}

TEST(Measure, FailedCorrectnessCheckExitsOne) {
  FakeMachine fake(true);
  std::ofstream(fake.dir / "fail") << "";
  auto r = run({"measure", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096",
                "--bin-dir", fake.dir.string(), "--out", (fake.dir / "m.json").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("correctness check failed"), std::string::npos) << r.err;
}

TEST(Measure, NoGpuIsAClearErrorAndRunsNothing) {
  FakeMachine fake(false);
  auto r = run({"measure", "--gpu", "h100", "gemm", "--m", "4096", "--n", "4096", "--k", "4096",
                "--bin-dir", fake.dir.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("needs a GPU"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fake.dir / "calls.txt"));
}

TEST(Measure, UsageErrorsNameTheProblem) {
  EXPECT_EQ(run({"measure", "gemm", "--m", "8"}).code, 2);  // no --gpu
  auto r =
      run({"measure", "--gpu", "h100", "mla", "--batch", "1", "--heads-q", "16", "--seq-kv", "64"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mla"), std::string::npos) << r.err;
}

}  // namespace
