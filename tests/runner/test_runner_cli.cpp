// The command line the check/sweep runners share (kernels/common/runner_cli.hpp), on the
// CPU: shared flags, a family flag, shapes, the errors each bad argument gets, and the
// measurement file written whole or not at all.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runner_cli.hpp"

namespace tilesim::runner {
namespace {

CheckSweepOptions parse(std::vector<std::string> args, const ExtraFlag& extra = {}) {
  args.insert(args.begin(), "tilesim-test-bench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_check_sweep(static_cast<int>(argv.size()), argv.data(),
                           {"decode", decode_shape_keys(), 30, 20, extra, "--scale S"});
}

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

}  // namespace
}  // namespace tilesim::runner
