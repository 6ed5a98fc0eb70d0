// mla_decode's two layouts as kernels/attention/mla/ builds them: heads on M pads the query
// rows to wgmma M = 64 (16 heads cost the tensor time of 64), KV on M puts block_q query
// rows on N and pays a cross-warp column softmax and P^T stores in SMEM instead. Work per
// iteration computed on paper and asserted exactly.
#include <gtest/gtest.h>

#include <string>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;
using test::use_work;

Problem mla(int batch, int heads, int q, int seq) {
  return parse_problem(R"({"kind":"mla","batch":)" + std::to_string(batch) + R"(,"heads_q":)" + std::to_string(heads) +
                       R"(,"q_per_seq":)" + std::to_string(q) + R"(,"seq_kv":)" + std::to_string(seq) +
                       R"(,"page_size":64})");
}

double loop_work(const Prediction& pr, Unit u) {
  double w = 0.0;
  for (const auto& op : pr.desc.loop) w += use_work(op, u);
  return w;
}

const char* kHeadsOnM = "block_n=64,splits=1,stages=2,kv_on_m=0";
const char* kKvOnM = "block_n=64,splits=1,stages=2,kv_on_m=1";

TEST(MlaLayouts, HeadsOnMPaysFor64RowsWhateverTheHeads) {
  const Profile h100 = profiles::resolve_profile("h100");
  const Prediction h16 = predict(h100, mla(16, 16, 1, 8192), "mla_decode", parse_tile(kHeadsOnM));
  const Prediction h64 = predict(h100, mla(16, 64, 1, 8192), "mla_decode", parse_tile(kHeadsOnM));
  // QK 2*64*64*576 = 4,718,592 + PV 2*64*512*64 = 4,194,304 FLOP per page, for 16 heads too.
  EXPECT_DOUBLE_EQ(loop_work(h16, Unit::kTensor), 8912896.0);
  EXPECT_DOUBLE_EQ(loop_work(h64, Unit::kTensor), loop_work(h16, Unit::kTensor));
  // The softmax exponentiates the padding rows as well: same MUFU work.
  EXPECT_DOUBLE_EQ(loop_work(h64, Unit::kMufu), loop_work(h16, Unit::kMufu));
  // 128 heads: two 64-row blocks per sequence, each reading every page (L2 twice, HBM once).
  const Prediction h128 = predict(h100, mla(16, 128, 1, 8192), "mla_decode", parse_tile(kHeadsOnM));
  EXPECT_EQ(h128.work_items, 2 * h64.work_items);
  EXPECT_NEAR(h128.bytes_l2 / h64.bytes_l2, 2.0, 0.01);
}

TEST(MlaLayouts, KvOnMPutsOnlyTheRealRowsOnN) {
  const Profile h100 = profiles::resolve_profile("h100");
  // 16 heads: block_q 16 (the runner's pick): 2*64*16*576 + 2*512*16*64 = 2,228,224 FLOP.
  const Prediction k16 = predict(h100, mla(16, 16, 1, 8192), "mla_decode", parse_tile(kKvOnM));
  EXPECT_DOUBLE_EQ(loop_work(k16, Unit::kTensor), 2228224.0);
  // 128 heads: two CTAs of block_q 64, each as much tensor work as heads on M.
  const Prediction k128 = predict(h100, mla(16, 128, 1, 8192), "mla_decode", parse_tile(kKvOnM));
  const Prediction m128 = predict(h100, mla(16, 128, 1, 8192), "mla_decode", parse_tile(kHeadsOnM));
  EXPECT_DOUBLE_EQ(loop_work(k128, Unit::kTensor), loop_work(m128, Unit::kTensor));
  EXPECT_EQ(k128.work_items, m128.work_items);
  // An explicit block_q: 32 rows on N for 16 heads doubles the tensor work.
  const Prediction k16q32 = predict(h100, mla(16, 16, 1, 8192), "mla_decode",
                                    parse_tile(std::string(kKvOnM) + ",block_q=32"));
  EXPECT_DOUBLE_EQ(loop_work(k16q32, Unit::kTensor), 2.0 * 2228224.0);
}

TEST(MlaLayouts, KvOnMPaysTheColumnSoftmaxAndPTransposeInSmem) {
  const Profile h100 = profiles::resolve_profile("h100");
  const Problem prob = mla(16, 64, 1, 8192);
  const Prediction m = predict(h100, prob, "mla_decode", parse_tile(kHeadsOnM));
  const Prediction k = predict(h100, prob, "mla_decode", parse_tile(kKvOnM));
  // Heads on M: a row lives in a quad (4 threads); KV on M: a column in 8 lanes x 4 warps,
  // and every one of them computes the column's rescale factor and reduces: (32 - 4)
  // threads x 64 columns more of 1 ex2 and 6 ALU ops. The 64 x 64 exponentials are the same.
  const double extra = (32.0 - 4.0) * 64.0;
  EXPECT_DOUBLE_EQ(loop_work(k, Unit::kMufu) - loop_work(m, Unit::kMufu), extra * 1.0);
  EXPECT_DOUBLE_EQ(use_work(op_named(k.desc.loop, "softmax"), Unit::kAlu) -
                       use_work(op_named(m.desc.loop, "softmax"), Unit::kAlu),
                   extra * 6.0);
  // SMEM in the softmax: heads on M writes P (64x64 bf16 = 8192 B); KV on M writes P^T as
  // single bf16 stores (x2: 16,384 B) plus the column max exchange and rescale factors
  // ((2*4 + 2) x 4 B x 64 columns = 2560 B).
  EXPECT_DOUBLE_EQ(use_work(op_named(m.desc.loop, "softmax"), Unit::kSmem), 8192.0);
  EXPECT_DOUBLE_EQ(use_work(op_named(k.desc.loop, "softmax"), Unit::kSmem), 16384.0 + 2560.0);
  // PV: heads on M reads V (64x512 bf16 = 65,536 B) + P once (8192 B); KV on M reads V^T once
  // and P^T once per m64 tile of V^T (8 x 8192 B).
  EXPECT_DOUBLE_EQ(use_work(op_named(m.desc.loop, "pv"), Unit::kSmem), 65536.0 + 8192.0);
  EXPECT_DOUBLE_EQ(use_work(op_named(k.desc.loop, "pv"), Unit::kSmem), 65536.0 + 8.0 * 8192.0);
}

TEST(MlaLayouts, KvOnMWinsWhereTensorCoresBindOnly) {
  // ETAP's case: H20 (a sixth of H100's tensor rate), 16 heads, batch 16, 64K tokens.
  const Problem etap = mla(16, 16, 1, 65536);
  const std::string tile = "block_n=64,splits=8,stages=2";
  const Profile h20 = profiles::resolve_profile("h20");
  const Prediction m20 = predict(h20, etap, "mla_decode", parse_tile(tile + ",kv_on_m=0"));
  const Prediction k20 = predict(h20, etap, "mla_decode", parse_tile(tile + ",kv_on_m=1"));
  EXPECT_GT(m20.time_us / k20.time_us, 1.5);  // 4x less tensor work where the tensor pipe binds
  // H100 at the same shape: both stream the latent cache at HBM speed.
  const Profile h100 = profiles::resolve_profile("h100");
  const Prediction m100 = predict(h100, etap, "mla_decode", parse_tile(tile + ",kv_on_m=0"));
  const Prediction k100 = predict(h100, etap, "mla_decode", parse_tile(tile + ",kv_on_m=1"));
  EXPECT_NEAR(m100.time_us / k100.time_us, 1.0, 0.1);
  EXPECT_EQ(m100.bottleneck, "hbm");
}

TEST(MlaLayouts, HeadsOnMAt128HeadsIsBoundByTheFirstWarpgroupsChain) {
  // The first consumer warpgroup runs S, the softmax with P's hand-off, and its PV half in
  // turn (SASS: 536 instructions per thread around S's 36 wgmma issues; 472 from the
  // softmax to the PV issue, 34 of them ex2 at 32 / (16 / 4) = 8 cycles per warp).
  const Profile h100 = profiles::resolve_profile("h100");
  const double cpi = default_constants().mla_cycles_per_instruction;
  const std::string tile = "block_n=64,stages=2,kv_on_m=0";
  const Prediction h128 = predict(h100, mla(16, 128, 1, 65536), "mla_decode", parse_tile(tile + ",splits=4"));
  EXPECT_NEAR(op_named(h128.desc.loop, "qk").chain_cycles, 536.0 * cpi, 1e-9);
  EXPECT_NEAR(op_named(h128.desc.loop, "softmax").chain_cycles, (472.0 - 34.0) * cpi + 34.0 * 8.0, 1e-9);
  // The loop S -> softmax -> PV -> next S binds: its weights (tensor work, the chain, the
  // three results' latencies) exceed the busiest unit's share of an iteration.
  EXPECT_EQ(h128.bound_kind, "dependency");
  EXPECT_GT(h128.dependency_bound_cycles, h128.resource_bound_cycles);
  // Measured (H100, 2026-11-27): 496 us at 128 heads vs 425 us at 64 heads (HBM-bound, the
  // same bytes). The model must see 128 heads slower than the HBM stream, 64 heads not.
  const Prediction h64 = predict(h100, mla(16, 64, 1, 65536), "mla_decode", parse_tile(tile + ",splits=8"));
  EXPECT_EQ(h64.bottleneck, "hbm");
  EXPECT_GT(h128.time_us, 1.1 * h64.time_us);
  // KV on M, block_q 16: its column softmax (166 instructions, 12 ex2) and its PV part's
  // issue stream (203) from the SASS, at KV on M's own per-instruction cost; block_q 48 (not
  // compiled) lies halfway between 32 and 64.
  const double kv_cpi = default_constants().mla_kv_on_m_cycles_per_instruction;
  const Prediction k16 = predict(h100, mla(16, 16, 1, 65536), "mla_decode", parse_tile("block_n=64,stages=2,kv_on_m=1,splits=8"));
  EXPECT_NEAR(op_named(k16.desc.loop, "softmax").chain_cycles, (166.0 - 12.0) * kv_cpi + 12.0 * 8.0, 1e-9);
  EXPECT_NEAR(op_named(k16.desc.loop, "pv").chain_cycles, 203.0 * kv_cpi, 1e-9);
  const Prediction k48 = predict(h100, mla(16, 48, 1, 65536), "mla_decode", parse_tile("block_n=64,stages=2,kv_on_m=1,splits=8,block_q=48"));
  EXPECT_NEAR(op_named(k48.desc.loop, "qk").chain_cycles, (428.0 + 537.0) / 2.0 * kv_cpi, 1e-9);
}

TEST(MlaLayouts, TheFirstWarpgroupsSassStreamTakesIssueSlots) {
  // Heads on M: the first warpgroup's 536 S-issue and 472 softmax-to-PV instructions per
  // thread (SASS) all take issue slots; the softmax op also carries the second warpgroup's
  // half of O's rescale (64 rows x 256 columns, one FMUL each).
  const Profile h100 = profiles::resolve_profile("h100");
  const Prediction m = predict(h100, mla(16, 64, 1, 65536), "mla_decode", parse_tile("block_n=64,stages=2,kv_on_m=0,splits=8"));
  EXPECT_DOUBLE_EQ(use_work(op_named(m.desc.loop, "qk"), Unit::kIssue), 536.0 * 128);
  EXPECT_NEAR(use_work(op_named(m.desc.loop, "softmax"), Unit::kIssue), 472.0 * 128 + 64.0 * 256, 1e-6);
  // KV on M, block_q 16: the S issue (426), the column softmax (166), and the PV part (203,
  // its O^T rescale included) in both warpgroups.
  const Prediction k = predict(h100, mla(16, 16, 1, 65536), "mla_decode", parse_tile("block_n=64,stages=2,kv_on_m=1,splits=8"));
  EXPECT_DOUBLE_EQ(use_work(op_named(k.desc.loop, "qk"), Unit::kIssue), 426.0 * 128);
  EXPECT_NEAR(use_work(op_named(k.desc.loop, "softmax"), Unit::kIssue) + use_work(op_named(k.desc.loop, "pv"), Unit::kIssue),
              166.0 * 128 + 203.0 * 256, 1e-6);
}

TEST(MlaLayouts, BlockQOutsideTheLayoutIsInfeasible) {
  const Profile h100 = profiles::resolve_profile("h100");
  const Problem prob = mla(4, 16, 1, 4096);
  EXPECT_THROW((void)predict(h100, prob, "mla_decode", parse_tile(std::string(kHeadsOnM) + ",block_q=32")), Infeasible);
  EXPECT_THROW((void)predict(h100, prob, "mla_decode", parse_tile(std::string(kKvOnM) + ",block_q=12")), std::exception);
}

}  // namespace
}  // namespace tilesim::model
