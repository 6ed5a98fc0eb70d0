// Bad input: a clear error naming the field, never a crash.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::parse_problem;

// Runs f, expects an exception of type E whose message contains `needle`.
template <typename E, typename F>
void expect_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(BadInput, ProblemFieldsAreNamed) {
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":0,"n":8,"k":8})"); }, "m must be > 0");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":8,"n":-4,"k":8})"); }, "n must be > 0");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":8,"n":8})"); }, "'k'");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":8,"n":8,"k":8,"dtype":"int4"})"); }, "dtype");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"conv","m":8})"); }, "unknown kind 'conv'");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":8,"n":8,"k":8,"mm":1})"); }, "unknown field 'mm'");
  expect_error<ModelError>(
      [] { parse_problem(R"({"kind":"attention","batch":1,"heads_q":12,"heads_kv":5,"seq_q":64,"head_dim":64})"); },
      "heads_q");
  expect_error<ModelError>(
      [] { parse_problem(R"({"kind":"attention","batch":1,"heads_q":8,"seq_q":64,"head_dim":1024})"); }, "head_dim");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"decode","batch":1,"heads_q":8,"seq_kv":64,"head_dim":64,"q_per_seq":0})"); },
                           "q_per_seq");
  expect_error<ModelError>([] { parse_problem(R"({"kind":"gemm","m":8.5,"n":8,"k":8})"); }, "'m' must be an integer");
}

TEST(BadInput, TileAndSchedule) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem g = parse_problem(R"({"kind":"gemm","m":1024,"n":1024,"k":1024})");
  expect_error<ModelError>([&] { predict(p, g, "gemm_magic", parse_tile("block_m=128")); }, "unknown 'gemm_magic'");
  expect_error<ModelError>([] { parse_tile("block_m"); }, "malformed entry 'block_m'");
  expect_error<ModelError>([] { parse_tile("block_m=12x"); }, "not a number");
  expect_error<ModelError>([] { parse_tile("block_m=1,block_m=2"); }, "given twice");
  expect_error<ModelError>([&] { predict(p, g, "gemm_sm90_ws", parse_tile("block_m=128,block_n=128")); }, "missing block_k");
  expect_error<ModelError>(
      [&] {
        predict(p, g, "gemm_sm90_ws",
                parse_tile("block_m=128,block_n=128,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1,blok=3"));
      },
      "unknown parameter 'blok'");
  // A schedule for another problem kind.
  expect_error<ModelError>([&] { predict(p, g, "attn_fa3", parse_tile("block_m=128")); }, "attention problems");
  // Infeasible: a reason, not a crash.
  expect_error<Infeasible>(
      [&] {
        predict(p, g, "gemm_sm90_ws",
                parse_tile("block_m=128,block_n=256,block_k=64,stages=8,consumers=2,cluster_m=1,cluster_n=1"));
      },
      "SMEM");
  expect_error<Infeasible>(
      [&] {
        predict(p, g, "gemm_sm90_ws",
                parse_tile("block_m=256,block_n=256,block_k=64,stages=2,consumers=2,cluster_m=1,cluster_n=1"));
      },
      "registers");
  expect_error<Infeasible>(
      [&] {
        predict(p, g, "gemm_sm90_ws",
                parse_tile("block_m=96,block_n=128,block_k=64,stages=4,consumers=1,cluster_m=1,cluster_n=1"));
      },
      "block_m");
}

TEST(BadInput, SchedulesRejectedOnChipsWithoutTheirInstructions) {
  const Problem a = parse_problem(R"({"kind":"attention","batch":1,"heads_q":8,"seq_q":1024,"head_dim":128})");
  const Profile b200 = profiles::resolve_profile("b200"), h100 = profiles::resolve_profile("h100");
  expect_error<ModelError>(
      [&] { predict(b200, a, "attn_fa3", parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1")); },
      "sm_90a");
  expect_error<ModelError>([&] { predict(h100, a, "attn_fa4", parse_tile("block_m=128,block_n=128,stages=2")); }, "tcgen05");
  expect_error<ModelError>([&] { tune(b200, a, "attn_fa3"); }, "wgmma");
  EXPECT_NE(chip_support(b200, "gemm_sm90_ws").find("features.wgmma = 0"), std::string::npos);
  EXPECT_EQ(chip_support(h100, "gemm_sm90_ws"), "");
}

TEST(BadInput, ScaleNamesTheValidUnits) {
  Profile p = profiles::resolve_profile("h100");
  expect_error<ModelError>([&] { apply_scale(p, "warp=2"); }, "valid: tensor, mufu, fma");
  expect_error<ModelError>([&] { apply_scale(p, "mufu=0"); }, "must be > 0");
  expect_error<ModelError>([&] { apply_scale(p, "mufu"); }, "malformed");
  expect_error<ModelError>([&] { apply_scale(p, "mufu=abc"); }, "not a number");
  Profile q = profiles::resolve_profile("h100");
  apply_scale(q, "mufu=2,tensor=2");
  EXPECT_DOUBLE_EQ(q.per_sm.mufu_ex2.value, 32.0);
  EXPECT_DOUBLE_EQ(q.per_sm.tensor_bf16.value, 8192.0);
  EXPECT_DOUBLE_EQ(q.per_sm.mma_sync_bf16.value, 2.0 * p.per_sm.mma_sync_bf16.value);
}

TEST(BadInput, ConstantsFileIsStrict) {
  expect_error<ModelError>([] { parse_constants("{", "x.json"); }, "x.json");
  expect_error<ModelError>([] { parse_constants(R"({"constants":{}})", "x.json"); }, "missing constant");
  nlohmann::json j = nlohmann::json::parse(R"({"constants":{}})");
  for (const auto& name : constant_names()) {
    const auto& info = default_constants().info.at(name);
    j["constants"][name] = {{"value", info.value}, {"unit", info.unit}, {"source", "test"}};
  }
  EXPECT_NO_THROW(parse_constants(j.dump(), "ok.json"));
  j["constants"]["hbm_efficiency"]["value"] = 1.5;
  expect_error<ModelError>([&] { parse_constants(j.dump(), "bad.json"); }, "out of range");
  j["constants"]["hbm_efficiency"] = {{"value", 0.9}, {"unit", "B/s"}, {"source", "test"}};
  expect_error<ModelError>([&] { parse_constants(j.dump(), "bad.json"); }, "must be in ratio");
}

}  // namespace
}  // namespace tilesim::model
