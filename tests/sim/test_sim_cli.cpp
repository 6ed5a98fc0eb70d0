// `tilesim simulate` end to end in-process: outputs, exit codes, trace file handling.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.hpp"
#include "tilesim/sim/options.hpp"

namespace tilesim::cli {
namespace {

namespace fs = std::filesystem;

struct Out {
  int rc;
  std::string out, err;
};

Out cli(std::vector<std::string> args) {
  std::ostringstream o, e;
  Context ctx{o, e};
  args.insert(args.begin(), "simulate");
  const int rc = run_cli(args, ctx);
  return {rc, o.str(), e.str()};
}

const std::vector<std::string> kFa3 = {
    "--gpu",
    "h100",
    "attention",
    "--batch",
    "1",
    "--heads-q",
    "4",
    "--seq-q",
    "2048",
    "--head-dim",
    "128",
    "--schedule",
    "attn_fa3",
    "--tile",
    "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

fs::path scratch_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("tilesim_sim_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(SimCli, TextOutputShowsTimeUnitsStallsAndModel) {
  const Out r = cli(kFa3);
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char* s : {"simulated time", "steady iteration", "tensor", "role stalls", "producer",
                        "model", "sim vs model"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(SimCli, JsonHasParametersAndStatisticsWithUnitAndDescription) {
  const Out r = cli(with(kFa3, {"--json"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["parameters"].is_array());
  ASSERT_TRUE(j["statistics"].is_array());
  for (const auto* key : {"parameters", "statistics"})
    for (const auto& x : j[key]) {
      EXPECT_TRUE(x.contains("type") && x.contains("unit") && x.contains("description") &&
                  x.contains("value"))
          << x;
      EXPECT_FALSE(x["description"].get<std::string>().empty());
    }
  bool total = false;
  for (const auto& s : j["statistics"])
    if (s["name"] == "total_time_us") total = s["value"].get<double>() > 0.0 && s["unit"] == "us";
  EXPECT_TRUE(total);
  EXPECT_FALSE(j["units"].empty());
  EXPECT_FALSE(j["roles"].empty());
  EXPECT_GT(j["model"]["time_us"]["value"].get<double>(), 0.0);
}

// The parameters come from sim::kOptionFields: every row is printed, with its type.
TEST(SimCli, JsonParametersAreTheOptionRows) {
  const Out r = cli(with(kFa3, {"--json", "--ignore-resources", "--max-trace-records", "77"}));
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto params = nlohmann::json::parse(r.out)["parameters"];
  ASSERT_EQ(params.size(), fields::row_count<decltype(sim::kOptionFields)>);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : params) by_name[p["name"].get<std::string>()] = p;
  fields::for_each(sim::kOptionFields, [&](const auto& f) {
    const std::string name(f.name);
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_EQ(by_name[name]["unit"], std::string(f.unit.symbol)) << name;
    EXPECT_EQ(by_name[name]["description"], std::string(f.doc)) << name;
  });
  EXPECT_EQ(by_name["ignore_resources"]["value"], 1.0);
  EXPECT_EQ(by_name["ignore_resources"]["type"], "bool");
  EXPECT_EQ(by_name["max_trace_records"]["value"], 77.0);
  EXPECT_EQ(by_name["max_trace_records"]["type"], "int");
  EXPECT_EQ(by_name["record_trace"]["value"], 0.0);  // no --trace
}

TEST(SimCli, OptionsFromRowsShowHelpAndRefuseBadValues) {
  const Out help = cli({"--help"});
  ASSERT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("--max-trace-records"), std::string::npos) << help.out;
  std::string one_line;  // the help wraps long descriptions
  for (char c : help.out)
    if (!(std::isspace(static_cast<unsigned char>(c)) && !one_line.empty() && one_line.back() == ' '))
      one_line += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
  EXPECT_NE(one_line.find("(record, default 2000000)"), std::string::npos) << one_line;
  EXPECT_NE(help.out.find("--ignore-resources"), std::string::npos) << help.out;
  for (const char* bad : {"0", "-3"}) {
    const Out r = cli(with(kFa3, {"--max-trace-records", bad}));
    EXPECT_EQ(r.rc, 2) << r.err;
    EXPECT_NE(r.err.find("--max-trace-records: must be > 0"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  const Out r = cli(with(kFa3, {"--max-trace-records", "many"}));
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("max-trace-records"), std::string::npos) << r.err;
}

TEST(SimCli, TraceIsWrittenAtomically) {
  const fs::path d = scratch_dir("ok");
  const fs::path f = d / "trace.json";
  const Out r = cli(with(kFa3, {"--trace", f.string()}));
  ASSERT_EQ(r.rc, 0) << r.err;
  std::ifstream in(f);
  const auto j = nlohmann::json::parse(in);
  EXPECT_GT(j["traceEvents"].size(), 10u);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++files;
  EXPECT_EQ(files, 1) << "no temporary file left behind";
  fs::remove_all(d);
}

TEST(SimCli, UnwritableTracePathExitsOneAndLeavesNothing) {
  const fs::path d = scratch_dir("bad");
  // A path under a regular file cannot be created.
  std::ofstream(d / "file") << "x";
  const Out a = cli(with(kFa3, {"--trace", (d / "file" / "trace.json").string()}));
  EXPECT_EQ(a.rc, 1) << a.err;
  EXPECT_NE(a.err.find("trace"), std::string::npos) << a.err;
  // A directory is not a file.
  fs::create_directories(d / "dir");
  const Out b = cli(with(kFa3, {"--trace", (d / "dir").string()}));
  EXPECT_EQ(b.rc, 1) << b.err;
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(d)) ++files;
  EXPECT_EQ(files, 2) << "only the two entries made by the test remain";
  fs::remove_all(d);
}

TEST(SimCli, BadInputExitsTwoNamingTheField) {
  struct Bad {
    std::vector<std::string> args;
    const char* mentions;
  };
  const std::vector<Bad> bad = {
      {{"--gpu", "h100", "attention", "--batch", "0", "--heads-q", "4", "--seq-q", "2048",
        "--head-dim", "128", "--schedule", "attn_fa3", "--tile",
        "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"},
       "batch"},
      {with(std::vector<std::string>(kFa3.begin(), kFa3.end() - 4),
            {"--schedule", "attn_nope", "--tile", "block_m=128"}),
       "attn_nope"},
      {with(std::vector<std::string>(kFa3.begin(), kFa3.end() - 2), {"--tile", "block_m=12x8"}),
       "block_m"},
      {with(std::vector<std::string>(kFa3.begin(), kFa3.end() - 2),
            {"--tile", "block_m=128,block_n=128,stages=2"}),
       "consumers"},
      {{"--gpu", "h100", "convolution", "--schedule", "attn_fa3"}, "convolution"},
      {with(kFa3, {"--scale", "warp=2"}), "warp"},
      {with(kFa3, {"--bogus"}), "bogus"},
  };
  for (const auto& b : bad) {
    const Out r = cli(b.args);
    EXPECT_EQ(r.rc, 2) << r.err;
    EXPECT_NE(r.err.find(b.mentions), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // A profile file that does not exist is a runtime error (exit 1), as in `gpus show`.
  EXPECT_EQ(cli(with({"--gpu", "/nonexistent/profile.json"},
                     std::vector<std::string>(kFa3.begin() + 2, kFa3.end())))
                .rc,
            1);
}

}  // namespace
}  // namespace tilesim::cli
