// The per-warp instruction counts the model issues (its chains and issue slots) against the
// compiled kernels' SASS: data/sass/sm90a_main_loops.json, written by scripts/sass_counts.py
// from the device build's runners (one ordinary main-loop iteration per kernel: the
// causal/boundary mask path left out). Every FA3, FA2, mma.sync GEMM and split-KV decode
// instance must agree within 10 %, and the MUFU count (one per exp2 element and row
// correction) within 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "tilesim/profile.hpp"

using tilesim::model::Op;
using tilesim::model::ScheduleDesc;
using tilesim::model::Unit;
using tilesim::model::test::parse_problem;
using tilesim::model::test::use_work;

namespace {

constexpr double kCountTolerance = 0.10;
// Registers per thread against ptxas: 30 of the 35 instances lie within kRegisterTolerance
// (the misses, printed by the test and listed in model/README.md: FA2 block_n 32 -13, the
// 64x64 mma.sync GEMM +17, three decode instances -9); none may miss by more than
// kRegisterMaxMiss, and the share within the tolerance may not fall.
constexpr int kRegisterTolerance = 8;
constexpr int kRegisterMaxMiss = 18;
constexpr double kRegisterWithinShare = 0.85;

nlohmann::json load_counts() {
  std::ifstream f(TILESIM_SASS_COUNTS_FILE);
  EXPECT_TRUE(f.good()) << "missing " << TILESIM_SASS_COUNTS_FILE;
  return nlohmann::json::parse(f);
}

// Per-thread issue-slot instructions of one role's loop ops.
double role_instructions(const ScheduleDesc& d, const std::string& role) {
  double work = 0.0;
  int threads = 0;
  for (size_t r = 0; r < d.roles.size(); ++r)
    if (d.roles[r].name == role) {
      threads = d.roles[r].threads;
      for (const Op& op : d.loop)
        if (op.role == static_cast<int>(r)) work += use_work(op, Unit::kIssue);
    }
  EXPECT_GT(threads, 0) << "no role " << role;
  return threads > 0 ? work / threads : 0.0;
}

// The model's problem, tile and main role for one compiled kernel of the counts file.
struct KernelCase {
  tilesim::model::Problem prob;
  nlohmann::json tile;
  std::string role;
  double tensor_in_issue = 0.0;  // tensor instructions the model already counts as issue
};

KernelCase kernel_case(const nlohmann::json& k) {
  const std::string sched = k.at("schedule");
  const auto& c = k.at("config");
  KernelCase kc;
  nlohmann::json& tile = kc.tile;
  tile = c;
  tilesim::model::Problem& prob = kc.prob;
  std::string& role = kc.role;
  double& tensor_in_issue = kc.tensor_in_issue;
  {
    if (sched == "gemm_sm80_mma") {
      prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096})");
      role = "warps";
      tensor_in_issue = k.at("tensor_instructions").get<double>();
    } else if (sched == "gemm_sm90_ws") {
      // The consumers' K-step loop; its wgmma instructions are in the model's issue count.
      prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096})");
      role = "consumer0";
      tensor_in_issue = k.at("tensor_instructions").get<double>();
    } else if (sched == "decode_splitkv") {
      // A group of 16 query rows per m tile (one m tile: 8 query heads x 2 tokens; two: 32
      // heads per kv head), paged at 64 tokens per page or contiguous.
      const int d = c.at("head_dim"), m_tiles = c.at("m_tiles");
      prob = parse_problem(R"({"kind":"decode","batch":8,"heads_q":)" + std::to_string(8 * m_tiles) +
                           R"(,"heads_kv":1,"q_per_seq":2,"seq_kv":16384,"head_dim":)" + std::to_string(d) +
                           R"(,"page_size":)" + (c.at("paged").get<int>() ? "64" : "0") + "}");
      tile = {{"block_n", c.at("block_n")}, {"stages", c.at("stages")}, {"l2_prefetch", c.at("l2_prefetch")}, {"splits", 4}};
      role = "warps";
    } else {
      const int d = c.at("head_dim");
      prob = parse_problem(R"({"kind":"attention","batch":1,"heads_q":2,"seq_q":4096,"head_dim":)" + std::to_string(d) + "}");
      tile.erase("head_dim");
      if (sched == "attn_fa3") {
        tile["block_m"] = 128;
        tile["consumers"] = 2;
        role = "consumer0";
      } else {
        tile["warps"] = c.at("block_m").get<int>() / 16;
        role = "warps";
      }
    }
  }
  return kc;
}

TEST(SassCounts, ModelInstructionCountsMatchTheCompiledMainLoops) {
  const auto doc = load_counts();
  ASSERT_EQ(doc.at("schema"), "tilesim.sass_counts.v1");
  const auto p = tilesim::profiles::builtin_profile("h100");
  int checked = 0;
  for (const auto& k : doc.at("kernels")) {
    const std::string sched = k.at("schedule");
    const auto& c = k.at("config");
    const KernelCase kc = kernel_case(k);
    const nlohmann::json& tile = kc.tile;
    const std::string& role = kc.role;
    const double tensor_in_issue = kc.tensor_in_issue;
    SCOPED_TRACE(sched + " " + c.dump());
    const ScheduleDesc desc = tilesim::model::build_schedule(p, kc.prob, sched, tilesim::model::tile_from_json(tile));
    const double model = role_instructions(desc, role) + k.at("tensor_instructions").get<double>() - tensor_in_issue;
    const double sass = k.at("unmasked");
    EXPECT_NEAR(model / sass, 1.0, kCountTolerance) << "model " << model << " vs SASS " << sass << " per thread";
    if (sched != "gemm_sm80_mma" && sched != "gemm_sm90_ws") {
      double mufu = 0.0;
      for (const Op& op : desc.loop)
        if (op.role >= 0 && desc.roles[op.role].name == role) mufu += use_work(op, Unit::kMufu);
      const int threads = sched == "attn_fa3" || sched == "decode_splitkv" ? 128 : tile["warps"].get<int>() * 32;
      EXPECT_NEAR(mufu / threads, k.at("mufu").get<double>(), 2.0);
    }
    ++checked;
  }
  EXPECT_GE(checked, 84) << "the counts file should cover every compiled FA3/FA2/GEMM/decode instance";
}

TEST(SassCounts, RegisterEstimatesMatchPtxas) {
  // Kernels without register reallocation: the per-thread estimate of their one role
  // against the registers ptxas allocated (cuobjdump -res-usage). Warp-specialized kernels
  // (FA3, the wgmma GEMM) set their consumers' count with setmaxnreg; ptxas reports the
  // launch count.
  const auto doc = load_counts();
  const auto p = tilesim::profiles::builtin_profile("h100");
  int checked = 0, within = 0;
  for (const auto& k : doc.at("kernels")) {
    const std::string sched = k.at("schedule");
    if (sched == "attn_fa3" || sched == "gemm_sm90_ws" || !k.contains("registers") || k.at("registers").is_null())
      continue;
    const KernelCase kc = kernel_case(k);
    SCOPED_TRACE(sched + " " + k.at("config").dump());
    const ScheduleDesc desc = tilesim::model::build_schedule(p, kc.prob, sched, tilesim::model::tile_from_json(kc.tile));
    int model = 0;
    for (const auto& r : desc.roles)
      if (r.name == kc.role) model = r.registers_per_thread;
    const int ptxas = k.at("registers").get<int>();
    EXPECT_NEAR(model, ptxas, kRegisterMaxMiss) << "model " << model << " vs ptxas " << ptxas;
    within += std::abs(model - ptxas) <= kRegisterTolerance ? 1 : 0;
    if (std::abs(model - ptxas) > kRegisterTolerance)
      std::printf("[registers] %s %s: model %d, ptxas %d\n", sched.c_str(), k.at("config").dump().c_str(), model, ptxas);
    ++checked;
  }
  EXPECT_GE(checked, 30);
  EXPECT_GE(within, kRegisterWithinShare * checked) << within << " of " << checked << " within " << kRegisterTolerance;
}

}  // namespace
