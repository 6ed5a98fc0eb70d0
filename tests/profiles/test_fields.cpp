// The field-row mechanism (tilesim/fields.hpp) on a small struct of its own: access
// through nested members, lookup by name, the value check's messages, and the static
// checks that a table lists its struct (member count, one row per member).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>

#include "tilesim/fields.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::fields {
namespace {

struct Inner {
  double rate_per_s = 0.0;
  int64_t count = 0;
};

struct Outer {
  double latency_cycles = 0.0;
  Inner inner;
  bool enabled = false;
  std::string label;  // not a field: shows that the count sees every member
};

constexpr Unit kCycles{"cycles", 1, 1000};
constexpr Unit kPerS{"1/s"};
constexpr Unit kCount{"count", 0, 100, true};
constexpr Unit kFlagUnit{"flag", 0, 1, true};

constexpr std::tuple kTable{
    field("latency_cycles", member<&Outer::latency_cycles>, kCycles, Rule::kPositive, "latency"),
    field("inner.rate_per_s", member<&Outer::inner, &Inner::rate_per_s>, kPerS, Rule::kNonNegative,
          "rate"),
    field("inner.count", member<&Outer::inner, &Inner::count>, kCount, Rule::kAny, "count"),
    field("enabled", member<&Outer::enabled>, kFlagUnit, Rule::kFlag, "switch"),
};

static_assert(member_count<Inner>() == 2);
static_assert(member_count<Outer>() == 4);
static_assert(member_count<profiles::Profile>() == 16);
static_assert(row_count<decltype(kTable)> == 4);
static_assert(rows_distinct(kTable));
// Two rows on one member, or two rows with one name, are caught.
static_assert(!rows_distinct(std::array{
    field("a", member<&Outer::latency_cycles>, kCycles, Rule::kAny, ""),
    field("b", member<&Outer::latency_cycles>, kCycles, Rule::kAny, "")}));
static_assert(!rows_distinct(std::tuple{
    field("a", member<&Outer::latency_cycles>, kCycles, Rule::kAny, ""),
    field("a", member<&Outer::enabled>, kFlagUnit, Rule::kAny, "")}));
static_assert(group_of("clocks.max_boost") == "clocks" &&
              key_of("clocks.max_boost") == "max_boost");
static_assert(group_of("sm_count").empty() && key_of("sm_count") == "sm_count");

TEST(Fields, AccessReachesNestedMembersForReadingAndWriting) {
  Outer o;
  visit(kTable, "inner.count", [&](const auto& f) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(f.of(o))>, int64_t>) f.of(o) = 7;
  });
  EXPECT_EQ(o.inner.count, 7);
  const Outer& read_only = o;
  EXPECT_EQ(std::get<2>(kTable).of(read_only), 7);
  std::get<1>(kTable).of(o) = 2.5;
  EXPECT_EQ(o.inner.rate_per_s, 2.5);
  EXPECT_EQ(o.latency_cycles, 0.0);  // the other members untouched
}

TEST(Fields, LookupByNameFindsOnlyRows) {
  EXPECT_TRUE(contains(kTable, "enabled"));
  EXPECT_TRUE(contains(kTable, "inner.rate_per_s"));
  EXPECT_FALSE(contains(kTable, "rate_per_s"));  // a key is found by its full path
  EXPECT_FALSE(contains(kTable, "label"));
  std::string order;
  for_each(kTable, [&](const auto& f) { order += std::string(f.name) + ","; });
  EXPECT_EQ(order, "latency_cycles,inner.rate_per_s,inner.count,enabled,");
}

TEST(Fields, CheckAcceptsValuesInRange) {
  EXPECT_EQ(check(std::get<0>(kTable), 1.0), "");
  EXPECT_EQ(check(std::get<0>(kTable), 1000.0), "");
  EXPECT_EQ(check(std::get<1>(kTable), 0.0), "");
  EXPECT_EQ(check(std::get<1>(kTable), 1e300), "");  // no range: only the rule
  EXPECT_EQ(check(std::get<2>(kTable), 100.0), "");
  EXPECT_EQ(check(std::get<3>(kTable), 1.0), "");
}

TEST(Fields, CheckNamesTheRuleTheRangeAndTheUnit) {
  EXPECT_EQ(check(std::get<0>(kTable), 0.0), "must be > 0, got 0");
  EXPECT_EQ(
      check(std::get<0>(kTable), 1e300),
      "implausibly large value 1e+300 cycles, out of range (plausible range [1, 1000] cycles)");
  EXPECT_EQ(check(std::get<0>(kTable), 0.5),
            "implausibly small value 0.5 cycles, out of range (plausible range [1, 1000] cycles)");
  EXPECT_EQ(check(std::get<1>(kTable), -1.0), "must be >= 0, got -1");
  EXPECT_EQ(check(std::get<2>(kTable), 2.5), "must be a whole number, got 2.5");
  EXPECT_EQ(check(std::get<3>(kTable), 2.0), "must be a flag (true/false or 0/1)");
  EXPECT_EQ(check(std::get<1>(kTable), std::numeric_limits<double>::infinity()), "must be finite");
  EXPECT_EQ(check(std::get<2>(kTable), std::nan("")), "must be finite");
}

TEST(Fields, TypeNamesFollowTheMember) {
  EXPECT_EQ(type_name<double>(), "double");
  EXPECT_EQ(type_name<int64_t>(), "int");
  EXPECT_EQ(type_name<bool>(), "bool");
}

// The profile schema: every row reaches a different quantity (writing one row's member
// changes that row's value only), and its name is the path of the JSON the built-in
// profiles are written in.
TEST(Fields, ProfileRowsReachDistinctQuantities) {
  profiles::Profile p;
  double v = 1.0;
  for (const auto& f : profiles::schema::kFields) f.of(p).value = v++;
  v = 1.0;
  for (const auto& f : profiles::schema::kFields) EXPECT_EQ(f.of(p).value, v++) << f.name;
  EXPECT_EQ(p.sm_count.value, 1.0);
  EXPECT_EQ(p.power.limiter_reaction_ms.value, static_cast<double>(profiles::schema::kFields.size()));
}

}  // namespace
}  // namespace tilesim::fields
