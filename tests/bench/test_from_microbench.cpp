// The microbenchmark JSON -> measured profile conversion, and `tilesim bench`'s handling
// of files (no GPU needed: --from). The fixture is shaped like tilesim-microbench output.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "command.hpp"
#include "tilesim/from_microbench.hpp"
#include "tilesim/profile.hpp"

using nlohmann::json;
using namespace tilesim::profiles;

namespace {

const std::string kFixture = std::string(TILESIM_TEST_FIXTURES) + "/microbench_h100_small.json";

json fixture() {
  std::ifstream in(kFixture);
  return json::parse(in);
}

int cli(std::vector<std::string> argv, std::string* out = nullptr, std::string* err = nullptr) {
  std::ostringstream o, e;
  tilesim::cli::Context ctx{o, e};
  const int code = tilesim::cli::run_cli(argv, ctx);
  if (out) *out = o.str();
  if (err) *err = e.str();
  return code;
}

}  // namespace

TEST(FromMicrobench, ConvertsToAValidPartialProfileOverTheRightBase) {
  const auto res = profile_from_microbench(fixture(), "fx.json");
  EXPECT_EQ(res.profile["base"], "h100");
  EXPECT_EQ(res.profile["id"], "h100_measured_2026_11_21");
  const Profile p = parse_profile(res.profile.dump(), "converted");
  // The best wgmma bf16 over N is taken.
  EXPECT_DOUBLE_EQ(p.per_sm.tensor_bf16.value, 4010.0);
  EXPECT_EQ(p.per_sm.tensor_bf16.source, "tilesim-bench");
  EXPECT_EQ(p.sources.at("tilesim-bench").kind, "measured");
  EXPECT_EQ(p.sources.at("tilesim-bench").device, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(p.sources.at("tilesim-bench").date, "2026-11-21");
  EXPECT_NE(p.sources.at("tilesim-bench").tool.find("580.159.04"), std::string::npos);
  EXPECT_DOUBLE_EQ(p.per_sm.mufu_ex2.value, 15.9);
  EXPECT_DOUBLE_EQ(p.chip.l2_bandwidth.value, 9.5e12);  // the 16 MB working set, not the 32 MB one
  EXPECT_DOUBLE_EQ(p.latency.tensor_mma.value, 120.0);
  // Sustained clock: median over the wgmma throughput benchmarks (1750, 1755 -> upper
  // median 1755), not over the ALU ones that run at a higher clock.
  ASSERT_TRUE(p.clocks.sustained_mhz.present);
  EXPECT_DOUBLE_EQ(p.clocks.sustained_mhz.value, 1755.0);
  EXPECT_DOUBLE_EQ(p.model_clock_mhz(), 1755.0);
  EXPECT_NE(p.clocks.sustained_mhz.note.find("tensor-core load"), std::string::npos);
  // Not measured in the fixture: kept from the base, and reported as missing.
  EXPECT_EQ(p.per_sm.tensor_fp8.source, builtin_profile("h100").per_sm.tensor_fp8.source);
  EXPECT_NE(std::find(res.missing.begin(), res.missing.end(), "per_sm_per_clk.tensor_fp8"), res.missing.end());
}

TEST(FromMicrobench, FlagsSpreadAndClockDrop) {
  const auto res = profile_from_microbench(fixture(), "fx.json");
  bool spread = false, drop = false;
  for (const auto& w : res.warnings) {
    spread |= w.find("alu/mufu_ex2/throughput: spread") != std::string::npos;
    drop |= w.find("alu/ffma/throughput: SM clock") != std::string::npos;
  }
  EXPECT_TRUE(spread);
  EXPECT_TRUE(drop);
}

TEST(FromMicrobench, MalformedInputNamesWhatIsWrong) {
  auto expect_error = [](const json& j, const std::string& needle) {
    try {
      profile_from_microbench(j, "bad.json");
      FAIL() << "accepted: " << needle;
    } catch (const MicrobenchError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
    }
  };
  expect_error(json::array(), "not a JSON object");
  expect_error(json::object(), "benchmarks");
  auto j = fixture();
  j["context"].erase("tilesim_gpu_name");
  expect_error(j, "tilesim_gpu_name");
  auto k = fixture();
  k["benchmarks"][0]["name"] = 7;
  expect_error(k, "benchmarks[0].name");
  auto m = fixture();
  m["context"]["tilesim_gpu_name"] = "NVIDIA A100-SXM4-80GB";
  expect_error(m, "A100");
  auto n = fixture();
  n["context"]["tilesim_device_report"] = "{not json";
  expect_error(n, "tilesim_device_report");
  auto q = fixture();
  q["benchmarks"] = json::array();
  expect_error(q, "no successful benchmark results");
}

TEST(FromMicrobench, DeviceNamesMapToBaseProfiles) {
  EXPECT_EQ(base_profile_for_device("NVIDIA H100 80GB HBM3"), "h100");
  EXPECT_EQ(base_profile_for_device("NVIDIA H200"), "h200");
  EXPECT_EQ(base_profile_for_device("NVIDIA H20"), "h20");
  EXPECT_EQ(base_profile_for_device("NVIDIA B200"), "b200");
  EXPECT_THROW(base_profile_for_device("Tesla V100"), MicrobenchError);
}

TEST(BenchCli, FromWritesProfileAndRefusesToOverwrite) {
  const std::string out = ::testing::TempDir() + "measured_profile.json";
  std::filesystem::remove(out);
  std::string o, e;
  ASSERT_EQ(cli({"bench", "--from", kFixture, "--out", out}, &o, &e), 0) << e;
  ASSERT_TRUE(std::filesystem::exists(out));
  EXPECT_EQ(load_profile_file(out).base, "h100");
  const auto before = std::filesystem::last_write_time(out);
  EXPECT_EQ(cli({"bench", "--from", kFixture, "--out", out}, &o, &e), 2);
  EXPECT_NE(e.find("--force"), std::string::npos);
  EXPECT_EQ(std::filesystem::last_write_time(out), before);
  EXPECT_EQ(cli({"bench", "--from", kFixture, "--out", out, "--force"}), 0);
  // The written profile is usable by every command that takes --gpu / a profile path.
  EXPECT_EQ(cli({"gpus", "show", out}, &o, &e), 0) << e;
  EXPECT_NE(o.find("measured"), std::string::npos);
  std::filesystem::remove(out);
}

TEST(BenchCli, BadInputsExitNonZeroAndWriteNothing) {
  const std::string out = ::testing::TempDir() + "never_written.json";
  std::filesystem::remove(out);
  std::string o, e;
  EXPECT_EQ(cli({"bench", "--from", "/nonexistent/run.json", "--out", out}, &o, &e), 1);
  EXPECT_NE(e.find("/nonexistent/run.json"), std::string::npos);
  const std::string bad = ::testing::TempDir() + "truncated_run.json";
  {
    std::ifstream in(kFixture);
    std::stringstream ss;
    ss << in.rdbuf();
    std::ofstream(bad) << ss.str().substr(0, ss.str().size() / 2);
  }
  EXPECT_EQ(cli({"bench", "--from", bad, "--out", out}, &o, &e), 1);
  EXPECT_NE(e.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(cli({"bench", "--from", kFixture, "--quick"}), 2);
  std::filesystem::remove(bad);
}

TEST(BenchCli, WithoutAGpuRunningTheSuiteIsARuntimeError) {
  // This test machine class (CI) has no GPU; on a GPU machine the suite would run, so
  // point --bin at a missing binary to keep the test deterministic either way.
  std::string o, e;
  const int code = cli({"bench", "--bin", "/nonexistent/tilesim-microbench", "--quick"}, &o, &e);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(e.find("no NVIDIA GPU") != std::string::npos || e.find("not found") != std::string::npos) << e;
}

// ---- Blackwell: suite selection and the tcgen05 rows --------------------------------
// The B200 fixture's numbers are invented (no B200 run exists): they test the plumbing.
namespace {
json b200_fixture() {
  std::ifstream in(std::string(TILESIM_TEST_FIXTURES) + "/microbench_b200_invented.json");
  return json::parse(in);
}
}  // namespace

TEST(SuiteSelection, PicksTheBinaryByComputeCapability) {
  const auto hopper = suite_for_compute_capability("9.0");
  EXPECT_EQ(hopper.binary, "tilesim-microbench");
  EXPECT_EQ(hopper.arch, "sm_90a");
  EXPECT_TRUE(hopper.validated_on_hardware);
  const auto blackwell = suite_for_compute_capability("10.0");
  EXPECT_EQ(blackwell.binary, "tilesim-microbench-sm100");
  EXPECT_EQ(blackwell.arch, "sm_100a");
  EXPECT_FALSE(blackwell.validated_on_hardware);  // says so until someone runs it on a B200
  EXPECT_NE(blackwell.caveat.find("never run"), std::string::npos);
}

TEST(SuiteSelection, RefusesCapabilitiesWithNoBuildNamingThem) {
  for (const std::string cc : {"10.3", "12.0", "8.0", "9.1"}) {
    try {
      suite_for_compute_capability(cc);
      ADD_FAILURE() << cc << " accepted";
    } catch (const MicrobenchError& e) {
      EXPECT_NE(std::string(e.what()).find(cc), std::string::npos) << e.what();
    }
  }
  // B300 (10.3): the message says why sm_100a code cannot serve it.
  try {
    suite_for_compute_capability("10.3");
  } catch (const MicrobenchError& e) {
    EXPECT_NE(std::string(e.what()).find("sm_103a"), std::string::npos) << e.what();
  }
  EXPECT_THROW(suite_for_compute_capability("ten"), MicrobenchError);
  EXPECT_THROW(suite_for_compute_capability(""), MicrobenchError);
}

TEST(FromMicrobench, Tcgen05RowsFillTheB200Profile) {
  const auto res = profile_from_microbench(b200_fixture(), "b200.json");
  EXPECT_EQ(res.profile["base"], "b200");
  const Profile p = parse_profile(res.profile.dump(), "converted");
  // Best over shapes, A source and CTA group: the TMEM-A 1-CTA row, not the SMEM-bound N=64 one.
  EXPECT_DOUBLE_EQ(p.per_sm.tensor_bf16.value, 8160.0);
  EXPECT_NE(p.per_sm.tensor_bf16.note.find("tcgen05/bf16/ts/cta1/m128n256/throughput"), std::string::npos);
  EXPECT_DOUBLE_EQ(p.per_sm.tensor_fp8.value, 16340.0);
  EXPECT_DOUBLE_EQ(p.latency.tensor_mma.value, 264.0);
  EXPECT_NE(p.latency.tensor_mma.note.find("tcgen05"), std::string::npos);
  // Sustained clock from the tcgen05 throughput rows only (1800, 1810, 1850, 1790 -> upper median 1810).
  ASSERT_TRUE(p.clocks.sustained_mhz.present);
  EXPECT_DOUBLE_EQ(p.clocks.sustained_mhz.value, 1810.0);
  EXPECT_DOUBLE_EQ(p.per_sm.fp32_fma.value, 127.0);  // FFMA, not the packed FFMA2 count
  // Not in the run: kept from the built-in b200 and listed as missing.
  EXPECT_NE(std::find(res.missing.begin(), res.missing.end(), "per_sm_per_clk.tensor_tf32"), res.missing.end());
  // Each field appears once in `measured` even though two map rows feed it.
  EXPECT_EQ(std::count(res.measured.begin(), res.measured.end(), "per_sm_per_clk.tensor_bf16"), 1);
}

TEST(FromMicrobench, HopperRunsIgnoreTheTcgen05Rows) {
  const auto res = profile_from_microbench(fixture(), "fx.json");
  const Profile p = parse_profile(res.profile.dump(), "converted");
  EXPECT_NE(p.per_sm.tensor_bf16.note.find("wgmma/"), std::string::npos);
  EXPECT_EQ(std::count(res.measured.begin(), res.measured.end(), "latency.tensor_mma"), 1);
}

TEST(BenchCli, HelpSaysTheBlackwellSuiteIsUnrun) {
  std::string out;
  ASSERT_EQ(cli({"bench", "--help"}, &out), 0);
  EXPECT_NE(out.find("COMPILED BUT NEVER RUN"), std::string::npos);
  EXPECT_NE(out.find("tilesim-microbench-sm100"), std::string::npos);
  EXPECT_NE(out.find("10.0"), std::string::npos);
}

namespace {
// A median row of an op-cost benchmark, shaped like bench_attn_ops.cu's output.
json op_row(const std::string& name, std::map<std::string, double> counters) {
  json b = {{"name", name + "_median"}, {"run_name", name},   {"run_type", "aggregate"}, {"aggregate_name", "median"},
            {"repetitions", 3},         {"real_time", 1.0},   {"cpu_time", 1.0},         {"time_unit", "ms"},
            {"sm_clock_mhz", 1780.0},   {"rep_spread_pct", 0.5}};
  for (const auto& [k, v] : counters) b[k] = v;
  return b;
}
}  // namespace

TEST(FromMicrobench, OpCostRowsBecomeTheProfilesOpTable) {
  json j = fixture();
  const std::map<std::string, double> never = {{"iter_cycles", 2457}, {"issue_cycles", 708}, {"s_wait_cycles", 173},
                                               {"softmax_cycles", 1256}, {"pack_cycles", 162}, {"rescale_cycles", 47}};
  const std::map<std::string, double> always = {{"iter_cycles", 2753}, {"issue_cycles", 612}, {"s_wait_cycles", 283},
                                                {"softmax_cycles", 1251}, {"pack_cycles", 271}, {"rescale_cycles", 236},
                                                {"rescale_share", 1.0}};
  j["benchmarks"].push_back(op_row("op/fa3/d128/bn128/intra1/emu0/thr0/pingpong/rescale_never", never));
  j["benchmarks"].push_back(op_row("op/fa3/d128/bn128/intra1/emu0/thr0/pingpong/rescale_always", always));
  j["benchmarks"].push_back(op_row("op/fa3/d64/bn128/intra1/emu50/thr8/free/rescale_never", never));
  j["benchmarks"].push_back(op_row("op/fa3/d128/bn128/intra1/emu0/thr0/solo/rescale_never", never));  // not used
  const auto res = profile_from_microbench(j, "fx.json");
  EXPECT_EQ(res.profile["ops"].size(), 5u + 3u);  // pingpong: 3 from never + 2 from always; free: 3
  // Over the base: the 5 pingpong entries replace the H100's own, the free d64 ones are new.
  const Profile p = parse_profile(res.profile.dump(), "converted");
  EXPECT_EQ(p.ops.size(), builtin_profile("h100").ops.size() + 3u);
  const std::map<std::string, double> key = {{"head_dim", 128}, {"block_n", 128},        {"intra_overlap", 1},
                                             {"pingpong", 1},    {"exp_emu_fraction", 0}, {"rescale_threshold", 0}};
  ASSERT_NE(find_op(p.ops, "fa3.qk_block", key), nullptr);
  EXPECT_DOUBLE_EQ(find_op(p.ops, "fa3.qk_block", key)->cycles, 708 + 173);
  EXPECT_DOUBLE_EQ(find_op(p.ops, "fa3.softmax", key)->cycles, 1256 + 162);
  EXPECT_DOUBLE_EQ(find_op(p.ops, "fa3.softmax_rescaling", key)->cycles, 1251 + 271);
  EXPECT_DOUBLE_EQ(find_op(p.ops, "fa3.rescale", key)->cycles, 236);
  EXPECT_DOUBLE_EQ(find_op(p.ops, "fa3.iteration", key)->cycles, 2457);
  EXPECT_EQ(find_op(p.ops, "fa3.qk_block", key)->source, "tilesim-bench");
  // free rows are pingpong = 0; the emulation share is a fraction; the threshold as is.
  const std::map<std::string, double> free_key = {{"head_dim", 64}, {"block_n", 128},          {"intra_overlap", 1},
                                                   {"pingpong", 0},  {"exp_emu_fraction", 0.5}, {"rescale_threshold", 8}};
  EXPECT_NE(find_op(p.ops, "fa3.softmax", free_key), nullptr);
  EXPECT_EQ(find_op(p.ops, "fa3.rescale", free_key), nullptr);  // only rescale_always rows give it
}

// One fact in one place: the built-in profiles' op tables are exactly the conversion of the
// committed runs they cite (scripts/profile_set_ops.py wrote them).
TEST(FromMicrobench, BuiltInOpTablesAreTheCommittedRunsConverted) {
  for (const std::string chip : {"h100", "h200"}) {
    std::ifstream in(std::string(TILESIM_DATA_DIR) + "/measurements/microbench/2026-11-27_" + chip + "_attn_ops.json");
    ASSERT_TRUE(in) << chip;
    const auto res = profile_from_microbench(json::parse(in), chip + " run");
    const Profile converted = parse_profile(res.profile.dump(), "converted");
    const Profile builtin = builtin_profile(chip);
    ASSERT_EQ(converted.ops.size(), builtin.ops.size()) << chip;
    for (const auto& c : converted.ops) {
      const auto* b = find_op(builtin.ops, c.op, std::map<std::string, double>(c.key.begin(), c.key.end()));
      ASSERT_NE(b, nullptr) << chip << " " << c.op;
      EXPECT_DOUBLE_EQ(b->cycles, c.cycles) << chip << " " << c.op;
      EXPECT_EQ(builtin.sources.at(b->source).kind, "measured");
    }
  }
}
