// How tune ranks candidates (model::rank_order): by predicted time, and candidates within
// kRankTieTolerance of their group's fastest by their second-busiest unit's utilization.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {

TEST(RankOrder, FasterFirstWhenNothingTies) {
  EXPECT_EQ(rank_order({3.0, 1.0, 2.0}, {0.9, 0.9, 0.1}), (std::vector<size_t>{1, 2, 0}));
}

TEST(RankOrder, TiesGoToTheCandidateWithMostHeadroom) {
  // 100 and 100.4 tie (0.4 % < 0.5 %): the one with the less busy second unit first; 101 is
  // 1 % slower than the group's fastest and stays behind both.
  EXPECT_EQ(rank_order({100.0, 100.4, 101.0}, {0.8, 0.2, 0.0}), (std::vector<size_t>{1, 0, 2}));
  // Equal headroom: time decides.
  EXPECT_EQ(rank_order({100.4, 100.0}, {0.5, 0.5}), (std::vector<size_t>{1, 0}));
}

TEST(RankOrder, GroupsAreAnchoredAtTheirFastest) {
  // 100 and 100.4 form a group, ordered by headroom; 100.7 is within 0.5 % of 100.4 but 0.7 %
  // above 100, the group's fastest: it starts the next group despite its idle second unit.
  EXPECT_EQ(rank_order({100.7, 100.4, 100.0}, {0.0, 0.1, 0.5}), (std::vector<size_t>{1, 2, 0}));
}

TEST(RankOrder, MismatchedInputsAreAnError) {
  EXPECT_THROW(rank_order({1.0, 2.0}, {0.5}), ModelError);
}

// tune reports the same order: on an 8192^3 GEMM its ranking is rank_order's over its
// candidates' times and headroom.
TEST(RankOrder, TuneRanksByIt) {
  const Profile p = profiles::resolve_profile("h100");
  const auto ranked = tune(p, test::parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"bf16"})"),
                           "gemm_sm90_ws");
  ASSERT_GT(ranked.size(), 2u);
  std::vector<double> t, u;
  for (const auto& r : ranked) {
    t.push_back(r.time_us);
    u.push_back(r.second_utilization);
  }
  const auto order = rank_order(t, u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
}

}  // namespace
}  // namespace tilesim::model
