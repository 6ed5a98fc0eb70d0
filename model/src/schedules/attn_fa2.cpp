// attn_fa2: FlashAttention-2 forward. All warps do everything: Q in SMEM; per KV block
// cp.async K and V (K(i+1) is fetched while softmax(i) and PV(i) run, `stages` slots
// each), S = Q K^T with mma.sync, online softmax in registers, O += P V (P from
// registers, V via ldmatrix.trans). Every warp reads all of K and V from SMEM. Plain grid:
// blockIdx.x = q-block, then heads and batch.
#include "common.hpp"

namespace tilesim::model::detail {

void build_attn_fa2(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), warps = c.i("warps"), stages = c.i("stages");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  if (warps < 1 || warps > 16) throw Infeasible("shape", "warps must be 1..16");
  if (bm <= 0 || bm % (kMmaSyncM * warps) != 0) throw Infeasible("shape", "block_m/warps must be a multiple of 16 (mma.sync M)");
  if (bn < 16 || bn > 256 || bn % 16 != 0) throw Infeasible("shape", "block_n must be a multiple of 16 in 16..256");
  if (stages < 1 || stages > 4) throw Infeasible("shape", "stages must be 1..4");
  if (p.head_dim % 16 != 0 || p.head_dim_v % 16 != 0) throw Infeasible("head dim", "head dims must be multiples of 16 (mma.sync K)");
  const int r = bm / warps;  // rows per warp

  Builder b(c, d);
  if (c.detailed) d.summary = std::to_string(warps) + " warps x " + std::to_string(r) + " rows, mma.sync, softmax between the GEMMs, " +
              std::to_string(stages) + " K/V slot(s), plain grid";
  // Per thread: O accumulator r x dv and S r x bn in fp32 over the 32 lanes (P reuses S).
  const int w = b.role("warps", RoleKind::kConsumer, warps * kWarpThreads,
                       static_cast<int>(r * dv / kWarpThreads + r * bn / kWarpThreads + c.k.register_overhead_per_thread));
  d.cta.smem_bytes = bm * dq * e + stages * bn * (dq + dv) * e;
  d.grid.scheduler = Scheduler::kPlain;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  AttnGrid ag = attention_grid(p, bm, bn);
  d.grid.classes = interleave_heads(ag.classes, p.batch * p.heads_q, 32);
  const int64_t concurrent = std::min<int64_t>(ag.items, d.grid.resident_ctas());
  const AttnTraffic tr = attention_traffic(c, ag, bn, concurrent, 1.0);
  d.total_hbm_bytes = tr.total_hbm;
  d.total_l2_bytes = tr.total_l2;

  auto* P = &d.prologue;
  const int lq = b.load(P, "load_q", w, bm * dq * e, 1.0);
  (void)lq;

  auto* L = &d.loop;
  const double trate = tensor_rate(c, TensorPath::kMmaSync), srate = c.p.per_sm.smem.value;
  const int lk = b.load(L, "load_k", w, bn * dq * e, tr.kv_hbm_fraction);
  const int lv = b.load(L, "load_v", w, bn * dv * e, tr.kv_hbm_fraction);
  const int qk = b.op(L, "qk", w, c.p.latency.smem.value);
  b.use(L, qk, Unit::kTensor, 2.0 * bm * bn * dq, trate, [&] { return "2*" + num(bm) + "*" + num(bn) + "*" + num(dq) + " FLOP (mma.sync)"; });
  b.use(L, qk, Unit::kSmem, (bm * dq + warps * bn * dq) * e, srate,
        [&] { return "Q " + num(bm) + "x" + num(dq) + " + K " + num(bn) + "x" + num(dq) + " read by each of " + num(warps) + " warps"; });
  const int sm = b.op(L, "softmax", w, c.p.latency.mufu.value);
  add_softmax_uses(b, c, L, sm, bm, bn, 0.0);
  add_fma_pass(b, c, L, sm, bm * dv, 1.0, [&] { return "O rescale: " + num(bm) + "x" + num(dv) + " FMUL"; });
  const int pv = b.op(L, "pv", w, c.p.latency.smem.value);
  b.use(L, pv, Unit::kTensor, 2.0 * bm * bn * dv, trate, [&] { return "2*" + num(bm) + "*" + num(dv) + "*" + num(bn) + " FLOP (mma.sync)"; });
  b.use(L, pv, Unit::kSmem, warps * bn * dv * e, srate, [&] { return "V " + num(bn) + "x" + num(dv) + " read by each of " + num(warps) + " warps"; });
  b.dep(L, qk, lk, 0, DepKind::kDone, "k ready");
  b.dep(L, qk, pv, 1, DepKind::kAfter);  // same warps, in order
  b.dep(L, sm, qk, 0, DepKind::kDone);
  b.dep(L, sm, sm, 1, DepKind::kDone);   // running max
  b.dep(L, pv, sm, 0, DepKind::kDone);
  b.dep(L, pv, lv, 0, DepKind::kDone, "v ready");
  b.dep(L, lk, qk, stages, DepKind::kDone, "k slot free");
  b.dep(L, lv, pv, stages, DepKind::kDone, "v slot free");
  d.rings.push_back(Ring{"k", stages, {lk}, {qk}, bn * dq * e});
  d.rings.push_back(Ring{"v", stages, {lv}, {pv}, bn * dv * e});

  auto* E = &d.epilogue;
  const int ep = b.op(E, "epilogue", w, c.p.latency.hbm.value);
  const double eff = c.k.epilogue_efficiency;
  b.use(E, ep, Unit::kFma, bm * dv, c.p.per_sm.fp32_fma.value * eff, [&] { return "O / l: " + num(bm) + "x" + num(dv) + " FMUL"; });
  b.use(E, ep, Unit::kCvt, bm * dv * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff);
  b.use(E, ep, Unit::kAlu, ag.diag_blocks_per_item * static_cast<double>(bm) * bn * kMaskAluOps, c.p.per_sm.alu.value,
        [&] { return num(ag.diag_blocks_per_item) + " diagonal blocks x " + num(bm) + "x" + num(bn) + " x 2 causal-mask ops"; });
  b.store_uses(E, ep, bm * (dv * c.obytes() + 4.0), eff);
  d.useful_flops = useful_flops(p);
  b.desc_note([&] { return "L2 reuse: " + tr.model; });
  b.desc_note([] { return "causal masking work is charged once per work item in the epilogue (same total)"; });
}

}  // namespace tilesim::model::detail
