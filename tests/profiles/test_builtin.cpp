// The built-in profiles: all four load, every value has a unit and a known source, and
// the numbers agree with the public figures they were derived from.
#include <gtest/gtest.h>

#include <cmath>

#include "tilesim/profile.hpp"
#include "tilesim/profile_io.hpp"

using namespace tilesim::profiles;

TEST(BuiltinProfiles, FourChipsLoad) {
  const auto ids = builtin_ids();
  for (const std::string id : {"h100", "h200", "h20", "b200"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
    EXPECT_NO_THROW(builtin_profile(id)) << id;
  }
}

TEST(BuiltinProfiles, EveryQuantityHasUnitAndSource) {
  for (const auto& id : builtin_ids()) {
    const auto p = builtin_profile(id);
    for (const auto& f : schema::kFields) {
      const Quantity& q = f.of(p);
      if (!q.present) {
        EXPECT_TRUE(f.optional) << id << " " << f.name;
        continue;
      }
      EXPECT_EQ(q.unit, f.unit.symbol) << id << " " << f.name;
      ASSERT_TRUE(p.sources.count(q.source)) << id << " " << f.name;
      EXPECT_FALSE(p.sources.at(q.source).citation.empty());
    }
  }
}

TEST(BuiltinProfiles, JsonOutputSpellsOutUnitAndSourceOfEveryNumber) {
  const auto j = to_json(builtin_profile("h20"));
  int numbers = 0;
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& n, const std::string& path) {
    if (!n.is_object()) return;
    if (n.contains("value")) {
      ++numbers;
      EXPECT_TRUE(n.contains("unit")) << path;
      ASSERT_TRUE(n.contains("source")) << path;
      EXPECT_TRUE(n["source"].contains("kind")) << path;
      EXPECT_TRUE(n["source"].contains("citation")) << path;
      return;
    }
    for (const auto& [k, v] : n.items()) walk(v, path + "." + k);
  };
  walk(j, "");
  int present = 0;
  const Profile h20 = builtin_profile("h20");
  for (const auto& f : schema::kFields) present += f.of(h20).present ? 1 : 0;
  EXPECT_EQ(numbers, present);
}

// The datasheet's dense bf16 TFLOP/s must come back from per-SM rate x SMs x spec clock.
TEST(BuiltinProfiles, TensorRatesReproduceTheDatasheet) {
  struct Case {
    const char* id;
    double tflops;
    double tolerance;
  };
  for (const Case c : {Case{"h100", 989.4, 0.01}, Case{"h200", 989.4, 0.01}, Case{"h20", 148.0, 0.01},
                       Case{"b200", 2250.0, 0.01}}) {
    const auto p = builtin_profile(c.id);
    const double tflops = p.per_sm.tensor_bf16.value * p.sm_count.value * p.clocks.tensor_spec_mhz.value * 1e6 / 1e12;
    EXPECT_NEAR(tflops / c.tflops, 1.0, c.tolerance) << c.id << " gives " << tflops;
  }
}

TEST(BuiltinProfiles, AsymmetricScalingIsInTheData) {
  const auto h100 = builtin_profile("h100"), b200 = builtin_profile("b200"), h20 = builtin_profile("h20");
  EXPECT_EQ(b200.per_sm.tensor_bf16.value, 2 * h100.per_sm.tensor_bf16.value);
  EXPECT_EQ(b200.per_sm.mufu_ex2.value, h100.per_sm.mufu_ex2.value);
  EXPECT_EQ(b200.per_sm.smem.value, h100.per_sm.smem.value);
  EXPECT_LT(h20.per_sm.tensor_bf16.value * h20.sm_count.value, h100.per_sm.tensor_bf16.value * h100.sm_count.value / 6.0);
  EXPECT_EQ(h100.features.wgmma.value, 1);
  EXPECT_EQ(b200.features.wgmma.value, 0);
  EXPECT_EQ(b200.features.tcgen05.value, 1);
  EXPECT_EQ(h100.capacity.tmem_columns.value, 0);
  EXPECT_EQ(b200.capacity.tmem_columns.value, 512);
}

TEST(BuiltinProfiles, DisagreeingSourcesAreKept) {
  const auto h20 = builtin_profile("h20");
  ASSERT_FALSE(h20.per_sm.fp32_fma.alternatives.empty());
  EXPECT_NE(h20.per_sm.fp32_fma.alternatives[0].value, h20.per_sm.fp32_fma.value);
}

TEST(BuiltinProfiles, LookupIsCaseInsensitiveAndUnknownIsNamed) {
  EXPECT_EQ(resolve_profile("H100").id, "h100");
  try {
    resolve_profile("h300");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("h300"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("b200"), std::string::npos);  // lists what exists
  }
}
