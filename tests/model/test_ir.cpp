// The schedule descriptions the simulator executes: every schedule builds a consistent
// IR on every chip that runs it, and the problem/tile JSON of measurements parses.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {

struct Example {
  const char* schedule;
  const char* problem;
  const char* tile;
};
const Example kExamples[] = {
    {"gemm_sm90_ws", R"({"kind":"gemm","m":4096,"n":4096,"k":4096})",
     "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1"},
    {"gemm_sm80_mma", R"({"kind":"gemm","m":4096,"n":4096,"k":4096})", "block_m=128,block_n=128,block_k=32,stages=4,warps_m=2,warps_n=2"},
    {"gemm_sm100", R"({"kind":"gemm","m":4096,"n":4096,"k":4096})", "block_m=128,block_n=256,block_k=64,stages=4,cluster_m=2,cluster_n=1"},
    {"attn_fa2", R"({"kind":"attention","batch":2,"heads_q":16,"seq_q":4096,"head_dim":128,"causal":true})",
     "block_m=128,block_n=64,warps=8,stages=2"},
    {"attn_fa3", R"({"kind":"attention","batch":2,"heads_q":16,"seq_q":4096,"head_dim":128,"causal":true})",
     "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"},
    {"attn_fa4", R"({"kind":"attention","batch":2,"heads_q":16,"seq_q":4096,"head_dim":128,"causal":true})",
     "block_m=128,block_n=128,stages=3,exp_emu_fraction=0.25,rescale_threshold=8"},
    {"decode_splitkv", R"({"kind":"decode","batch":8,"heads_q":32,"heads_kv":8,"seq_kv":8192,"head_dim":128,"page_size":16})",
     "block_n=64,splits=4,stages=3,l2_prefetch=1"},
    {"mla_decode", R"({"kind":"mla","batch":16,"heads_q":128,"seq_kv":4096})", "block_n=64,splits=2,stages=2,kv_on_m=0"},
};

TEST(Ir, EveryScheduleBuildsAConsistentDescriptionOnEveryChipThatRunsIt) {
  int built = 0;
  for (const auto& gpu : {"h100", "h200", "h20", "b200"}) {
    const Profile p = profiles::resolve_profile(gpu);
    for (const auto& ex : kExamples) {
      if (!chip_support(p, ex.schedule).empty()) continue;
      const Problem prob = test::parse_problem(ex.problem);
      const ScheduleDesc d = build_schedule(p, prob, ex.schedule, parse_tile(ex.tile));
      ++built;
      EXPECT_FALSE(d.roles.empty()) << ex.schedule;
      EXPECT_FALSE(d.loop.empty()) << ex.schedule;
      EXPECT_FALSE(d.grid.classes.empty()) << ex.schedule;
      EXPECT_GE(d.grid.ctas_per_sm, 1);
      EXPECT_GT(d.useful_flops, 0.0);
      EXPECT_GE(d.total_hbm_bytes, 0.99 * compulsory_bytes(prob) - 1.0) << ex.schedule << " on " << gpu;
      for (size_t v = 0; v < d.loop.size(); ++v)
        for (const auto& dep : d.loop[v].deps)
          if (dep.distance == 0) {
            EXPECT_LT(dep.op, static_cast<int>(v)) << "list order is topological";
          }
      for (const auto& r : d.rings) {
        EXPECT_GE(r.stages, 1);
        for (int i : r.producers) EXPECT_LT(i, static_cast<int>(d.loop.size()));
      }
      // Some op of every schedule uses the tensor pipe, and the JSON view names every op.
      bool tensor = false;
      for (const auto& op : d.loop)
        for (const auto& u : op.uses) tensor = tensor || u.unit == Unit::kTensor;
      EXPECT_TRUE(tensor) << ex.schedule;
      const nlohmann::json j = to_json(d);
      EXPECT_EQ(j["loop"].size(), d.loop.size());
      // explain() prints the arithmetic of every op
      const Prediction pr = predict(p, prob, ex.schedule, parse_tile(ex.tile), default_constants(), true);
      const std::string text = explain(pr, p);
      for (const auto& op : d.loop) EXPECT_NE(text.find(op.name), std::string::npos) << op.name;
      EXPECT_NE(text.find("bottleneck"), std::string::npos);
    }
  }
  // gemm_sm90_ws, attn_fa3 on h100/h200/h20 (6); gemm_sm100, attn_fa4 on b200 (2); the
  // other four schedules on all four chips (16).
  EXPECT_EQ(built, 24);
}

TEST(Ir, MeasurementJsonParses) {
  const auto run = nlohmann::json::parse(R"({
    "impl": "tilesim", "schedule": "attn_fa3",
    "tile": {"block_m": 128, "block_n": 128, "stages": 2, "consumers": 2, "pingpong": 1, "intra_overlap": true},
    "problem": {"kind": "attention", "batch": 4, "heads_q": 16, "heads_kv": 16, "seq_q": 4096, "seq_kv": 4096,
                "head_dim": 128, "head_dim_v": 128, "causal": false, "dtype": "bf16"}})");
  const Problem prob = problem_from_json(run["problem"]);
  const Tile tile = tile_from_json(run["tile"]);
  EXPECT_EQ(prob.seq_q, 4096);
  EXPECT_DOUBLE_EQ(tile.get("intra_overlap"), 1.0);
  EXPECT_EQ(to_json(prob), run["problem"]);
  const Prediction pr = predict(profiles::resolve_profile("h100"), prob, "attn_fa3", tile);
  EXPECT_GT(pr.time_us, 0.0);
  EXPECT_EQ(pr.defaulted.size(), 3u);  // exp_emu_fraction, rescale_threshold, persistent
}

}  // namespace
}  // namespace tilesim::model
