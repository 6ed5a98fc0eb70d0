// One causal mask (top-left, tilesim/model/causal_mask.hpp) for the useful FLOPs and for
// the work the model times: with seq_q > seq_kv no tile may exceed the chip's peak.
#include <gtest/gtest.h>

#include "robust_util.hpp"
#include "tilesim/model/causal_mask.hpp"
#include "tilesim/model/model.hpp"

namespace tilesim::robust {
namespace {

model::Problem causal(int64_t seq_q, int64_t seq_kv) {
  model::Problem p;
  p.kind = model::ProblemKind::kAttention;
  p.batch = 16;
  p.heads_q = p.heads_kv = 32;
  p.seq_q = seq_q;
  p.seq_kv = seq_kv;
  p.head_dim = p.head_dim_v = 128;
  p.causal = true;
  return p;
}

TEST(CausalMask, VisibleAreaByHand) {
  // Equal lengths: half the square (the field's convention).
  EXPECT_DOUBLE_EQ(model::causal_visible_area(4096, 4096), 0.5 * 4096.0 * 4096.0);
  // Shorter queries: the triangle of seq_q rows.
  EXPECT_DOUBLE_EQ(model::causal_visible_area(1000, 4000), 0.5 * 1000.0 * 1000.0);
  // Longer queries: rows >= seq_kv see every key.
  EXPECT_DOUBLE_EQ(model::causal_visible_area(16384, 1024), 16384.0 * 1024.0 - 0.5 * 1024.0 * 1024.0);
  EXPECT_EQ(model::causal_keys_for_rows(128, 1024), 128);
  EXPECT_EQ(model::causal_keys_for_rows(4096, 1024), 1024);
}

TEST(CausalMask, UsefulFlopsUseTheVisibleArea) {
  const auto p = causal(16384, 1024);
  const double expect = 2.0 * 16 * 32 * (16384.0 * 1024.0 - 0.5 * 1024.0 * 1024.0) * 256.0;
  EXPECT_DOUBLE_EQ(model::useful_flops(p), expect);
  auto full = p;
  full.causal = false;
  EXPECT_LE(model::useful_flops(p), model::useful_flops(full));
}

// The model times the same mask: q-block r of 128 rows reads min(128 (r + 1), seq_kv) keys.
TEST(CausalMask, ModelTimesTopLeftMask) {
  const auto prof = profiles::builtin_profile("h100");
  const auto pr = model::predict(prof, causal(16384, 1024), "attn_fa3",
                                 model::parse_tile(kFa3TileCli),
                                 model::default_constants());
  double iters = 0.0;
  for (const auto& c : pr.desc.grid.classes) iters += static_cast<double>(c.items) * static_cast<double>(c.iterations);
  double expect = 0.0;
  for (int r = 0; r < 128; ++r) expect += std::min(r + 1, 8);
  EXPECT_DOUBLE_EQ(iters, expect * 16 * 32);
}

TEST(CausalMask, NoTileAbovePeakWhenQueriesOutnumberKeys) {
  for (const char* gpu : {"h100", "b200"}) {
    const auto prof = profiles::builtin_profile(gpu);
    const double peak_tflops = prof.per_sm.tensor_bf16.value * prof.sm_count.value * prof.clocks.max_boost_mhz.value * 1e6 / 1e12;
    for (const auto& r : model::tune(prof, causal(16384, 1024), "")) {
      EXPECT_LE(r.tflops, peak_tflops) << gpu << " " << r.schedule << " " << r.tile.to_string();
    }
  }
}

}  // namespace
}  // namespace tilesim::robust
