// The command line the check/sweep runners share (kernels/common/runner_cli.hpp), on the
// CPU: shared flags, family flags and their helpers, the optional spec fields (shapes for
// --check, --list, default seed, aliases, a shapes-file list chosen after parsing), the
// errors each bad argument gets, and the measurement file written whole or not at all.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rel_error.hpp"
#include "runner_cli.hpp"

namespace tilesim::runner {
namespace {

CheckSweepOptions parse_with(std::vector<std::string> args, const CheckSweepSpec& spec) {
  args.insert(args.begin(), "tilesim-test-bench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_check_sweep(static_cast<int>(argv.size()), argv.data(), spec);
}

CheckSweepOptions parse(std::vector<std::string> args, const ExtraFlag& extra = {}) {
  return parse_with(std::move(args), {"decode", decode_shape_keys(), 30, 20, extra, "--scale S"});
}

// The message parse_with throws, or "no error".
std::string error_of(std::vector<std::string> args, const CheckSweepSpec& spec) {
  try {
    parse_with(std::move(args), spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

// A shapes file in a fresh temporary folder (removed by the destructor).
struct TempShapes {
  std::filesystem::path dir;
  std::string path;
  explicit TempShapes(const std::string& text)
      : dir(std::filesystem::temp_directory_path() / ("tilesim_runner_shapes_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir);
    path = (dir / "shapes.json").string();
    std::ofstream(path) << text;
  }
  ~TempShapes() { std::filesystem::remove_all(dir); }
};

TEST(RunnerCli, SharedFlagsAndShapes) {
  const auto o = parse({"--sweep", "--reps", "25", "--seed", "7", "--out", "x.json", "--shape",
                        "batch=2,heads_q=8,heads_kv=1,seq_kv=4096,head_dim=128"});
  EXPECT_TRUE(o.sweep);
  EXPECT_FALSE(o.check);
  EXPECT_EQ(o.reps, 25);
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.out, "x.json");
  ASSERT_EQ(o.shapes.size(), 1u);
  EXPECT_EQ(o.shapes[0]["seq_kv"], 4096);
  EXPECT_NE(o.args.find("--reps 25"), std::string::npos);
  EXPECT_EQ(parse({"--check"}).reps, 30);  // the runner's default
  EXPECT_NE(parse({"--check"}).seed, 0u);  // a fresh seed, recorded
  EXPECT_FALSE(o.l2_flush_clean);          // the memset flush unless asked
  EXPECT_TRUE(parse({"--sweep", "--l2-flush", "clean"}).l2_flush_clean);
  EXPECT_FALSE(parse({"--sweep", "--l2-flush", "memset"}).l2_flush_clean);
}

TEST(RunnerCli, FamilyFlag) {
  double scale = 0.0;
  const ExtraFlag extra = [&](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != "--scale") return false;
    scale = std::stod(value());
    return true;
  };
  parse({"--check", "--scale", "0.125"}, extra);
  EXPECT_DOUBLE_EQ(scale, 0.125);
}

TEST(RunnerCli, BadArgumentsNameWhatIsWrong) {
  auto message = [](std::vector<std::string> args) {
    try {
      parse(std::move(args));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({}).find("nothing to do"), std::string::npos);
  EXPECT_NE(message({"--check", "--bogus"}).find("unknown argument '--bogus'"), std::string::npos);
  EXPECT_NE(message({"--check", "--bogus"}).find("--scale S"), std::string::npos);
  EXPECT_NE(message({"--check", "--reps"}).find("--reps needs a value"), std::string::npos);
  EXPECT_NE(message({"--check", "--reps", "5"}).find("--reps must be >= 20"), std::string::npos);
  EXPECT_NE(message({"--check", "--reps", "3x"}).find("not an integer"), std::string::npos);
  EXPECT_NE(message({"--check", "--seed", "-4"}).find("--seed must be >= 0"), std::string::npos);
  EXPECT_NE(message({"--sweep", "--l2-flush", "dirty"}).find("--l2-flush must be memset or clean, got 'dirty'"),
            std::string::npos);
  EXPECT_NE(message({"--check", "--shape", "batch=2,heads_q=8,heads_kv=1,seq_kv=4096,head_dim=128"})
                .find("go with --sweep"),
            std::string::npos);
  EXPECT_NE(
      message({"--sweep", "--shape", "batch=0,heads_q=8,heads_kv=1,seq_kv=4096,head_dim=128"}),
      "no error");
}

TEST(RunnerCli, MeasurementWrittenWholeOrNotAtAll) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tilesim_runner_cli_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "m.json").string();
  CheckSweepOptions o;
  o.args = "--check";
  o.seed = 3;
  nlohmann::json doc = measurement_doc("decode", "tilesim-test-bench", o, {{"name", "cpu"}});
  doc["runs"] = nlohmann::json::array();
  write_measurement(doc, path);
  std::ifstream in(path);
  const auto back = nlohmann::json::parse(in);
  EXPECT_EQ(back.at("schema"), "tilesim.measurement.v1");
  EXPECT_EQ(back.at("tool").at("seed"), 3);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(write_measurement(doc, (dir / "missing" / "m.json").string()), std::runtime_error);
  std::filesystem::remove_all(dir);
}


TEST(RunnerCli, FlagHelpersCheckTheirValues) {
  int warmup = 10;
  double share = 0.5;
  std::string dtype = "bf16";
  std::vector<std::string> kernels;
  const ExtraFlag flags = any_flag({integer_flag("--warmup", &warmup, 0, 100), real_flag("--share", &share, 0, 1),
                                    choice_flag("--dtype", &dtype, {"bf16", "fp8"}), kernel_filter_flag(&kernels)});
  const CheckSweepSpec spec{"decode", decode_shape_keys(), 30, 20, flags, ""};
  parse_with({"--check", "--warmup", "7", "--share", "0.25", "--dtype", "fp8", "--filter", "a,,b", "--kernel", "c"},
             spec);
  EXPECT_EQ(warmup, 7);
  EXPECT_DOUBLE_EQ(share, 0.25);
  EXPECT_EQ(dtype, "fp8");
  EXPECT_EQ(kernels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(error_of({"--check", "--warmup", "101"}, spec).find("--warmup must be in [0, 100], got 101"),
            std::string::npos);
  EXPECT_NE(error_of({"--check", "--share", "1.5"}, spec).find("--share must be a number in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of({"--check", "--share", "0.5x"}, spec).find("got '0.5x'"), std::string::npos);
  EXPECT_NE(error_of({"--check", "--dtype", "fp4"}, spec).find("--dtype must be 'bf16' or 'fp8', got 'fp4'"),
            std::string::npos);
  EXPECT_NE(error_of({"--check", "--kernel", ""}, spec).find("--kernel needs a kernel name"), std::string::npos);
  EXPECT_EQ(warmup, 7);  // a rejected value is not stored
}

TEST(RunnerCli, ASwitchTakesNoValue) {
  bool traced = false;
  int warmup = 10;
  const CheckSweepSpec spec{"decode", decode_shape_keys(), 30, 20,
                            any_flag({switch_flag("--clock-trace", &traced), integer_flag("--warmup", &warmup, 0, 100)}),
                            ""};
  // The switch leaves the next argument to the parser: --warmup still reads its own value.
  parse_with({"--sweep", "--clock-trace", "--warmup", "3"}, spec);
  EXPECT_TRUE(traced);
  EXPECT_EQ(warmup, 3);
  bool untouched = false;
  const CheckSweepSpec other{"decode", decode_shape_keys(), 30, 20, switch_flag("--clock-trace", &untouched), ""};
  parse_with({"--sweep"}, other);
  EXPECT_FALSE(untouched);
}

TEST(RunnerCli, KernelSelectionBySubstring) {
  EXPECT_TRUE(kernel_selected("fa3_d128_bn128", {}));
  EXPECT_TRUE(kernel_selected("fa3_d128_bn128", {"fa2", "d128"}));
  EXPECT_FALSE(kernel_selected("fa3_d64_bn128", {"fa2", "d128"}));
}

TEST(RunnerCli, OptionalSpecFields) {
  CheckSweepSpec spec{"gemm", gemm_shape_keys(), 30, 20};
  const std::string shape = "m=128,n=256,k=64";
  EXPECT_NE(error_of({"--check", "--shape", shape}, spec).find("go with --sweep"), std::string::npos);
  EXPECT_NE(error_of({"--list"}, spec).find("unknown argument '--list'"), std::string::npos);
  spec.shapes_with_check = true;
  spec.list_flag = true;
  spec.default_seed = 20261121;
  spec.aliases = {{"--config", "--shape"}, {"--ncu", "--check"}};
  const auto o = parse_with({"--ncu", "--config", shape}, spec);
  EXPECT_TRUE(o.check);
  ASSERT_EQ(o.shapes.size(), 1u);
  EXPECT_EQ(o.shapes[0]["n"], 256);
  EXPECT_EQ(o.seed, 20261121u);
  EXPECT_EQ(o.args, "--ncu --config " + shape);  // recorded as given
  EXPECT_TRUE(parse_with({"--list"}, spec).list);
  EXPECT_EQ(parse_with({"--check", "--seed", "5"}, spec).seed, 5u);
}

TEST(RunnerCli, ShapesFileListChosenAfterEveryFlag) {
  const TempShapes f(R"({"gemm": [{"m": 64, "n": 64, "k": 64, "dtype": "bf16"}],
                         "gemm_fp8": [{"m": 128, "n": 128, "k": 128, "dtype": "fp8"}]})");
  std::string dtype = "bf16";
  CheckSweepSpec spec{"gemm", gemm_shape_keys(), 30, 20, choice_flag("--dtype", &dtype, {"bf16", "fp8"}), ""};
  spec.shape_list = [&] { return ShapeList{dtype == "fp8" ? "gemm_fp8" : "gemm", dtype}; };
  // --dtype after --shapes-file still picks the fp8 list.
  const auto o = parse_with({"--sweep", "--shapes-file", f.path, "--dtype", "fp8", "--shape", "m=8,n=8,k=8"}, spec);
  ASSERT_EQ(o.shapes.size(), 2u);
  EXPECT_EQ(o.shapes[0]["m"], 128);  // file and --shape stay in the order given
  EXPECT_EQ(o.shapes[1]["m"], 8);
  dtype = "bf16";
  EXPECT_EQ(parse_with({"--sweep", "--shapes-file", f.path}, spec).shapes.at(0)["m"], 64);
}

TEST(RunnerCli, MeasurementSavesWholeDocumentEachTime) {
  const auto dir = std::filesystem::temp_directory_path() / ("tilesim_runner_save_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  CheckSweepOptions o;
  o.out = (dir / "m.json").string();
  o.seed = 9;
  Measurement m("attention", "tilesim-test-bench", o, {{"name", "cpu"}});
  m.runs().push_back({{"impl", "tilesim"}});
  m.save({{"raw", "first"}});
  m.runs().push_back({{"impl", "tilesim"}});
  m["timing"] = {{"passes", 3}};
  m.save({{"raw", "second"}});
  std::ifstream in(o.out);
  const auto back = nlohmann::json::parse(in);
  EXPECT_EQ(back.at("runs").size(), 2u);
  EXPECT_EQ(back.at("clocks_after").at("raw"), "second");
  EXPECT_EQ(back.at("timing").at("passes"), 3);
  EXPECT_EQ(back.at("family"), "attention");
  CheckSweepOptions nowhere;  // no --out: save() writes nothing and does not throw
  Measurement quiet("gemm", "tilesim-test-bench", nowhere, {});
  EXPECT_NO_THROW(quiet.save({}));
  EXPECT_TRUE(quiet.doc().contains("clocks_after"));
  std::filesystem::remove_all(dir);
}

TEST(RunnerCheck, SplitCountsFullAndQuick) {
  EXPECT_EQ(check_split_counts(12, 64, false), (std::vector<int>{12, 1, 3, 7, 64}));
  EXPECT_EQ(check_split_counts(12, 64, true), (std::vector<int>{12, 3}));
}

TEST(RunnerCheck, TallyCountsRunsFailuresAndExitCodes) {
  nlohmann::json runs = nlohmann::json::array();
  CheckTally tally(runs);
  EXPECT_FALSE(tally.add({{"id", 1}}, true));
  EXPECT_TRUE(tally.add({{"id", 2}}, false));  // a failed run: the runner prints its row
  EXPECT_EQ(tally.done(), 2);
  ASSERT_EQ(runs.size(), 2u);  // every run is recorded, passed or not, in order
  EXPECT_EQ(runs[1]["id"], 2);
  testing::internal::CaptureStdout();
  EXPECT_EQ(tally.finish(7, "tiles", "no compiled tile matched the check shapes"), 1);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "check: 2 runs, 1 failures, 7 compiled tiles\n");
  testing::internal::CaptureStdout();
  EXPECT_EQ(tally.finish_sweep(), 1);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "sweep: 1 check failures\n");
}

TEST(RunnerCheck, TallyWithNothingRunFails) {
  nlohmann::json runs = nlohmann::json::array();
  const CheckTally empty(runs);
  testing::internal::CaptureStdout();
  EXPECT_EQ(empty.finish(3, "instances", "no compiled instance"), 1);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "check: 0 runs, 0 failures, 3 compiled instances\ncheck: no compiled instance\n");
  CheckTally passing(runs);
  passing.add({}, true);
  testing::internal::CaptureStdout();
  EXPECT_EQ(passing.finish_sweep(), 0);
  EXPECT_EQ(passing.finish(1, "tiles", "none"), 0);
  testing::internal::GetCapturedStdout();
  CheckTally missing(runs);  // a named shape no kernel serves fails the sweep without a run
  missing.count_failure();
  testing::internal::CaptureStdout();
  EXPECT_EQ(missing.finish_sweep(), 1);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "sweep: 1 check failures\n");
}

TEST(RunnerCheck, PrintedLines) {
  testing::internal::CaptureStdout();
  print_checked_shape("s", 4, true, 1.5e-7);
  print_checked_shape("long_name", 4, false, -1);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "checked s    (gpu fp32 ref vs cpu fp64: 1.50e-07)\n"
            "checked long_name (cpu fp64 ref skipped: shape too large)\n");
  const nlohmann::json failed = {{"check", {{"rel_err", "nan"}, {"passed", false}}}};
  const nlohmann::json timed = {
      {"check", {{"rel_err", 0.00123}, {"passed", true}}}, {"median_ms", 0.0125}, {"gbps", 1500.0}};
  testing::internal::CaptureStdout();
  print_check_and_timing(failed, 0, 8);
  print_check_and_timing(timed, 3000.0, 8);
  print_check_and_timing(timed, 0, 9);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            " err=nan       FAIL\n"
            " err=0.001230  ok       12.5 us    1500 GB/s  50.0% of copy\n"
            " err=0.001230  ok        12.5 us    1500 GB/s   0.0% of copy\n");
}

TEST(RunnerCheck, RelErrorByHand) {
  bool finite = false;
  EXPECT_DOUBLE_EQ(rel_error(std::vector<float>{1, 1}, std::vector<double>{1, 1}, &finite), 0.0);
  EXPECT_TRUE(finite);
  // x - ref = (0, 1), ||ref|| = sqrt(3^2 + 4^2) = 5.
  EXPECT_DOUBLE_EQ(rel_error(std::vector<float>{3, 5}, std::vector<double>{3, 4}, &finite), 0.2);
  EXPECT_TRUE(
      std::isnan(rel_error(std::vector<float>{NAN, 4}, std::vector<double>{3, 4}, &finite)));
  EXPECT_FALSE(finite);
  // A zero reference divides by 1e-300, not 0: sqrt(1 / 1e-300) = 1e150.
  EXPECT_DOUBLE_EQ(rel_error(std::vector<float>{1}, std::vector<double>{0}, nullptr), 1e150);
}

TEST(RunnerCheck, GpuReferenceMustAgreeWithFp64) {
  EXPECT_DOUBLE_EQ(reference_error_vs_fp64("s", {3, 5}, {3, 4}, 0.25), 0.2);
  try {
    reference_error_vs_fp64("shape_x", {3, 5}, {3, 4}, 0.1);
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shape_x: fp32 GPU reference disagrees"),
              std::string::npos);
  }
  EXPECT_THROW(reference_error_vs_fp64("s", {NAN, 4}, {3, 4}, 1.0), std::runtime_error);
}

}  // namespace
}  // namespace tilesim::runner
