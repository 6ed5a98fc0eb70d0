// The loader's contract: every kind of bad file is an error naming the file and the
// field; good files (and partial overrides of a built-in) load exactly.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tilesim/profile.hpp"

using tilesim::profiles::builtin_profile;
using tilesim::profiles::parse_profile;
using tilesim::profiles::ProfileError;
using nlohmann::json;

namespace {

// A complete, valid profile as JSON (the built-in H100 file read back from disk), so that
// each test breaks exactly one thing in it.
json good() {
  std::ifstream in(std::string(TILESIM_DATA_DIR) + "/profiles/h100.json");
  return json::parse(in);
}

// Expects parse to fail with a message containing every one of `needles`.
void expect_error(const std::string& text, std::initializer_list<std::string> needles) {
  try {
    parse_profile(text, "test.json");
    FAIL() << "expected a ProfileError";
  } catch (const ProfileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test.json"), std::string::npos) << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "missing '" << n << "' in: " << msg;
  }
}

}  // namespace

TEST(ProfileLoader, GoodFileLoadsWithUnitsAndSources) {
  const auto p = parse_profile(good().dump(), "test.json");
  EXPECT_EQ(p.id, "h100");
  EXPECT_EQ(p.sm_count.value, 132);
  EXPECT_EQ(p.sm_count.unit, "SM");
  EXPECT_EQ(p.per_sm.tensor_bf16.value, 4096);
  EXPECT_EQ(p.per_sm.mufu_ex2.unit, "op/clk/SM");
  // The clock measured under tensor load is what the model runs the chip at.
  ASSERT_TRUE(p.clocks.sustained_mhz.present);
  EXPECT_EQ(p.sources.at(p.clocks.sustained_mhz.source).kind, "measured");
  EXPECT_EQ(p.model_clock_mhz(), p.clocks.sustained_mhz.value);
  const auto h20 = builtin_profile("h20");  // never measured here: optional field absent
  EXPECT_FALSE(h20.clocks.sustained_mhz.present);
  EXPECT_EQ(h20.model_clock_mhz(), h20.clocks.tensor_spec_mhz.value);
  EXPECT_TRUE(p.sources.count(p.per_sm.tensor_bf16.source));
}

TEST(ProfileLoader, MissingFieldIsNamed) {
  auto j = good();
  j["per_sm_per_clk"].erase("mufu_ex2");
  expect_error(j.dump(), {"per_sm_per_clk.mufu_ex2", "missing"});
}

TEST(ProfileLoader, MissingGroupIsNamed) {
  auto j = good();
  j.erase("latency");
  expect_error(j.dump(), {"latency", "missing"});
}

TEST(ProfileLoader, WrongTypeIsNamed) {
  auto j = good();
  j["sm_count"]["value"] = "132";
  expect_error(j.dump(), {"sm_count.value", "must be a number"});
  auto k = good();
  k["clocks"] = 5;
  expect_error(k.dump(), {"clocks", "must be an object"});
}

TEST(ProfileLoader, UnknownKeysAreErrors) {
  auto j = good();
  j["per_sm_per_clk"]["tensor_bf17"] = j["per_sm_per_clk"]["tensor_bf16"];
  expect_error(j.dump(), {"per_sm_per_clk.tensor_bf17", "unknown key"});
  auto k = good();
  k["colour"] = "green";
  expect_error(k.dump(), {"colour", "unknown key"});
  auto m = good();
  m["sm_count"]["vaule"] = 3;
  expect_error(m.dump(), {"sm_count.vaule", "unknown key"});
}

TEST(ProfileLoader, NonPositiveRateIsAnError) {
  for (double bad : {0.0, -16.0}) {
    auto j = good();
    j["per_sm_per_clk"]["mufu_ex2"]["value"] = bad;
    expect_error(j.dump(), {"per_sm_per_clk.mufu_ex2.value", "must be > 0"});
  }
}

TEST(ProfileLoader, WrongUnitIsAnError) {
  auto j = good();
  j["chip"]["hbm_bandwidth"]["unit"] = "TB/s";
  expect_error(j.dump(), {"chip.hbm_bandwidth.unit", "must be 'B/s'"});
}

TEST(ProfileLoader, UnknownSourceIsAnError) {
  auto j = good();
  j["sm_count"]["source"] = "my-guess";
  expect_error(j.dump(), {"sm_count.source", "unknown source id 'my-guess'"});
}

TEST(ProfileLoader, MeasuredSourceNeedsDeviceDateTool) {
  auto j = good();
  j["sources"]["m"] = {{"kind", "measured"}, {"citation", "tilesim bench"}};
  expect_error(j.dump(), {"sources.m.device", "missing"});
}

TEST(ProfileLoader, BadFlagIsAnError) {
  auto j = good();
  j["features"]["wgmma"]["value"] = 2;
  expect_error(j.dump(), {"features.wgmma.value", "flag"});
}

TEST(ProfileLoader, TruncatedJsonIsAnError) {
  const std::string text = good().dump();
  expect_error(text.substr(0, text.size() / 2), {"not valid JSON"});
  expect_error("", {"not valid JSON"});
  expect_error("[1,2,3]", {"top level must be a JSON object"});
}

TEST(ProfileLoader, HugeNumbersAreRejectedNotOverflowed) {
  auto j = good();
  j["chip"]["hbm_bandwidth"]["value"] = 1e300;
  expect_error(j.dump(), {"chip.hbm_bandwidth.value", "implausibly large"});
  // A literal beyond double range: nlohmann parses it as inf, which must not pass.
  std::string text = good().dump();
  const std::string needle = "\"value\":132";
  const auto pos = text.find(needle);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, needle.size(), "\"value\":1e999");
  try {
    parse_profile(text, "test.json");
    FAIL() << "1e999 accepted";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("test.json"), std::string::npos);
  }
}

TEST(ProfileLoader, WrongSchemaIsAnError) {
  auto j = good();
  j["schema"] = "tilesim.profile.v0";
  expect_error(j.dump(), {"schema", "tilesim.profile.v1"});
}

TEST(ProfileLoader, CrossFieldSanity) {
  auto j = good();
  j["capacity"]["smem_per_block"]["value"] = 300000;
  expect_error(j.dump(), {"capacity.smem_per_block", "exceeds"});
}

TEST(ProfileLoader, PartialProfileOverridesABuiltIn) {
  json j = {{"schema", "tilesim.profile.v1"},
            {"id", "my_h100"},
            {"base", "h100"},
            {"sources", {{"bench", {{"kind", "measured"}, {"citation", "tilesim bench"}, {"device", "NVIDIA H100 80GB HBM3"},
                                    {"date", "2026-11-21"}, {"tool", "tilesim-microbench 0.1"}}}}},
            {"clocks", {{"sustained", {{"value", 1755}, {"unit", "MHz"}, {"source", "bench"}}}}},
            {"per_sm_per_clk", {{"mufu_ex2", {{"value", 15.9}, {"unit", "op/clk/SM"}, {"source", "bench"}}}}}};
  const auto p = parse_profile(j.dump(), "mine.json");
  const auto base = builtin_profile("h100");
  EXPECT_EQ(p.id, "my_h100");
  EXPECT_EQ(p.base, "h100");
  EXPECT_DOUBLE_EQ(p.per_sm.mufu_ex2.value, 15.9);
  EXPECT_EQ(p.per_sm.mufu_ex2.source, "bench");
  EXPECT_DOUBLE_EQ(p.model_clock_mhz(), 1755);
  EXPECT_EQ(p.per_sm.tensor_bf16.value, base.per_sm.tensor_bf16.value);  // untouched
  EXPECT_EQ(p.name, base.name);
  // The override is still validated.
  j["per_sm_per_clk"]["mufu_ex2"]["unit"] = "op/s";
  expect_error(j.dump(), {"per_sm_per_clk.mufu_ex2.unit"});
}

TEST(ProfileLoader, UnknownBaseIsAnError) {
  json j = {{"schema", "tilesim.profile.v1"}, {"id", "x"}, {"base", "h300"}};
  EXPECT_THROW(parse_profile(j.dump(), "x.json"), ProfileError);
}

TEST(ProfileLoader, MissingFileIsNamed) {
  try {
    tilesim::profiles::load_profile_file("/nonexistent/dir/p.json");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/p.json"), std::string::npos);
  }
}

// The measured op-cost table: the built-in H100 carries one; each entry is checked like a
// quantity (known op, exactly its keys, positive cycles, known source, no duplicate).
TEST(ProfileLoader, OpCostTableLoadsAndIsChecked) {
  const auto p = parse_profile(good().dump(), "test.json");
  ASSERT_FALSE(p.ops.empty());
  const std::map<std::string, double> key = {{"head_dim", 128}, {"block_n", 128},        {"intra_overlap", 1},
                                             {"pingpong", 1},    {"exp_emu_fraction", 0}, {"rescale_threshold", 0}};
  const auto* sm = tilesim::profiles::find_op(p.ops, "fa3.softmax", key);
  ASSERT_NE(sm, nullptr);
  EXPECT_GT(sm->cycles, 500.0);  // 64 x 128 scores per warpgroup: hundreds of cycles
  EXPECT_LT(sm->cycles, 5000.0);
  EXPECT_EQ(p.sources.at(sm->source).kind, "measured");
  auto one = [] {
    json j = good();
    json e = j["ops"][0];
    j["ops"] = json::array({e});
    return j;
  };
  {
    auto j = one();
    j["ops"][0]["op"] = "fa3.teleport";
    expect_error(j.dump(), {"ops[0].op", "unknown op 'fa3.teleport'", "fa3.softmax"});
  }
  {
    auto j = one();
    j["ops"][0]["key"].erase("block_n");
    expect_error(j.dump(), {"ops[0].key.block_n", "missing"});
  }
  {
    auto j = one();
    j["ops"][0]["key"]["warps"] = 8;
    expect_error(j.dump(), {"ops[0].key.warps", "not a key of op"});
  }
  {
    auto j = one();
    j["ops"][0]["value"] = 0;
    expect_error(j.dump(), {"ops[0].value"});
  }
  {
    auto j = one();
    j["ops"][0]["unit"] = "ns";
    expect_error(j.dump(), {"ops[0].unit", "cycles"});
  }
  {
    auto j = one();
    j["ops"][0]["source"] = "hearsay";
    expect_error(j.dump(), {"ops[0].source", "hearsay"});
  }
  {
    auto j = one();
    j["ops"].push_back(j["ops"][0]);
    expect_error(j.dump(), {"ops[1]", "second entry"});
  }
  {
    auto j = one();
    j["ops"] = json::object();
    expect_error(j.dump(), {"ops", "array"});
  }
}

TEST(ProfileLoader, PartialProfileReplacesOpsOfTheSameKey) {
  const auto base = builtin_profile("h100");
  ASSERT_FALSE(base.ops.empty());
  const auto& first = base.ops.front();
  json key = json::object();
  for (const auto& [k, v] : first.key) key[k] = v;
  json j = {{"schema", "tilesim.profile.v1"},
            {"id", "my_h100"},
            {"base", "h100"},
            {"sources", {{"bench", {{"kind", "measured"}, {"citation", "tilesim bench"}, {"device", "NVIDIA H100 80GB HBM3"},
                                    {"date", "2026-11-28"}, {"tool", "tilesim-microbench"}}}}},
            {"ops", json::array({{{"op", first.op}, {"key", key}, {"value", 1234.5}, {"unit", "cycles"}, {"source", "bench"}}})}};
  const auto p = parse_profile(j.dump(), "mine.json");
  EXPECT_EQ(p.ops.size(), base.ops.size());  // replaced, not added
  const auto* o = tilesim::profiles::find_op(p.ops, first.op, std::map<std::string, double>(first.key.begin(), first.key.end()));
  ASSERT_NE(o, nullptr);
  EXPECT_DOUBLE_EQ(o->cycles, 1234.5);
  EXPECT_EQ(o->source, "bench");
}
