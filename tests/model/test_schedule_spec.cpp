// The schedule specs: their own consistency, the kernel instances they carry (the
// embedded kernels/instances.json) against the model, and tune's has_kernel /
// kernels_only. The runners' compiled lists are checked against the same file by the
// kernel_instances_* tests (tests/kernels/, CUDA builds).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

TEST(ScheduleSpec, DefaultsAndTuneValuesLieInTheDomains) {
  for (const auto& s : schedules()) {
    ASSERT_NE(s.build, nullptr) << s.name;
    for (const auto& p : s.params) {
      ASSERT_FALSE(p.tune_values.empty()) << s.name << "." << p.name;
      // A value outside the domain would make check_tile reject every tile that has it.
      Tile t;
      for (const auto& q : s.params) t.set(q.name, q.tune_values.front());
      std::string why;
      const Profile h100 = profiles::resolve_profile("h100");
      for (double v : p.tune_values) {
        t.set(p.name, v);
        const char* key = check_tile(s, t, s.representative, h100, &why);
        EXPECT_FALSE(key != nullptr && why.rfind(p.name + " must be", 0) == 0) << s.name << ": " << why;
      }
      if (p.has_default) {
        t.set(p.name, p.default_value);
        const char* key = check_tile(s, t, s.representative, h100, &why);
        EXPECT_FALSE(key != nullptr && why.rfind(p.name + " must be", 0) == 0) << s.name << " default: " << why;
      }
    }
    for (const auto& r : s.runtime_params) EXPECT_NE(s.param(r), nullptr) << s.name << " runtime " << r;
  }
}

TEST(ScheduleSpec, DomainAndConstraintMessagesNameTheRuleAndReason) {
  const Profile h100 = profiles::resolve_profile("h100");
  const Problem g = parse_problem(R"({"kind":"gemm","m":1024,"n":1024,"k":1024})");
  const auto bad = [&](const std::string& tile, const std::string& needle) {
    try {
      (void)predict(h100, g, "gemm_sm90_ws", parse_tile(tile));
      ADD_FAILURE() << tile << ": accepted";
    } catch (const Infeasible& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string base = "block_n=128,block_k=64,stages=4,cluster_m=1,cluster_n=1,";
  bad(base + "block_m=128,consumers=4", "consumers must be an integer in 1..3");
  bad(base + "block_m=96,consumers=1", "block_m must be a multiple of 64");
  bad(base + "block_m=192,consumers=1", "block_m / consumers <= 128 (a consumer warpgroup");
  bad("block_m=128,consumers=2,block_n=128,block_k=64,stages=4,cluster_m=3,cluster_n=1", "powers of two");
  bad(base + "block_m=128,consumers=2,split_k=32", "split_k must be an integer in 1..16, got 32");
  const Problem small_k = parse_problem(R"({"kind":"gemm","m":1024,"n":1024,"k":128})");
  try {
    (void)predict(h100, small_k, "gemm_sm90_ws", parse_tile(base + "block_m=128,consumers=2,split_k=4"));
    ADD_FAILURE() << "split_k 4 over 2 K steps accepted";
  } catch (const Infeasible& e) {
    EXPECT_NE(std::string(e.what()).find("every split needs at least one K step"), std::string::npos) << e.what();
  }
}

TEST(ScheduleSpec, ChipFeaturesComeFromTheSpec) {
  const Profile b200 = profiles::resolve_profile("b200"), h100 = profiles::resolve_profile("h100");
  for (const auto& s : schedules()) {
    const bool needs_wgmma = std::any_of(s.features.begin(), s.features.end(),
                                         [](const FeatureReq& f) { return f.feature == Feature::kWgmma; });
    const bool needs_tcgen05 = std::any_of(s.features.begin(), s.features.end(),
                                           [](const FeatureReq& f) { return f.feature == Feature::kTcgen05; });
    EXPECT_EQ(chip_support(b200, s).empty(), !needs_wgmma) << s.name;
    EXPECT_EQ(chip_support(h100, s).empty(), !needs_tcgen05) << s.name;
  }
}

// Every instance of kernels/instances.json is a feasible model tile on its schedule's
// representative problem (H100), meets the kernel rules and is marked has_kernel. An
// instance the model rejects must say why (model_disagrees) and is expected rejected, so
// a model fix shows up here as a failure that asks to delete the note.
TEST(KernelInstances, EveryInstanceIsAFeasibleModelTileWithAKernel) {
  const Profile h100 = profiles::resolve_profile("h100");
  int n = 0;
  for (const auto& s : schedules()) {
    if (s.kernels.empty()) continue;
    EXPECT_FALSE(s.runner.empty()) << s.name;
    std::set<std::string> seen;
    for (const auto& k : s.kernels) {
      ++n;
      const Problem prob = instance_problem(s, k);
      Tile full = k.tile;
      for (const auto& rp : s.runtime_params) full.set(rp, s.param(rp)->tune_values.front());
      full = complete_tile(s.name, full, nullptr);
      EXPECT_TRUE(seen.insert(full.to_string() + k.requires_.dump()).second) << s.name << " duplicate " << full.to_string();
      std::string why;
      EXPECT_EQ(check_tile(s, full, prob, h100, &why), nullptr) << s.name << " " << full.to_string() << ": " << why;
      if (k.model_disagrees.empty())
        EXPECT_NO_THROW((void)predict(h100, prob, s.name, full)) << s.name << " " << full.to_string();
      else
        EXPECT_THROW((void)predict(h100, prob, s.name, full), Infeasible)
            << s.name << " " << full.to_string() << " is predicted now: delete its model_disagrees note";
      EXPECT_EQ(check_kernel_rules(s, full, prob, h100), "") << s.name << " " << full.to_string();
      EXPECT_TRUE(has_kernel(s, full, prob)) << s.name << " " << full.to_string();
    }
  }
  EXPECT_GT(n, 50);  // the device build's full list, not only the CI subset
}

// The rules the kernels enforce (their static_asserts) are in the specs: a tile that
// breaks one has no kernel even where the model predicts it.
TEST(KernelInstances, KernelRulesMatchTheKernels) {
  const Profile h100 = profiles::resolve_profile("h100");
  const auto& gemm = schedule_spec("gemm_sm90_ws");
  const Problem g = gemm.representative;
  const auto rule = [&](const ScheduleSpec& s, const std::string& tile, const Problem& prob) {
    return check_kernel_rules(s, complete_tile(s.name, parse_tile(tile), nullptr), prob, h100);
  };
  const std::string ok = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1";
  EXPECT_EQ(rule(gemm, ok, g), "");
  EXPECT_NE(rule(gemm, "block_m=128,block_n=128,block_k=128,stages=3,consumers=2,cluster_m=1,cluster_n=1", g)
                .find("block_k == 64"), std::string::npos);
  EXPECT_NE(rule(gemm, "block_m=128,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=2", g)
                .find("<= 2"), std::string::npos);
  EXPECT_NE(rule(gemm, "block_m=128,block_n=256,block_k=64,stages=4,consumers=1,cluster_m=1,cluster_n=1", g)
                .find("accumulators"), std::string::npos);
  const auto& fa3 = schedule_spec("attn_fa3");
  EXPECT_NE(rule(fa3, "block_m=192,block_n=128,stages=2,consumers=3,pingpong=1,intra_overlap=1", fa3.representative)
                .find("consumers == 2"), std::string::npos);
  EXPECT_NE(rule(fa3, "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1,exp_emu_fraction=0.3",
                 fa3.representative).find("1/8"), std::string::npos);
  const auto& dec = schedule_spec("decode_splitkv");
  EXPECT_NE(rule(dec, "block_n=32,splits=1,stages=3", dec.representative).find("multiple of 64"), std::string::npos);
  // Every instance's tile obeys its kernel rules (checked above), and no model-only tile
  // with block_k = 128 or a 2x2 cluster is marked as having a kernel.
  EXPECT_FALSE(has_kernel(gemm, complete_tile(gemm.name, parse_tile("block_m=128,block_n=256,block_k=128,stages=3,"
                                                                     "consumers=2,cluster_m=2,cluster_n=1"), nullptr), g));
}

// The fp8 schedule serves fp8 problems only and keeps two accumulator sets in registers.
TEST(KernelInstances, Fp8RulesMatchTheKernel) {
  const Profile h100 = profiles::resolve_profile("h100");
  const auto& fp8 = schedule_spec("gemm_sm90_fp8");
  EXPECT_EQ(fp8.representative.dtype, Dtype::kFp8);
  const auto check = [&](const std::string& tile, const Problem& prob) {
    std::string why;
    const char* key = check_tile(fp8, complete_tile(fp8.name, parse_tile(tile), nullptr), prob, h100, &why);
    return key == nullptr ? std::string() : why;
  };
  const std::string ok = "block_m=128,block_n=192,block_k=128,stages=4,consumers=2";
  EXPECT_EQ(check(ok, fp8.representative), "");
  Problem bf16 = fp8.representative;
  bf16.dtype = Dtype::kBf16;
  EXPECT_NE(check(ok, bf16).find("dtype is fp8"), std::string::npos);
  // 128x256 with 2 consumers: 2 x 128 accumulators + 40 > 232 registers.
  EXPECT_NE(check("block_m=128,block_n=256,block_k=128,stages=3,consumers=2", fp8.representative).find("registers"),
            std::string::npos);
  EXPECT_NE(check("block_m=128,block_n=128,block_k=64,stages=4,consumers=2", fp8.representative).find("block_k"),
            std::string::npos);
  EXPECT_NE(check("block_m=64,block_n=128,block_k=128,stages=8,consumers=1,mma_order=1", fp8.representative)
                .find("mma_order"), std::string::npos);
  // A third accumulator set (promote_overlap) fits 128x128 but not 128x192 with 2 consumers.
  EXPECT_EQ(check("block_m=128,block_n=128,block_k=128,stages=5,consumers=2,promote_overlap=1", fp8.representative), "");
  EXPECT_NE(check("block_m=128,block_n=192,block_k=128,stages=4,consumers=2,promote_overlap=1", fp8.representative)
                .find("registers"), std::string::npos);
  // And the bf16 schedule does not claim a kernel for fp8 problems.
  const auto& ws = schedule_spec("gemm_sm90_ws");
  Problem f = ws.representative;
  f.dtype = Dtype::kFp8;
  EXPECT_FALSE(has_kernel(ws, complete_tile(ws.name, parse_tile("block_m=128,block_n=256,block_k=128,stages=4,"
                                                                 "consumers=2,cluster_m=2,cluster_n=1"), nullptr), f));
}

TEST(KernelInstances, InstancesServeOnlyTheirProblems) {
  const auto& fa3 = schedule_spec("attn_fa3");
  const Tile t = complete_tile(fa3.name, parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"),
                               nullptr);
  Problem p = fa3.representative;
  EXPECT_TRUE(has_kernel(fa3, t, p));
  p.head_dim = p.head_dim_v = 96;  // no instance at head dim 96
  EXPECT_FALSE(has_kernel(fa3, t, p));
  p.head_dim = p.head_dim_v = 128;
  p.dtype = Dtype::kFp16;
  EXPECT_FALSE(has_kernel(fa3, t, p));
  const auto& dec = schedule_spec("decode_splitkv");
  Problem d = dec.representative;  // group 4
  const Tile dt = complete_tile(dec.name, parse_tile("block_n=64,splits=8,stages=3"), nullptr);
  EXPECT_TRUE(has_kernel(dec, dt, d));
  d.page_size = 64;
  EXPECT_TRUE(has_kernel(dec, dt, d));  // the paged instance
  d.heads_q = 8 * 64;                   // 64 rows per kv head: more than any m_tiles serves
  EXPECT_FALSE(has_kernel(dec, dt, d));
}

TEST(KernelInstances, TuneMarksAndRestrictsToKernels) {
  const Profile h100 = profiles::resolve_profile("h100");
  const Problem a =
      parse_problem(R"({"kind":"attention","batch":4,"heads_q":16,"seq_q":4096,"head_dim":128})");
  const auto all = tune(h100, a, TuneOptions{"", false});
  const auto kern = tune(h100, a, TuneOptions{"", true});
  ASSERT_FALSE(kern.empty());
  EXPECT_LT(kern.size(), all.size());
  size_t marked = 0;
  for (const auto& r : all) marked += r.has_kernel ? 1 : 0;
  EXPECT_GT(marked, 0u);
  for (const auto& r : kern) {
    EXPECT_TRUE(r.has_kernel) << r.schedule << " " << r.tile.to_string();
    // The same tile predicted on its own agrees with tune's number.
    EXPECT_NEAR(predict(h100, a, r.schedule, r.tile).time_us, r.time_us, 1e-9 * r.time_us);
  }
  // Attention on H100: every kernel-backed candidate tune would rank (head dim 128).
  const auto& fa3 = schedule_spec("attn_fa3");
  size_t d128 = 0;
  for (const auto& k : fa3.kernels) d128 += instance_serves(k, a) && k.model_disagrees.empty() ? 1 : 0;
  size_t fa3_kern = 0;
  for (const auto& r : kern) fa3_kern += r.schedule == "attn_fa3" ? 1 : 0;
  EXPECT_EQ(fa3_kern, d128);  // every FA3 d128 instance the model accepts
  // Decode: instances x every tune value of the runtime parameter splits (those that fit).
  const Problem d = parse_problem(R"({"kind":"decode","batch":16,"heads_q":32,"heads_kv":8,"seq_kv":8192,"head_dim":128})");
  const auto dk = tune(h100, d, TuneOptions{"decode_splitkv", true});
  ASSERT_FALSE(dk.empty());
  std::set<double> splits;
  for (const auto& r : dk) splits.insert(r.tile.get("splits"));
  EXPECT_GT(splits.size(), 3u);
}

}  // namespace
}  // namespace tilesim::model
