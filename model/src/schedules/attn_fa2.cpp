// attn_fa2: FlashAttention-2 forward. All warps do everything: Q in SMEM; per KV block
// cp.async K and V (K(i+1) is fetched while softmax(i) and PV(i) run, `stages` slots
// each), S = Q K^T with mma.sync, online softmax in registers, O += P V (P from
// registers, V via ldmatrix.trans). Every warp reads all of K and V from SMEM. Plain grid:
// blockIdx.x = q-block, then heads and batch.
// Each warp issues its whole iteration itself: besides the mma.sync of the two GEMMs
// (their tensor time is the qk/pv ops), the softmax, O's rescale and the loop's ldmatrix,
// address arithmetic and barriers, counted in the SASS of the compiled main loops
// (scripts/sass_counts.py). They form the softmax op's per-warp chain: MUFU instructions
// hold the sub-partition's MUFU lanes, the softmax's and the rescale's dependent instructions
// come `mma_sync_warp_cycles_per_instruction` apart (a fitted constant, data/model/constants.json),
// and the loop's independent ones (ldmatrix, addresses, cp.async) one issue cycle apart.
#include "common.hpp"

namespace tilesim::model::detail {

namespace {
// Per thread and iteration beyond the softmax and the rescale: ldmatrix, the shared-memory
// address arithmetic of the swizzled K/V tiles, cp.async issue and barriers (SASS of the
// fa2 main loops, d64/d128 x block_n 32..128: 465-540; their mean).
constexpr double kFa2LoopInstructions = 500.0;
// Registers per thread beyond O, S, P and the Q fragments: K/V ldmatrix fragments, smem
// addresses of the swizzled tiles, softmax row state, loop control. ptxas (cuobjdump
// -res-usage) of the compiled fa2 instances leaves 55-74 (mean 61) beyond those four.
constexpr double kFa2OtherRegisters = 61.0;
}  // namespace

void build_attn_fa2(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), warps = c.i("warps"), stages = c.i("stages");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  const int r = bm / warps;  // rows per warp

  Builder b(c, d);
  if (c.detailed) d.summary = std::to_string(warps) + " warps x " + std::to_string(r) + " rows, mma.sync, softmax between the GEMMs, " +
              std::to_string(stages) + " K/V slot(s), plain grid";
  // Per thread over the warp's 32 lanes: O (r x dv) and S (r x bn) in fp32, P (r x bn) and
  // the Q fragments (r x dq, kept in registers for the whole item) as bf16 pairs.
  const int w = b.role("warps", RoleKind::kConsumer, warps * kWarpThreads,
                       static_cast<int>(r * dv / kWarpThreads + r * bn / kWarpThreads + r * bn / (2.0 * kWarpThreads) +
                                        r * dq / (2.0 * kWarpThreads) + kFa2OtherRegisters));
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
  // mma.sync runs on the issuing warp's sub-partition and its fragments come through the SM's
  // shared memory: the warps of the other CTAs resident on the SM share both, so a GEMM phase
  // of this CTA waits behind theirs on the busier of the two (taken as fully overlapping: the
  // CTAs run the same loop).
  const int co_resident = d.grid.ctas_sharing_an_sm();
  auto shared_wait = [&](double flops, double smem_bytes) {
    return (co_resident - 1) * std::max(flops / trate, smem_bytes / srate);
  };
  const double qk_flops = 2.0 * bm * bn * dq, qk_smem = (bm * dq + warps * bn * dq) * e;
  const int qk = b.op(L, "qk", w, c.p.latency.smem.value + shared_wait(qk_flops, qk_smem));
  b.use(L, qk, Unit::kTensor, qk_flops, trate, [&] { return "2*" + num(bm) + "*" + num(bn) + "*" + num(dq) + " FLOP (mma.sync)"; });
  b.use(L, qk, Unit::kSmem, qk_smem, srate,
        [&] { return "Q " + num(bm) + "x" + num(dq) + " + K " + num(bn) + "x" + num(dq) + " read by each of " + num(warps) + " warps"; });
  const int sm = b.op(L, "softmax", w, c.p.latency.mufu.value);
  const double threads = static_cast<double>(warps) * kWarpThreads;
  const SoftmaxWork softmax = add_softmax_uses(b, c, L, sm, bm, bn, 0.0, kThreadsPerRowQuad);
  add_fma_pass(b, c, L, sm, bm * dv, 1.0, [&] { return "O rescale: " + num(bm) + "x" + num(dv) + " FMUL"; });
  b.use(L, sm, Unit::kIssue, kFa2LoopInstructions * threads, kIssueThreadOpsPerClkPerSm,
        [&] { return "loop overhead: " + num(kFa2LoopInstructions) + " instructions per thread (ldmatrix, addresses)"; });
  {
    const double mufu = softmax.mufu / threads;
    const double other = (softmax.instructions() - softmax.mufu + bm * dv) / threads;
    const double cpi = c.k.mma_sync_warp_cycles_per_instruction, mufu_cycles = mufu_warp_instruction_cycles(c);
    Op& o = (*L)[sm];
    // The loop's own instructions (ldmatrix of the K and V fragments, their swizzled
    // addresses, cp.async issue) do not wait on each other: they issue back to back.
    o.chain_cycles = other * cpi + mufu * mufu_cycles + kFa2LoopInstructions * kWarpIssueCyclesPerInstruction;
    if (c.detailed)
      o.chain_what = num(other) + " dependent softmax and rescale instructions per thread x " + num(cpi) +
                     " cycles + " + num(mufu) + " MUFU x " + num(mufu_cycles) + " cycles + " +
                     num(kFa2LoopInstructions) + " independent loop instructions x " +
                     num(kWarpIssueCyclesPerInstruction) + " cycle";
  }
  const double pv_flops = 2.0 * bm * bn * dv, pv_smem = warps * bn * dv * e;
  const int pv = b.op(L, "pv", w, c.p.latency.smem.value + shared_wait(pv_flops, pv_smem));
  b.use(L, pv, Unit::kTensor, pv_flops, trate, [&] { return "2*" + num(bm) + "*" + num(dv) + "*" + num(bn) + " FLOP (mma.sync)"; });
  b.use(L, pv, Unit::kSmem, pv_smem, srate, [&] { return "V " + num(bn) + "x" + num(dv) + " read by each of " + num(warps) + " warps"; });
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

ScheduleSpec spec_attn_fa2() {
  ScheduleSpec s;
  s.name = "attn_fa2";
  s.summary = "FlashAttention-2: mma.sync, no warp specialization, softmax between the GEMMs";
  s.kind = ProblemKind::kAttention;
  s.params = {{"block_m", ParamType::kInt, 16, 256, 16, "mma.sync M", "query rows per CTA", false, 0, {64, 128}},
              {"block_n", ParamType::kInt, 16, 256, 16, "MMA K of PV", "KV rows per iteration", false, 0, {32, 64, 128}},
              {"warps", ParamType::kInt, 1, 16, 0, "", "warps per CTA (block_m/warps rows each)", false, 0, {4, 8}},
              {"stages", ParamType::kInt, 1, 4, 0, "", "K/V buffers (1 = no prefetch, 2 = double buffer)", false, 0, {1, 2}}};
  s.constraints = {
      {"shape", "block_m / warps is a multiple of 16", "mma.sync M = 16 rows per warp fragment",
       [](const TileView& v) { return v.i("block_m") % (kMmaSyncM * v.i("warps")) == 0; }},
      {"head dim", "head_dim and head_dim_v are multiples of 16", "MMA K of QK^T and PV is 16 elements",
       [](const TileView& v) { return v.prob.head_dim % 16 == 0 && v.prob.head_dim_v % 16 == 0; }}};
  // kernels/attention/fwd/fa2_kernel.cuh (Fa2Config and its static_asserts).
  s.kernel_rules = {
      {"shape", "warps == block_m / 16", "one warp per 16 query rows (Fa2Config::warps)",
       [](const TileView& v) { return v.i("warps") * 16 == v.i("block_m"); }},
      {"shape", "stages >= 2", "K and V are double-buffered (static_assert)",
       [](const TileView& v) { return v.i("stages") >= 2; }},
      kHeadDim64Or128Rule,
      kBf16Rule};
  s.build = build_attn_fa2;
  s.representative = attention_representative();
  return s;
}

}  // namespace tilesim::model::detail
