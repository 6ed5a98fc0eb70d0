// Engine checks: unlimited units give the dependency critical path (computed here
// independently, by a longest-path pass over the op instances); the trace is valid
// Chrome trace JSON with one track per role and per unit; the grid level groups SMs;
// bad descriptions are refused with a reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim_test_util.hpp"
#include "tilesim/sim/report.hpp"

namespace tilesim::sim::testing {
namespace {

// Longest path through (prologue, iterations x loop, epilogue) of one work item that
// starts at t0, with each op holding its SM units for work/rate (chip-wide L2/HBM are
// unlimited: a load takes only its latency, as in the model's dependency bound) and
// loop-carried edges delayed by `overhead` per iteration of distance.
double critical_path(const model::ScheduleDesc& d, int64_t iters, double overhead, double t0) {
  auto occ = [](const model::Op& op) {
    double c = op.chain_cycles;  // the op's own warps' instruction stream holds no unit
    for (const auto& u : op.uses)
      if (!model::unit_is_chip_wide(u.unit) && u.rate_per_clk > 0.0)
        c = std::max(c, u.work / u.rate_per_clk);
    return c;
  };
  auto sat = [&](const model::Op& pred, double start, model::DepKind k) {
    switch (k) {
      case model::DepKind::kIssue:
        return start;
      case model::DepKind::kAfter:
        return start + occ(pred);
      case model::DepKind::kDone:
        return start + occ(pred) + pred.latency_cycles;
    }
    return start;
  };
  auto phase = [&](const std::vector<model::Op>& ops, double floor) {
    std::vector<double> st(ops.size());
    double end = floor;
    for (size_t v = 0; v < ops.size(); ++v) {
      double s = floor;
      for (const auto& dep : ops[v].deps) s = std::max(s, sat(ops[dep.op], st[dep.op], dep.kind));
      st[v] = s;
      end = std::max(end, s + occ(ops[v]) + ops[v].latency_cycles);
    }
    return end;
  };
  const double pro_done = phase(d.prologue, t0);
  std::vector<std::vector<double>> st(static_cast<size_t>(iters),
                                      std::vector<double>(d.loop.size()));
  double loop_done = pro_done;
  for (int64_t i = 0; i < iters; ++i)
    for (size_t v = 0; v < d.loop.size(); ++v) {
      double s = pro_done;
      for (const auto& dep : d.loop[v].deps) {
        if (i - dep.distance < 0) continue;
        s = std::max(
            s, sat(d.loop[dep.op], st[static_cast<size_t>(i - dep.distance)][dep.op], dep.kind) +
                   overhead * dep.distance);
      }
      st[static_cast<size_t>(i)][v] = s;
      loop_done = std::max(loop_done, s + occ(d.loop[v]) + d.loop[v].latency_cycles);
    }
  return phase(d.epilogue, loop_done);
}

struct Sched {
  const char* gpu;
  model::Problem prob;
  const char* schedule;
  const char* tile;
};

std::vector<Sched> one_per_schedule() {
  return {
      {"h100", gemm(1024, 1024, 4096), "gemm_sm90_ws",
       "block_m=128,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1"},
      {"h100", gemm(1024, 1024, 4096), "gemm_sm80_mma",
       "block_m=128,block_n=128,block_k=32,stages=3,warps_m=2,warps_n=2"},
      {"b200", gemm(1024, 1024, 4096), "gemm_sm100",
       "block_m=128,block_n=256,block_k=64,stages=4,cluster_m=1,cluster_n=1"},
      {"h100", attention(1, 2, 2048, 128), "attn_fa2", "block_m=128,block_n=64,warps=8,stages=2"},
      {"h100", attention(1, 2, 2048, 128), "attn_fa3",
       "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"},
      {"b200", attention(1, 2, 2048, 128), "attn_fa4", "block_m=128,block_n=128,stages=3"},
      {"h100", decode(2, 8, 2, 8192), "decode_splitkv", "block_n=64,splits=4,stages=3"},
      {"h100", mla(2, 64, 8192), "mla_decode", "block_n=64,splits=4,stages=2,kv_on_m=0"},
  };
}

TEST(SimEngine, UnlimitedUnitsGiveTheDependencyCriticalPath) {
  constexpr int64_t kIters = 12;
  for (const auto& s : one_per_schedule()) {
    SCOPED_TRACE(std::string(s.schedule));
    const profiles::Profile p = profiles::builtin_profile(s.gpu);
    model::ScheduleDesc d = model::build_schedule(p, s.prob, s.schedule, model::parse_tile(s.tile));
    // One work item on one CTA (test-only grid edit; the ops are the model's).
    d.grid.scheduler = model::Scheduler::kPlain;
    d.grid.ctas_per_sm = 1;
    d.grid.classes = {model::WorkClass{"one", 1, kIters}};
    Options o = default_options(p, model::default_constants());
    o.ignore_resources = true;
    const Result free_units = simulate(d, o);
    const double expect = critical_path(d, kIters, o.loop_edge_overhead_cycles,
                                        o.cta_launch_cycles + o.item_setup_cycles);
    EXPECT_NEAR(free_units.kernel_cycles, expect, 1e-6 * expect);
    o.ignore_resources = false;
    const Result shared = simulate(d, o);
    EXPECT_GE(shared.kernel_cycles, expect * (1.0 - 1e-9)) << "units can only add waiting";
  }
}

TEST(SimEngine, TraceIsChromeTraceJsonWithTracksPerRoleAndUnit) {
  const profiles::Profile p = profiles::builtin_profile("h100");
  const auto pred = model::predict(
      p, attention(1, 2, 1024, 128), "attn_fa3",
      model::parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"));
  Options o = default_options(p, model::default_constants());
  o.record_trace = true;
  const Result r = simulate(pred.desc, o);
  std::ostringstream os;
  write_chrome_trace(r, pred.desc, os);
  const nlohmann::json j = nlohmann::json::parse(os.str());
  ASSERT_TRUE(j.contains("traceEvents"));
  std::set<std::string> tracks;
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> slices;
  int x_events = 0;
  for (const auto& e : j["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name")
      tracks.insert(e["args"]["name"].get<std::string>());
    if (ph != "X") continue;
    ++x_events;
    const double ts = e["ts"], dur = e["dur"];
    EXPECT_GE(ts, 0.0);
    EXPECT_GE(dur, 0.0);
    EXPECT_LE(ts + dur, r.kernel_us * (1.0 + 1e-9) + 1e-6);
    slices[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(ts, ts + dur);
  }
  EXPECT_EQ(x_events, static_cast<int>(r.trace.size()) -
                          static_cast<int>(std::count_if(r.trace.begin(), r.trace.end(),
                                                         [](const TraceRecord& t) {
                                                           return t.kind == TraceRecord::kCounter;
                                                         })));
  for (const char* t : {"unit tensor", "unit mufu", "unit smem", "cta0 producer", "cta0 consumer0",
                        "cta0 consumer1"})
    EXPECT_TRUE(tracks.count(t)) << "missing track " << t;
  // Slices on one track never partially overlap (viewers need them nested or disjoint).
  for (auto& [key, v] : slices) {
    std::sort(v.begin(), v.end());
    for (size_t i = 1; i < v.size(); ++i)
      EXPECT_LE(v[i - 1].second, v[i].first + 1e-4) << "track " << key.second;
  }
}

TEST(SimEngine, CausalGridHasSeveralSmGroupsAndLongestFirstHelps) {
  const profiles::Profile p = profiles::builtin_profile("h100");
  const auto pred = model::predict(
      p, attention(2, 16, 4096, 128, /*causal=*/true), "attn_fa3",
      model::parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"));
  model::ScheduleDesc launch_order = pred.desc, longest_first = pred.desc;
  launch_order.grid.scheduler = model::Scheduler::kPersistent;
  longest_first.grid.scheduler = model::Scheduler::kLongestFirst;
  const Options o = default_options(p, model::default_constants());
  const Result a = simulate(launch_order, o), b = simulate(longest_first, o);
  int sms = 0;
  for (const auto& g : b.groups) sms += g.sms;
  EXPECT_EQ(sms, 132);
  EXPECT_GT(b.groups.size(), 1u) << "causal items differ: SMs get different work";
  EXPECT_LE(b.kernel_cycles, a.kernel_cycles)
      << "longest-first should not lose to launch order on causal work";
  // Identical items in whole waves: one group stands for every SM.
  const auto even = model::predict(
      p, attention(1, 33, 512, 128), "attn_fa3",
      model::parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"));
  const Result e = simulate(even.desc, o);
  EXPECT_EQ(e.groups.size(), 1u);
  EXPECT_EQ(e.groups[0].sms, 132);
}

TEST(SimEngine, BadDescriptionsAreRefusedWithAReason) {
  const profiles::Profile p = profiles::builtin_profile("h100");
  const model::ScheduleDesc good = model::build_schedule(
      p, gemm(1024, 1024, 1024), "gemm_sm90_ws",
      model::parse_tile(
          "block_m=128,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1"));
  const Options o = default_options(p, model::default_constants());
  {
    auto d = good;
    d.loop.clear();
    EXPECT_THROW(simulate(d, o), SimError);
  }
  {
    auto d = good;
    d.loop[0].deps.push_back(
        model::Dep{static_cast<int>(d.loop.size()) - 1, 0, model::DepKind::kDone, ""});
    try {
      simulate(d, o);
      FAIL() << "a dependency on a later op of the same iteration must be refused";
    } catch (const SimError& e) {
      EXPECT_NE(std::string(e.what()).find("later op"), std::string::npos) << e.what();
    }
  }
  {
    auto d = good;
    d.grid.classes.clear();
    EXPECT_THROW(simulate(d, o), SimError);
  }
  {
    auto d = good;
    d.loop[0].uses[0].work = std::nan("");
    EXPECT_THROW(simulate(d, o), SimError);
  }
}

}  // namespace
}  // namespace tilesim::sim::testing
