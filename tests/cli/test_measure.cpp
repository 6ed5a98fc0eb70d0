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
#include "common/shape_args.hpp"
#include "measure_core.hpp"
#include "runner_exec.hpp"
#include "tilesim/model/model.hpp"
#include "validate_core.hpp"

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

tilesim::model::Problem mla(int64_t page_size) {
  tilesim::model::Problem p;
  p.kind = tilesim::model::ProblemKind::kMla;
  p.batch = 16;
  p.heads_q = 128;
  p.heads_kv = 1;
  p.q_per_seq = 2;
  p.seq_kv = 4096;
  p.head_dim = 576;
  p.head_dim_v = 512;
  p.page_size = page_size;
  return p;
}

// tilesim-mla-bench --list --json as the runner prints it (kernels/common/instance_list.hpp,
// names and tiles of kernels/attention/mla/mla_registry.cpp).
const json kMlaList =
    json::parse(R"({"schema": "tilesim.kernel_list.v1", "runner": "tilesim-mla-bench",
  "instances": [
    {"name": "heads_on_m_bq64_bn64_st2", "schedule": "mla_decode",
     "tile": {"block_n": 64, "stages": 2, "kv_on_m": 0, "block_q": 64}, "requires": {"dtype": "bf16", "paged": 1}},
    {"name": "kv_on_m_bq16_bn64_st2", "schedule": "mla_decode",
     "tile": {"block_n": 64, "stages": 2, "kv_on_m": 1, "block_q": 16}, "requires": {"dtype": "bf16", "paged": 1}},
    {"name": "kv_on_m_bq64_bn64_st2", "schedule": "mla_decode",
     "tile": {"block_n": 64, "stages": 2, "kv_on_m": 1, "block_q": 64}, "requires": {"dtype": "bf16", "paged": 1}}]})");

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

TEST(MeasureCore, MlaShapeArgIsWhatTheMlaRunnerParses) {
  const std::string arg = ms::shape_arg(mla(64));
  EXPECT_EQ(arg,
            "batch=16,heads_q=128,heads_kv=1,q_per_seq=2,seq_kv=4096,head_dim=576,head_dim_v=512,"
            "page_size=64");
  EXPECT_EQ(ms::family_of(mla(64)), "mla");
  // Read back by the runner's own parser, every value is the problem's.
  const auto v = tilesim::runner::parse_shape(arg, tilesim::runner::mla_shape_keys());
  EXPECT_EQ(v["batch"], 16);
  EXPECT_EQ(v["heads_q"], 128);
  EXPECT_EQ(v["q_per_seq"], 2);
  EXPECT_EQ(v["seq_kv"], 4096);
  EXPECT_EQ(v["page_size"], 64);
}

TEST(MeasureCore, EveryFamilysShapeArgParsesBackWithItsRunnersKeys) {
  tilesim::model::Problem d = mla(16);
  d.kind = tilesim::model::ProblemKind::kDecode;
  d.heads_kv = 8;
  d.head_dim = d.head_dim_v = 128;
  for (const auto& p : {attention(128, true), d, mla(64)}) {
    const auto& keys = tilesim::cli::kernel_runner(ms::family_of(p)).shape_keys();
    const auto v = tilesim::runner::parse_shape(ms::shape_arg(p), keys);
    EXPECT_EQ(v["batch"], p.batch) << ms::shape_arg(p);
    EXPECT_EQ(v["heads_kv"], p.heads_kv) << ms::shape_arg(p);
    EXPECT_EQ(v["head_dim"], p.head_dim) << ms::shape_arg(p);
  }
}

TEST(MeasureCore, AShapeTheRunnerRefusesIsAUsageErrorNamingTheKey) {
  // The MLA kernels read pages of 64 tokens only; the model's default is contiguous (0).
  try {
    ms::shape_arg(mla(0));
    FAIL() << "expected a usage error";
  } catch (const tilesim::cli::UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("tilesim-mla-bench"), std::string::npos) << m;
    EXPECT_NE(m.find("page_size=0"), std::string::npos) << m;
    EXPECT_NE(m.find("--page-size"), std::string::npos) << m;
  }
}

TEST(MeasureCore, RunnerNamesComeFromOneList) {
  EXPECT_EQ(tilesim::cli::runner_name("mla"), "tilesim-mla-bench");
  EXPECT_EQ(tilesim::cli::runner_name("decode"), "tilesim-decode-bench");
  EXPECT_EQ(tilesim::cli::runner_families(", "), "gemm, attention, decode, mla");
  try {
    tilesim::cli::runner_name("layer_step");
    FAIL() << "expected a usage error";
  } catch (const tilesim::cli::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("gemm, attention, decode, mla"), std::string::npos)
        << e.what();
  }
}

TEST(MeasureCore, SelectsMlaInstancesFromTheRunnersList) {
  EXPECT_EQ(ms::select_kernels(kMlaList, mla(64), "mla_decode", json::object()).size(), 3u);
  EXPECT_EQ(ms::select_kernels(kMlaList, mla(64), "", json{{"kv_on_m", 1}}),
            (std::vector<std::string>{"kv_on_m_bq16_bn64_st2", "kv_on_m_bq64_bn64_st2"}));
  EXPECT_EQ(
      ms::select_kernels(kMlaList, mla(64), "mla_decode", json{{"kv_on_m", 1}, {"block_q", 16}}),
      (std::vector<std::string>{"kv_on_m_bq16_bn64_st2"}));
  // Contiguous KV: the paged kernels do not serve it.
  EXPECT_THROW(ms::select_kernels(kMlaList, mla(0), "", json::object()), tilesim::cli::UsageError);
  // Another family's schedule: nothing picked, what serves listed.
  try {
    ms::select_kernels(kMlaList, mla(64), "decode_splitkv", json::object());
    FAIL() << "expected a usage error";
  } catch (const tilesim::cli::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("kv_on_m_bq64_bn64_st2"), std::string::npos) << e.what();
  }
}

TEST(MeasureCore, PassesOnlyGoToARunnerThatTakesThem) {
  const auto a = ms::runner_args(mla(64), "kv_on_m_bq16_bn64_st2", {40, 0}, "o.json");
  const std::vector<std::string> want = {"--sweep",
                                         "--shape",
                                         ms::shape_arg(mla(64)),
                                         "--kernel",
                                         "kv_on_m_bq16_bn64_st2",
                                         "--reps",
                                         "40",
                                         "--out",
                                         "o.json"};
  EXPECT_EQ(a, want);
  try {
    ms::runner_args(mla(64), "", {0, 3}, "o.json");
    FAIL() << "expected a usage error";
  } catch (const tilesim::cli::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--passes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tilesim-mla-bench"), std::string::npos) << e.what();
  }
}

TEST(MeasureCore, JoinPredictsCommittedMlaRuns) {
  const auto runs = tilesim::validate::load_measurement_file(
      std::string(TILESIM_DATA_DIR) + "/measurements/mla/2026-11-27_h100_mla_sweep_run2.json");
  const auto rows = ms::join(runs, "h100", tilesim::model::default_constants());
  int ours = 0;
  for (const auto& r : rows) {
    if (r.impl != "tilesim") continue;
    ++ours;
    EXPECT_EQ(r.schedule, "mla_decode");
    ASSERT_TRUE(r.predicted_us.has_value()) << r.tile << ": " << r.note;
    EXPECT_GT(*r.predicted_us, 0.0);
    EXPECT_GT(r.measured_us, 0.0);
  }
  EXPECT_GT(ours, 0);
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
  // tilesim-mla-bench: the instance list above (kMlaList) and, for a timed run, one
  // kv_on_m run at the shape of `mla(64)` (q_per_seq 1).
  void add_mla_runner() const {
    std::ofstream(dir / "mla_list.json") << kMlaList.dump();
    write_exec("tilesim-mla-bench", R"(#!/bin/sh
d=$(dirname "$0")
for a in "$@"; do [ "$a" = "--list" ] && exec cat "$d/mla_list.json"; done
echo "$@" >> "$d/calls.txt"
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out="$a"; prev="$a"; done
cat > "$out" <<JSON
{"schema": "tilesim.measurement.v1", "family": "mla", "device": {"name": "NVIDIA H100 80GB HBM3"},
 "tool": {"name": "tilesim-mla-bench"},
 "runs": [
  {"impl": "tilesim", "schedule": "mla_decode",
   "problem": {"kind": "mla", "batch": 16, "heads_q": 128, "heads_kv": 1, "q_per_seq": 1, "seq_kv": 4096,
               "head_dim": 576, "head_dim_v": 512, "page_size": 64, "dtype": "bf16"},
   "tile": {"block_n": 64, "splits": 2, "stages": 2, "kv_on_m": 1, "block_q": 16},
   "median_ms": 0.1, "check": {"passed": true}}]}
JSON
)");
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

TEST(Measure, MlaRunsThroughItsRunner) {
  FakeMachine fake(true);
  fake.add_mla_runner();
  const std::string out = (fake.dir / "m.json").string();
  auto r = run({"measure",     "--gpu",
                "h100",        "mla",
                "--batch",     "16",
                "--heads-q",   "128",
                "--seq-kv",    "4096",
                "--page-size", "64",
                "--bin-dir",   fake.dir.string(),
                "--out",       out,
                "--schedule",  "mla_decode",
                "--tile",      "kv_on_m=1,block_q=16",
                "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fake.read("calls.txt"),
            "--sweep --shape "
            "batch=16,heads_q=128,heads_kv=1,q_per_seq=1,seq_kv=4096,head_dim=576,head_dim_v=512,"
            "page_size=64 --kernel kv_on_m_bq16_bn64_st2 --out " +
                out + ".part0\n");
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("family"), "mla");
  ASSERT_EQ(j.at("runs").size(), 1u);
  EXPECT_DOUBLE_EQ(j.at("runs")[0].at("measured_us").get<double>(), 100.0);
  ASSERT_TRUE(j.at("runs")[0].at("predicted_us").is_number()) << j.dump();
  EXPECT_GT(j.at("runs")[0].at("predicted_us").get<double>(), 0.0);
}

TEST(Measure, NoGpuIsAClearErrorForMlaToo) {
  FakeMachine fake(false);
  fake.add_mla_runner();
  auto r = run({"measure", "--gpu", "h100", "mla", "--batch", "16", "--heads-q", "128", "--seq-kv",
                "4096", "--page-size", "64", "--bin-dir", fake.dir.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("needs a GPU"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fake.dir / "calls.txt"));
}

TEST(Measure, UsageErrorsNameTheProblem) {
  EXPECT_EQ(run({"measure", "gemm", "--m", "8"}).code, 2);  // no --gpu
  // mla without --page-size: contiguous KV, which the paged MLA kernels do not read.
  auto r =
      run({"measure", "--gpu", "h100", "mla", "--batch", "1", "--heads-q", "16", "--seq-kv", "64"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("page_size=0"), std::string::npos) << r.err;
  // No problem kind: the message lists every kind measure runs.
  r = run({"measure", "--gpu", "h100"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("gemm, attention, decode, mla"), std::string::npos) << r.err;
  // --passes with a runner that takes none: a usage error before the GPU is looked for.
  FakeMachine fake(false);
  fake.add_mla_runner();
  r = run({"measure", "--gpu", "h100", "mla", "--batch", "16", "--heads-q", "128", "--seq-kv",
           "4096", "--page-size", "64", "--passes", "3", "--bin-dir", fake.dir.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--passes"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fake.dir / "calls.txt"));
}

TEST(Measure, HelpNamesMla) {
  auto r = run({"measure", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("<gemm|attention|decode|mla>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tilesim measure --gpu h100 mla"), std::string::npos) << r.out;
}

}  // namespace
