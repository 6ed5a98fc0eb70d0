// The model constants through their field table (kConstantFields): the writer and the
// loader agree (load -> write -> load is the identity), every row reaches its own
// member, and a bad file names the constant.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"

namespace tilesim::model {
namespace {

std::string error_of(const nlohmann::json& file) {
  try {
    (void)parse_constants(file.dump(), "k.json");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(ConstantsFields, LoadWriteLoadIsTheIdentity) {
  const ModelConstants& a = default_constants();
  const nlohmann::json written = to_json(a);
  const ModelConstants b = parse_constants(written.dump(), "round-trip.json");
  for (const auto& f : kConstantFields) {
    const std::string name(f.name);
    EXPECT_EQ(f.of(b), f.of(a)) << name;  // exact: JSON keeps every bit of a double
    EXPECT_EQ(b.info.at(name).unit, a.info.at(name).unit) << name;
    EXPECT_EQ(b.info.at(name).source, a.info.at(name).source) << name;
    EXPECT_EQ(b.info.at(name).note, a.info.at(name).note) << name;
  }
  EXPECT_EQ(to_json(b), written);
}

TEST(ConstantsFields, WrittenValuesAreTheMembersNotTheLoadedOnes) {
  ModelConstants c = default_constants();
  c.hbm_efficiency = 0.5;  // as after a calibration: info keeps the value it was loaded with
  const ModelConstants back = parse_constants(to_json(c).dump(), "k.json");
  EXPECT_EQ(back.hbm_efficiency, 0.5);
}

TEST(ConstantsFields, EveryNameReachesItsOwnMember) {
  ModelConstants c;
  std::set<double> seen;
  double v = 1.0;
  for (const auto& name : constant_names()) constant_ref(c, name) = v++;
  for (const auto& f : kConstantFields) seen.insert(f.of(c));
  EXPECT_EQ(seen.size(), kConstantFields.size());
  EXPECT_EQ(c.iteration_overhead_cycles, 1.0);  // the file's first constant
  EXPECT_EQ(c.energy_issue_pj_per_op, static_cast<double>(kConstantFields.size()));  // the last
  EXPECT_THROW(constant_ref(c, "warp_speed"), ModelError);
}

TEST(ConstantsFields, BadFilesNameTheConstant) {
  nlohmann::json good = to_json(default_constants());
  {
    auto j = good;
    j["constants"]["warp_speed"] = j["constants"]["hbm_efficiency"];
    const std::string e = error_of(j);
    EXPECT_NE(e.find("unknown constant 'warp_speed'"), std::string::npos) << e;
  }
  {
    auto j = good;
    j["constants"]["consumer_cycles_per_instruction"]["value"] = 0.25;  // below one per cycle
    const std::string e = error_of(j);
    EXPECT_NE(e.find("constant 'consumer_cycles_per_instruction'"), std::string::npos) << e;
    EXPECT_NE(e.find("plausible range [1, 64] cycles/instruction"), std::string::npos) << e;
  }
  {
    auto j = good;
    j["constants"]["l2_efficiency"]["value"] = 0.0;  // in [0, 1], but a divisor
    const std::string e = error_of(j);
    EXPECT_NE(e.find("constant 'l2_efficiency': must be > 0"), std::string::npos) << e;
  }
  {
    auto j = good;
    j["constants"]["page_lookup_cycles"]["value"] = "20";
    const std::string e = error_of(j);
    EXPECT_NE(e.find("constant 'page_lookup_cycles' needs value (number)"), std::string::npos) << e;
  }
  {
    auto j = good;
    j["constants"].erase("item_setup_cycles");
    const std::string e = error_of(j);
    EXPECT_NE(e.find("missing constant 'item_setup_cycles'"), std::string::npos) << e;
  }
  EXPECT_EQ(error_of(good), "");
}

}  // namespace
}  // namespace tilesim::model
