// The ring kernels' stage-trace summary (kernels/common/stage_trace_summary.hpp) and the clock
// span (clock_span.hpp) on hand-made timestamps whose answers are known.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stage_trace_summary.hpp"

namespace tc = tilesim::cuda;

namespace {
// A regular ring: step s issued at 100 s (+ offset), full 50 later, released 30 after that.
std::vector<std::uint64_t> regular(int ctas, int steps, std::uint64_t offset = 1000) {
  std::vector<std::uint64_t> v(static_cast<std::size_t>(ctas) * steps * tc::kStageMarks);
  for (int c = 0; c < ctas; ++c)
    for (int s = 0; s < steps; ++s) {
      const std::size_t i = (static_cast<std::size_t>(c) * steps + s) * tc::kStageMarks;
      v[i] = offset + 100 * s;
      v[i + 1] = v[i] + 50;
      v[i + 2] = v[i + 1] + 30;
    }
  return v;
}
}  // namespace

TEST(StageTraceSummary, SteadyStepsOfARegularRing) {
  // 2 stages: steps 2..7 of 10 are steady (fill and drain left out), 6 per CTA.
  const nlohmann::json j = tc::summarize_stage_trace(regular(2, 10), 2, 10, 2);
  EXPECT_EQ(j["load_cycles"]["n"].get<int>(), 12);
  EXPECT_DOUBLE_EQ(j["load_cycles"]["median"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(j["hold_cycles"]["median"].get<double>(), 30.0);
  // Step s + 2 is issued at 100 (s + 2): 120 cycles after step s was released.
  EXPECT_DOUBLE_EQ(j["reissue_cycles"]["median"].get<double>(), 120.0);
  EXPECT_DOUBLE_EQ(j["step_cycles"]["median"].get<double>(), 100.0);
  // One trip round the ring = load + hold + reissue.
  EXPECT_DOUBLE_EQ(j["ring_cycles"]["p90"].get<double>(), 200.0);
  EXPECT_EQ(j["skipped_out_of_order"].get<int>(), 0);
}

TEST(StageTraceSummary, GapsBetweenItemsAndTheColdFirstStage) {
  std::vector<std::uint64_t> v = regular(1, 12);
  // Items of 4 steps: the consumer waits 500 more cycles before the first step of each later
  // item (its epilogue), and the very first stage took 900 cycles to land.
  for (int s = 4; s < 12; ++s) {
    const std::uint64_t late = 500 * static_cast<std::uint64_t>(s / 4);
    for (int k = 0; k < tc::kStageMarks; ++k) v[s * tc::kStageMarks + k] += late;
  }
  v[1] = v[0] + 900;
  v[2] = v[1] + 30;
  const nlohmann::json j = tc::summarize_stage_trace(v, 1, 12, 2, 4);
  EXPECT_EQ(j["item_gap_cycles"]["n"].get<int>(), 2);
  // Release of step 3 at 1000 + 300 + 80; step 4's full at 1000 + 400 + 50 + 500.
  EXPECT_DOUBLE_EQ(j["item_gap_cycles"]["median"].get<double>(), 570.0);
  EXPECT_DOUBLE_EQ(j["first_full_cycles"]["median"].get<double>(), 900.0);
  // Unknown item length: no gaps.
  EXPECT_EQ(tc::summarize_stage_trace(v, 1, 12, 2)["item_gap_cycles"]["n"].get<int>(), 0);
}

TEST(StageTraceSummary, ACtaWithFewerStepsStopsAtItsLastMark) {
  std::vector<std::uint64_t> v = regular(2, 10);
  // CTA 1 ran only 6 steps: its marks from step 6 on stay 0, leaving steps 2..3 steady.
  for (std::size_t i = (10 + 6) * tc::kStageMarks; i < v.size(); ++i) v[i] = 0;
  const nlohmann::json j = tc::summarize_stage_trace(v, 2, 10, 2);
  EXPECT_EQ(j["load_cycles"]["n"].get<int>(), 6 + 2);
}

TEST(StageTraceSummary, OutOfOrderStepsAreSkippedAndCounted) {
  std::vector<std::uint64_t> v = regular(1, 10);
  v[4 * tc::kStageMarks + 1] = v[4 * tc::kStageMarks] - 1;  // step 4's full before its issue
  const nlohmann::json j = tc::summarize_stage_trace(v, 1, 10, 2);
  EXPECT_EQ(j["skipped_out_of_order"].get<int>(), 1);
  EXPECT_EQ(j["load_cycles"]["n"].get<int>(), 5);
}

TEST(StageTraceSummary, PercentilesSpanTheSpread) {
  std::vector<std::uint64_t> v = regular(1, 40);
  // Steady steps 4..35 with a stage latency growing 0..31 cycles beyond 50 (release and the
  // next issue stay in order: 100-cycle steps).
  for (int s = 4; s < 36; ++s) {
    v[s * tc::kStageMarks + 1] += static_cast<std::uint64_t>(s - 4);
    v[s * tc::kStageMarks + 2] += static_cast<std::uint64_t>(s - 4);
  }
  const nlohmann::json j = tc::summarize_stage_trace(v, 1, 40, 4);
  EXPECT_EQ(j["load_cycles"]["n"].get<int>(), 32);
  EXPECT_LT(j["load_cycles"]["p10"].get<double>(), j["load_cycles"]["median"].get<double>());
  EXPECT_GT(j["load_cycles"]["p90"].get<double>(), j["load_cycles"]["median"].get<double>());
  EXPECT_NEAR(j["load_cycles"]["median"].get<double>(), 50.0 + 15.5, 0.51);
}

TEST(StageTraceSummary, TheSpanGivesTheClockEachCtaRanAt) {
  // CTA 0: 1.8e6 cycles in 1 ms (1800 MHz); CTA 1: 1.5e6 cycles in 1 ms (1500 MHz).
  const std::vector<std::uint64_t> span = {100, 5000, 100 + 1800000, 5000 + 1000000,
                                           200, 7000, 200 + 1500000, 7000 + 1000000};
  const nlohmann::json j = tc::summarize_stage_trace(regular(2, 10), 2, 10, 2, 0, span);
  EXPECT_EQ(j["sm_clock_mhz"]["n"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(j["sm_clock_mhz"]["median"].get<double>(), 1650.0);
  EXPECT_DOUBLE_EQ(j["sm_clock_mhz"]["p90"].get<double>(), 1800.0);
  EXPECT_DOUBLE_EQ(j["span_us"]["median"].get<double>(), 1000.0);
  // Without a span: no clock.
  EXPECT_EQ(tc::summarize_stage_trace(regular(2, 10), 2, 10, 2)["sm_clock_mhz"]["n"].get<int>(), 0);
  EXPECT_THROW(tc::summarize_stage_trace(regular(2, 10), 2, 10, 2, 0, {1, 2, 3}), std::invalid_argument);
}

TEST(StageTraceSummary, StepsByQuarterShowALoopThatSlowsDown) {
  std::vector<std::uint64_t> v = regular(1, 20);
  // From step 12 on every step takes 50 cycles more (all marks shift by 50 per step).
  for (int s = 12; s < 20; ++s)
    for (int k = 0; k < tc::kStageMarks; ++k) v[s * tc::kStageMarks + k] += 50 * static_cast<std::uint64_t>(s - 11);
  const nlohmann::json q = tc::summarize_stage_trace(v, 1, 20, 2)["step_cycles_by_quarter"];
  EXPECT_DOUBLE_EQ(q[0].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(q[3].get<double>(), 150.0);
}

TEST(StageTraceSummary, MalformedInputIsRejectedWithAReason) {
  EXPECT_THROW(tc::summarize_stage_trace(regular(1, 10), 2, 10, 2), std::invalid_argument);  // too few values
  EXPECT_THROW(tc::summarize_stage_trace(regular(1, 10), 1, 10, 0), std::invalid_argument);  // no stages
  EXPECT_THROW(tc::summarize_stage_trace({}, 0, 10, 2), std::invalid_argument);
}

// The clock span alone (clock_span.hpp), as the attention runner's --clock-trace uses it: a
// CTA whose span was never written (a persistent grid's unused slots) is skipped.
TEST(ClockSpan, ClockPerCtaAndUnwrittenSpansSkipped) {
  const std::vector<std::uint64_t> span = {10, 100, 10 + 1750, 100 + 1000,  // 1750 MHz over 1 us
                                           0, 0, 0, 0};                        // never ran
  const nlohmann::json j = tc::summarize_clock_span(span, 2);
  EXPECT_EQ(j["sm_clock_mhz"]["n"].get<int>(), 1);
  EXPECT_DOUBLE_EQ(j["sm_clock_mhz"]["median"].get<double>(), 1750.0);
  EXPECT_DOUBLE_EQ(j["span_us"]["median"].get<double>(), 1.0);
  EXPECT_THROW(tc::summarize_clock_span(span, 3), std::invalid_argument);
  EXPECT_THROW(tc::summarize_clock_span({}, 0), std::invalid_argument);
}
