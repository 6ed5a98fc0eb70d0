// CLI contract for `gpus` and the dispatcher: exit codes 0/1/2, --help everywhere,
// --json parses, errors name what is wrong.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.hpp"

namespace {

struct Result {
  int code;
  std::string out, err;
};

Result run(std::vector<std::string> argv) {
  std::ostringstream out, err;
  tilesim::cli::Context ctx{out, err};
  const int code = tilesim::cli::run_cli(argv, ctx);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST(Cli, NoArgumentsIsUsageError) {
  auto r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage"), std::string::npos);
}

TEST(Cli, HelpListsCommandsAndExitsZero) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("gpus"), std::string::npos);
}

TEST(Cli, UnknownCommandIsUsageError) {
  auto r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(Cli, EveryCommandHasHelp) {
  for (const auto& c : tilesim::cli::registry()) {
    auto r = run({c.name, "--help"});
    EXPECT_EQ(r.code, 0) << c.name << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << c.name;
  }
}

TEST(Cli, GpusListsFourProfiles) {
  auto r = run({"gpus"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : {"h100", "h200", "h20", "b200"}) EXPECT_NE(r.out.find(id), std::string::npos) << id;
  auto j = run({"gpus", "--json"});
  ASSERT_EQ(j.code, 0);
  const auto list = nlohmann::json::parse(j.out);
  int builtin = 0;
  for (const auto& e : list) builtin += e["measured"].get<bool>() ? 0 : 1;
  EXPECT_EQ(builtin, 4);
}

TEST(Cli, GpusShowJsonHasUnitAndSourceForEveryNumber) {
  auto r = run({"gpus", "show", "h20", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["id"], "h20");
  EXPECT_EQ(j["sm_count"]["unit"], "SM");
  EXPECT_EQ(j["per_sm_per_clk"]["tensor_bf16"]["source"]["kind"], "derived");
}

TEST(Cli, GpusShowTextHasUnitsAndSources) {
  auto r = run({"gpus", "show", "b200"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("FLOP/clk/SM"), std::string::npos);
  EXPECT_NE(r.out.find("paper:"), std::string::npos);
}

TEST(Cli, GpusShowUnknownGpuIsRuntimeErrorNamingIt) {
  auto r = run({"gpus", "show", "h300"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("h300"), std::string::npos);
}

TEST(Cli, GpusShowBadFileNamesFileAndField) {
  const std::string path = ::testing::TempDir() + "bad_profile.json";
  std::ifstream in(std::string(TILESIM_DATA_DIR) + "/profiles/h100.json");
  auto j = nlohmann::json::parse(in);
  j["per_sm_per_clk"]["smem"]["value"] = -1;
  std::ofstream(path) << j.dump();
  auto r = run({"gpus", "show", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path), std::string::npos);
  EXPECT_NE(r.err.find("per_sm_per_clk.smem"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Cli, GpusBadUsageIsExitTwo) {
  EXPECT_EQ(run({"gpus", "show"}).code, 2);
  EXPECT_EQ(run({"gpus", "list", "x"}).code, 2);
  EXPECT_EQ(run({"gpus", "--bogus"}).code, 2);
}
