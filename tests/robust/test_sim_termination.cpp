// The simulator terminates: on long sequences (the clock late in a long kernel has a
// coarse ulp), on absurdly slow units, and it refuses a grid too big to lay out before
// building anything per SM.
#include <gtest/gtest.h>

#include <chrono>

#include "robust_util.hpp"
#include "tilesim/model/model.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::robust {
namespace {

// Sanitizer builds (the asan preset) run the engine several times slower: wall-clock
// limits scale with them; optimised builds check the real targets.
#ifdef TILESIM_SANITIZED
constexpr double kSanitizerSlowdown = 10.0;
#else
constexpr double kSanitizerSlowdown = 1.0;
#endif
constexpr double kSimulateLimitMs = 2000.0 * kSanitizerSlowdown;
constexpr double kRefuseLimitMs = 1000.0 * kSanitizerSlowdown;

const char* kFa3Tile = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1";

model::Problem attention(int64_t batch, int64_t heads, int64_t seq) {
  model::Problem p;
  p.kind = model::ProblemKind::kAttention;
  p.batch = batch;
  p.heads_q = p.heads_kv = heads;
  p.seq_q = p.seq_kv = seq;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

sim::Result simulate(const profiles::Profile& prof, const model::Problem& prob, const std::string& schedule,
                     const std::string& tile) {
  const auto pr = model::predict(prof, prob, schedule, model::parse_tile(tile), model::default_constants());
  return sim::simulate(pr.desc, sim::default_options(prof, model::default_constants()));
}

// These shapes hung in the chip-wide transfer completion: a remainder of a few 1e-9
// bytes, below the resolution of the clock at ~1e7 cycles, re-armed an event at now.
TEST(SimTermination, LongSequencesFinishAndAgreeWithTheModel) {
  const auto h100 = profiles::builtin_profile("h100");
  for (const auto& [batch, heads] : {std::pair<int64_t, int64_t>{4, 16}, {2, 32}, {1, 64}, {8, 16}}) {
    const auto prob = attention(batch, heads, 32768);
    const auto pr = model::predict(h100, prob, "attn_fa3", model::parse_tile(kFa3Tile), model::default_constants());
    const auto r = simulate(h100, prob, "attn_fa3", kFa3Tile);
    EXPECT_GT(r.total_us, 0.0);
    EXPECT_NEAR(r.total_us / pr.time_us, 1.0, 0.1) << batch << "x" << heads;
    EXPECT_LT(r.wall_ms, kSimulateLimitMs) << batch << "x" << heads;
  }
}

TEST(SimTermination, PersistentLongSequenceFinishes) {
  const auto r = simulate(profiles::builtin_profile("h100"), attention(4, 16, 32768), "attn_fa3",
                          std::string(kFa3Tile) + ",persistent=1");
  EXPECT_GT(r.total_us, 0.0);
}

// A unit a factor 1e300 slower than real puts the clock near 1e305 cycles, where one ulp
// is larger than any transfer: the simulation must still end.
TEST(SimTermination, AbsurdlySlowTensorUnitFinishes) {
  auto prof = profiles::builtin_profile("h100");
  for (const char* f : {"per_sm_per_clk.tensor_bf16", "per_sm_per_clk.tensor_fp16"})
    profiles::field(prof, f).value *= 1e-300;  // past the loader's bounds on purpose
  const auto r = simulate(prof, attention(1, 2, 1024), "attn_fa3", kFa3Tile);
  EXPECT_TRUE(std::isfinite(r.total_us));
  EXPECT_GT(r.total_us, 1e290);
}

// Refused from the work classes alone, in well under a second, with the estimate: no
// per-SM list of 3e7 items is built first (whole simulation asked for; by default this
// grid is periodic and extrapolated, below).
TEST(SimTermination, HugeGridIsRefusedUpFrontWithTheEventEstimate) {
  model::Problem p;
  p.kind = model::ProblemKind::kGemm;
  p.m = p.n = p.k = int64_t{1} << 20;
  const auto prof = profiles::builtin_profile("h100");
  const auto pr = model::predict(prof, p, "gemm_sm90_ws", model::parse_tile(kGemmTile), model::default_constants());
  auto o = sim::default_options(prof, model::default_constants());
  o.extrapolate = false;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)sim::simulate(pr.desc, o);
    FAIL() << "expected a refusal";
  } catch (const sim::SimError& e) {
    EXPECT_TRUE(contains(e.what(), "op instances")) << e.what();
    EXPECT_TRUE(contains(e.what(), "events")) << e.what();
    EXPECT_TRUE(contains(e.what(), "max_op_instances")) << e.what();
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, kRefuseLimitMs);
}

// The same grid by default: 16384 iterations x 3.4e7 items are periodic, simulated on
// reduced grids and extrapolated, with the error bound in the output.
TEST(SimTermination, CliExtrapolatesHugeGemmWithItsErrorBound) {
  const auto r = cli({"simulate", "--gpu", "h100", "gemm", "--m", "1048576", "--n", "1048576", "--k", "1048576",
                      "--schedule", "gemm_sm90_ws", "--tile", kGemmTile});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "error bound")) << r.out;
  EXPECT_TRUE(contains(r.out, "extrapolated")) << r.out;
}

// Causal attention over 1M tokens in one head has no repeated iteration or wave: refused
// with the estimate and the reason (exit 1).
TEST(SimTermination, CliRefusesUnboundableGridWithExitOne) {
  const auto r = cli({"simulate", "--gpu", "h100", "attention", "--batch", "1", "--heads-q", "1", "--seq-q",
                      "1048576", "--head-dim", "128", "--causal", "--schedule", "attn_fa3", "--tile", kFa3TileCli});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.err, "op instances")) << r.err;
  EXPECT_TRUE(contains(r.err, "events")) << r.err;
  EXPECT_TRUE(contains(r.err, "cannot be extrapolated")) << r.err;
}

}  // namespace
}  // namespace tilesim::robust
