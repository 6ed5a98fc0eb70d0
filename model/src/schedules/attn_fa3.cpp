// attn_fa3: FlashAttention-3 forward on Hopper. A producer warp TMA-loads Q once and K, V
// per KV block into `stages`-slot rings; `consumers` warpgroups own block_m/consumers
// query rows each. Per iteration a warpgroup issues a GEMM block {S(i) = Q K(i)^T,
// O += P(i-1) V(i-1)} (wgmma; P from registers) and then the softmax of S(i).
//   pingpong=1: the GEMM blocks of the warpgroups are ordered by named barriers so one
//     warpgroup's softmax runs while the other's GEMMs use the tensor cores.
//   pingpong=0 (with >1 warpgroup): the warpgroups run in lockstep (both wait for the
//     same K tile), so their softmaxes coincide.
//   intra_overlap=1: a warpgroup issues {S(i), PV(i-1)} together and runs softmax(i)
//     while PV(i-1) is still on the tensor pipe (two S buffers in registers); O's rescale
//     waits for that PV. The next block is issued once the rescale and P(i) are done.
// exp_emu_fraction and rescale_threshold as in FA4 (see attn_fa4.cpp).
//
// Each consumer warp issues its own instruction stream per iteration (the kernel's
// main loop, counted in its SASS: scripts/sass_counts.py): the softmax's per-element and
// per-row instructions, O's rescale, and a fixed part (wgmma descriptors, barrier waits
// and arrives, loop control). The warp issues them one after another: its MUFU
// instructions each hold the sub-partition's MUFU lanes for 32 / (ex2 rate / 4) cycles,
// the others come `consumer_cycles_per_instruction` apart on average (a fitted constant:
// data/model/constants.json). That chain, not the units, is what binds FA3 on Hopper.
// The S(i) a warpgroup waits for shares the tensor pipe with the wgmmas in flight beside
// it: its own PV(i-1), issued in the same block, and `wgmma_inflight_share` of the
// partner warpgroup's block (a fitted constant): both lengthen the wait for S.
//
// Where the profile carries measured op costs for the tile (profile "ops": the consumer's
// own code run on on-chip data by microbench/bench_attn_ops.cu, in the kernel's two-
// warpgroup mode), the model uses them instead of the estimates above: the time from a
// warpgroup's turn until S is in its registers (fa3.qk_block), the whole main-loop
// iteration (fa3.iteration, timed without probes: the sum of the probed pieces carries
// the probes' own cycles and misses the turn and PV waits between them), what a growing
// row max adds to the softmax (fa3.softmax_rescaling - fa3.softmax) and O's rescale
// (fa3.rescale), and per work item the peeled first block, last PV and O's stores
// (fa3.item). The softmax op's chain is the measured iteration less the part of it the
// loop graph already charges (S's wait; without intra-overlap also the PV the softmax
// waits for), plus fa3_loop_barrier_cycles for what the real kernel adds (its K and V
// barriers). The unit uses stay as counted; only the chains and S's wait change.
#include <array>
#include <optional>

#include "common.hpp"

namespace tilesim::model::detail {

namespace {
// Per consumer thread and iteration, beyond the softmax and the rescale (SASS of the
// compiled main loops of fa3 d64/d128 x block_n 64..192, least squares over the five
// instances, within 2 instructions of each): a fixed part, per wgmma instruction
// (descriptor arithmetic in the uniform datapath, R2UR), per 64 head-dim columns (O
// fragment handling).
constexpr double kFa3FixedInstructions = 77.0;
constexpr double kFa3InstructionsPerWgmma = 9.25;
constexpr double kFa3InstructionsPer64HeadDim = 14.0;
constexpr double kWgmmaK = 16.0;  // K of one bf16 wgmma instruction

// The tile's measured op costs, when the profile has all five (see top).
struct Fa3MeasuredOps {
  double qk_block = 0.0, iteration = 0.0, softmax = 0.0, softmax_rescaling = 0.0, rescale = 0.0;
  std::optional<double> item;  // fa3.item, when the run measured it
  std::string source;
};
std::optional<Fa3MeasuredOps> measured_ops(const Ctx& c, int bm, int bn, int consumers, int pingpong, int intra,
                                           double exp_emu_fraction, double rescale_threshold) {
  const auto& p = c.prob;
  // Measured as the kernels compile them: 2 consumer warpgroups x 64 rows, bf16, d = dv.
  if (c.p.ops.empty() || consumers != 2 || bm != 2 * kWgmmaM || p.dtype != Dtype::kBf16 || p.head_dim != p.head_dim_v)
    return std::nullopt;
  const std::array<profiles::OpKeyValue, 6> key = {{{"head_dim", p.head_dim},
                                                     {"block_n", bn},
                                                     {"intra_overlap", intra},
                                                     {"pingpong", pingpong},
                                                     {"exp_emu_fraction", exp_emu_fraction},
                                                     {"rescale_threshold", rescale_threshold}}};
  const auto* qk = profiles::find_op(c.p.ops, "fa3.qk_block", key);
  if (!qk) return std::nullopt;  // most tiles tune builds: one scan
  const auto* sm = profiles::find_op(c.p.ops, "fa3.softmax", key);
  const auto* smr = profiles::find_op(c.p.ops, "fa3.softmax_rescaling", key);
  const auto* rs = profiles::find_op(c.p.ops, "fa3.rescale", key);
  const auto* it = profiles::find_op(c.p.ops, "fa3.iteration", key);
  if (!sm || !smr || !rs || !it) return std::nullopt;
  const auto* item = profiles::find_op(c.p.ops, "fa3.item", key);
  return Fa3MeasuredOps{qk->cycles, it->cycles, sm->cycles, smr->cycles, rs->cycles,
                        item ? std::optional<double>(item->cycles) : std::nullopt, sm->source};
}
}  // namespace

void build_attn_fa3(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), stages = c.i("stages"), C = c.i("consumers");
  const int pingpong = c.i("pingpong"), intra = c.i("intra_overlap");
  const double f = c.d("exp_emu_fraction"), thr = c.d("rescale_threshold");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  const int r = bm / C;
  const std::optional<Fa3MeasuredOps> meas = measured_ops(c, bm, bn, C, pingpong, intra, f, thr);

  Builder b(c, d);
  if (c.detailed) d.summary = "producer + " + std::to_string(C) + " wgmma consumer WG(s) x " + std::to_string(r) + " rows" +
              (pingpong ? ", ping-pong" : ", lockstep") + (intra ? ", intra-WG overlap" : "") + ", " +
              std::to_string(stages) + "-stage K and V rings";
  const int prod = b.role("producer", RoleKind::kProducer, kWarpgroupThreads, kAttnProducerRegisters);
  // Per consumer thread: O (r x dv fp32) + S (r x bn fp32) + P (r x bn bf16, packed two
  // per register; with intra-warpgroup overlap P(i-1) lives while S(i) is computed, as in
  // the kernel's p_frag beside s_acc).
  const int regs = static_cast<int>(r * dv / kWarpgroupThreads + r * bn / kWarpgroupThreads +
                                    r * bn / (2.0 * kWarpgroupThreads) + c.k.register_overhead_per_thread);
  std::vector<int> wg;
  for (int k = 0; k < C; ++k) wg.push_back(b.role("consumer" + std::to_string(k), RoleKind::kConsumer, kWarpgroupThreads, regs));
  d.cta.smem_bytes = bm * dq * e + stages * bn * (dq + dv) * e;
  // The kernel's grid: plain (one CTA per Q block, dispatched by the hardware in launch
  // order) or persistent (one CTA per slot striding over the Q blocks: CTA c takes blocks
  // c, c + grid, ... of the launch order, which runs over each head's Q blocks, longest
  // first when causal: fa3_kernel.cuh's decode_tile). Equal blocks make the stride a plain
  // persistent loop; causal blocks of unequal length load the CTAs unevenly.
  const bool persistent = c.i("persistent") != 0;
  d.grid.scheduler = !persistent ? Scheduler::kPlain : (p.causal ? Scheduler::kStaticStride : Scheduler::kPersistent);
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  AttnGrid ag = attention_grid(p, bm, bn);
  if (d.grid.scheduler == Scheduler::kStaticStride)
    d.grid.launch_pattern.assign(ag.class_of_m_block.rbegin(), ag.class_of_m_block.rend());
  // O is rescaled when a row's max grows (by more than the threshold): with threshold 0,
  // the share of a warp's iterations on exchangeable scores over the mean row length;
  // with a threshold, an assumed share (data-dependent).
  const double blocks_per_item = ag.items > 0 ? ag.kv_block_iters_total / static_cast<double>(ag.items) : 0.0;
  const double rescale =
      thr > 0.0 ? c.k.rescale_fraction_thresholded : running_max_growth_share(blocks_per_item, kWgmmaRowsPerWarp);
  d.grid.classes = ag.classes;
  const int64_t concurrent = std::min<int64_t>(ag.items, d.grid.resident_ctas());
  const AttnTraffic tr = attention_traffic(c, ag, bn, concurrent, 1.0);
  d.total_hbm_bytes = tr.total_hbm;
  d.total_l2_bytes = tr.total_l2;

  auto* P = &d.prologue;
  b.load(P, "load_q", prod, bm * dq * e, 1.0);

  auto* L = &d.loop;
  const double trate = tensor_rate(c, TensorPath::kWgmma), srate = c.p.per_sm.smem.value;
  const int lk = b.load(L, "load_k", prod, bn * dq * e, tr.kv_hbm_fraction);
  const int lv = b.load(L, "load_v", prod, bn * dv * e, tr.kv_hbm_fraction);
  std::vector<int> qk(C), pv(C), sm(C), rs(C);
  // Tensor cycles of one warpgroup's block of wgmmas: S (and, with intra-overlap, the PV
  // issued with it) and the wait for S behind the wgmmas in flight beside it (see top).
  const double q_cycles = 2.0 * r * bn * dq / trate, pv_cycles = 2.0 * r * dv * bn / trate;
  const double block_cycles = q_cycles + (intra ? pv_cycles : 0.0);
  const double s_wait = (block_cycles - q_cycles) + (C > 1 ? c.k.wgmma_inflight_share * block_cycles : 0.0);
  // Measured: the op's tensor (or SMEM) occupancy plus its latency is the measured time
  // from the turn to S in registers.
  const double qk_occupancy = std::max(q_cycles, (r + bn) * dq * e / srate);
  const double qk_latency =
      meas ? std::max(0.0, meas->qk_block - qk_occupancy) : c.p.latency.tensor_mma.value + s_wait;
  auto make_qk = [&](int k) {
    qk[k] = b.op(L, "qk.wg" + std::to_string(k), wg[k], qk_latency);
    if (meas) b.note(L, qk[k], [&] { return "latency: measured fa3.qk_block " + num(meas->qk_block) + " cycles less the op's occupancy"; });
    b.use(L, qk[k], Unit::kTensor, 2.0 * r * bn * dq, trate, [&] { return "2*" + num(r) + "*" + num(bn) + "*" + num(dq) + " FLOP (wgmma, S = Q K^T)"; });
    b.use(L, qk[k], Unit::kSmem, (r + bn) * dq * e, srate, [&] { return "Q " + num(r) + "x" + num(dq) + " + K " + num(bn) + "x" + num(dq) + " from SMEM"; });
  };
  auto make_pv = [&](int k) {
    pv[k] = b.op(L, "pv.wg" + std::to_string(k), wg[k], c.p.latency.tensor_mma.value);
    b.use(L, pv[k], Unit::kTensor, 2.0 * r * dv * bn, trate, [&] { return "2*" + num(r) + "*" + num(dv) + "*" + num(bn) + " FLOP (wgmma, O += P V of the previous block)"; });
    b.use(L, pv[k], Unit::kSmem, bn * dv * e, srate, [&] { return "V " + num(bn) + "x" + num(dv) + " from SMEM (P from registers)"; });
  };
  // Per-thread instructions of one consumer warp per iteration (see the counts above).
  const double wgmmas = dq / kWgmmaK + bn / kWgmmaK;
  const double fixed_per_thread =
      kFa3FixedInstructions + kFa3InstructionsPerWgmma * wgmmas + kFa3InstructionsPer64HeadDim * dq / 64.0;
  const double cpi = c.k.consumer_cycles_per_instruction;
  auto make_sm = [&](int k) {
    sm[k] = b.op(L, "softmax.wg" + std::to_string(k), wg[k], c.p.latency.mufu.value);
    const SoftmaxWork w = add_softmax_uses(b, c, L, sm[k], r, bn, f, kThreadsPerRowQuad);
    const double per_thread = w.instructions() / kWarpgroupThreads, mufu_per_thread = w.mufu / kWarpgroupThreads;
    b.use(L, sm[k], Unit::kIssue, fixed_per_thread * kWarpgroupThreads, kIssueThreadOpsPerClkPerSm,
          [&] { return "loop overhead: " + num(fixed_per_thread) + " instructions per thread (wgmma issue, barriers)"; });
    Op& o = (*L)[sm[k]];
    if (meas) {
      // What the loop graph charges of the measured iteration before the softmax starts:
      // the turn-to-S time (qk's occupancy + latency) and, without intra-overlap, the PV
      // issued behind S (the softmax waits for the whole block).
      const double graph_wait =
          intra ? meas->qk_block : std::max(meas->qk_block, qk_occupancy + pv_cycles + c.p.latency.tensor_mma.value);
      const double growth = meas->softmax_rescaling - meas->softmax;
      o.chain_cycles = std::max(0.0, meas->iteration - graph_wait - c.k.iteration_overhead_cycles + rescale * growth +
                                         c.k.fa3_loop_barrier_cycles);
      if (c.detailed)
        o.chain_what = "measured: fa3.iteration " + num(meas->iteration) + " less the graph's wait for S" +
                       (intra ? "" : " and PV") + " " + num(graph_wait) + " and iteration_overhead_cycles " +
                       num(c.k.iteration_overhead_cycles) + ", + (fa3.softmax_rescaling - fa3.softmax) " + num(growth) +
                       " x " + num(rescale) + " (share of iterations that rescale) + fa3_loop_barrier_cycles " +
                       num(c.k.fa3_loop_barrier_cycles) + " cycles";
      return;
    }
    const double other = per_thread - mufu_per_thread + fixed_per_thread, mufu_cycles = mufu_warp_instruction_cycles(c);
    o.chain_cycles = other * cpi + mufu_per_thread * mufu_cycles;
    if (c.detailed)
      o.chain_what = num(other) + " instructions per thread (" + num(per_thread - mufu_per_thread) + " softmax + " +
                     num(fixed_per_thread) + " loop) x " + num(cpi) + " cycles + " + num(mufu_per_thread) + " MUFU x " +
                     num(mufu_cycles) + " cycles";
  };
  auto make_rs = [&](int k) {
    rs[k] = b.op(L, "rescale.wg" + std::to_string(k), wg[k], c.p.latency.fma.value);
    const double fmul = r * dv * rescale;
    add_fma_pass(b, c, L, rs[k], fmul, 1.0,
          [&] { return num(r) + "x" + num(dv) + " FMUL x " + num(rescale) + " (share of iterations that rescale)"; });
    b.use(L, rs[k], Unit::kAlu, thr > 0.0 ? r : 0.0, c.p.per_sm.alu.value, [&] { return "threshold test per row"; });
    Op& o = (*L)[rs[k]];
    if (meas) {
      o.chain_cycles = rescale * meas->rescale;
      if (c.detailed) o.chain_what = "measured: fa3.rescale " + num(meas->rescale) + " cycles x " + num(rescale) + " (share of iterations that rescale)";
      return;
    }
    o.chain_cycles = fmul / kWarpgroupThreads * cpi;
    if (c.detailed) o.chain_what = num(fmul / kWarpgroupThreads) + " FMUL per thread x " + num(cpi) + " cycles per instruction";
  };
  if (pingpong) {
    for (int k = 0; k < C; ++k) {
      make_qk(k);
      make_pv(k);
      make_sm(k);
      make_rs(k);
    }
  } else {
    for (int k = 0; k < C; ++k) make_qk(k);
    for (int k = 0; k < C; ++k) make_pv(k);
    for (int k = 0; k < C; ++k) make_sm(k);
    for (int k = 0; k < C; ++k) make_rs(k);
  }
  for (int k = 0; k < C; ++k) {
    b.dep(L, qk[k], lk, 0, DepKind::kDone, "k_full");
    b.dep(L, pv[k], lv, 1, DepKind::kDone, "v_full");
    b.dep(L, pv[k], qk[k], 0, DepKind::kAfter);      // same warpgroup, issued after S(i)
    b.dep(L, pv[k], sm[k], 1, DepKind::kDone);       // needs P(i-1)
    b.dep(L, pv[k], rs[k], 1, DepKind::kDone);       // needs O rescaled for block i-1
    b.dep(L, sm[k], qk[k], 0, DepKind::kDone);       // needs S(i)
    b.dep(L, sm[k], sm[k], 1, DepKind::kDone);       // running max
    if (!intra) b.dep(L, sm[k], pv[k], 0, DepKind::kDone);  // wgmma.wait of the whole block
    b.dep(L, rs[k], sm[k], 0, DepKind::kDone);
    b.dep(L, rs[k], pv[k], 0, DepKind::kDone);
    b.dep(L, qk[k], rs[k], 1, DepKind::kDone);       // next block once rescale(i-1) and P(i-1) are done
    if (C > 1 && pingpong) {
      if (k > 0) b.dep(L, qk[k], pv[k - 1], 0, DepKind::kAfter, "pingpong");
      else b.dep(L, qk[0], pv[C - 1], 1, DepKind::kAfter, "pingpong");
    }
    if (C > 1 && !pingpong) {
      for (int j = 0; j < C; ++j)
        if (j != k) b.dep(L, sm[k], qk[j], 0, DepKind::kDone);  // lockstep: softmaxes coincide
      // The warpgroups issue together; the tensor pipe runs S_0..S_{C-1}, then PV_0..PV_{C-1}.
      if (k > 0) {
        b.dep(L, qk[k], qk[k - 1], 0, DepKind::kAfter);
        b.dep(L, pv[k], pv[k - 1], 0, DepKind::kAfter);
      } else {
        b.dep(L, pv[0], qk[C - 1], 0, DepKind::kAfter);
        b.dep(L, qk[0], pv[C - 1], 1, DepKind::kAfter);
      }
    }
  }
  for (int k = 0; k < C; ++k) {
    b.dep(L, lk, qk[k], stages, DepKind::kDone, "k_empty");
    b.dep(L, lv, pv[k], stages - 1, DepKind::kDone, "v_empty");  // pv(i+1) consumes V(i)
  }
  d.rings.push_back(Ring{"k", stages, {lk}, qk, bn * dq * e});
  d.rings.push_back(Ring{"v", stages, {lv}, pv, bn * dv * e});

  auto* E = &d.epilogue;
  const double eff = c.k.epilogue_efficiency;
  // No store latency: O leaves by register-to-global stores that no one waits for (a
  // persistent CTA starts its next item, a plain CTA's slot frees once its warps exit; only
  // the kernel's end waits for them to land). The measured per-item cost that shows it:
  // tests/model/test_fa3_item_cost.cpp.
  for (int k = 0; k < C; ++k) {
    const int ep = b.op(E, "epilogue.wg" + std::to_string(k), wg[k], 0.0);
    b.use(E, ep, Unit::kFma, r * dv, c.p.per_sm.fp32_fma.value * eff);
    b.use(E, ep, Unit::kCvt, r * dv * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff);
    b.use(E, ep, Unit::kSmem, r * dv * c.obytes(), srate * eff);
    b.use(E, ep, Unit::kAlu, ag.diag_blocks_per_item * static_cast<double>(r) * bn * kMaskAluOps, c.p.per_sm.alu.value);
    b.store_uses(E, ep, r * (dv * c.obytes() + 4.0), eff);
    // The consumer's per-item stream outside the steady loop: the peeled first block (S,
    // softmax, P) and last PV, the final normalisation and O's register-to-global stores,
    // one warp instruction after another (a fitted constant: the long training shapes
    // hide it, the short ones show it).
    Op& o = (*E)[ep];
    if (meas && meas->item) {
      o.chain_cycles = *meas->item;
      if (c.detailed) o.chain_what = "measured: fa3.item (peeled first block, last PV, normalisation and O stores)";
    } else {
      o.chain_cycles = c.k.fa3_item_chain_cycles;
      if (c.detailed) o.chain_what = "peeled first/last block, normalisation and O stores (fa3_item_chain_cycles)";
    }
  }
  d.prologue_overlaps_previous = true;  // the producer loads the next tile's Q and K during the epilogue
  d.useful_flops = useful_flops(p);
  b.desc_note([&] { return "L2 reuse: " + tr.model; });
  b.desc_note([&] {
    if (!meas)
      return std::string("consumer op costs: instruction-stream estimate (the profile has no measured ops for this tile)");
    return "consumer op costs: measured on this chip (profile ops fa3.qk_block, fa3.softmax, fa3.softmax_rescaling, "
           "fa3.rescale" + std::string(meas->item ? ", fa3.item" : "; per item: fa3_item_chain_cycles") +
           "; source " + meas->source + ")";
  });
  b.desc_note([] { return "causal masking work is charged once per work item in the epilogue (same total)"; });
  if (p.dtype == Dtype::kFp8)
    b.desc_note([] { return "fp8: the in-kernel V transpose FA3 needs is not modelled"; });
}

ScheduleSpec spec_attn_fa3() {
  ScheduleSpec s;
  s.name = "attn_fa3";
  s.summary = "FlashAttention-3: TMA producer, wgmma consumer warpgroups, ping-pong, intra-warpgroup overlap";
  s.kind = ProblemKind::kAttention;
  s.params = {
      {"block_m", ParamType::kInt, 64, 384, 64, "wgmma M = 64 per warpgroup", "query rows per CTA (block_m/consumers per consumer warpgroup)", false, 0, {64, 128, 192}},
      {"block_n", ParamType::kInt, 16, kWgmmaMaxN, 16, "wgmma N of QK^T", "KV rows per iteration", false, 0, {64, 96, 128, 176, 192}},
      {"stages", ParamType::kInt, 2, 8, 0, "", "K and V ring slots each", false, 0, {2}},
      {"consumers", ParamType::kInt, 1, 3, 0, "", "consumer warpgroups", false, 0, {1, 2, 3}},
      {"pingpong", ParamType::kFlag, 0, 1, 0, "", "warpgroups alternate GEMMs and softmax", false, 0, {0, 1}},
      {"intra_overlap", ParamType::kFlag, 0, 1, 0, "", "softmax overlaps the next QK^T within a warpgroup", false, 0, {0, 1}},
      {"exp_emu_fraction", ParamType::kReal, 0, 1, 0, "", "share of exp2 done by a polynomial on the FMA pipe", true, 0, {0, 0.5}},
      {"rescale_threshold", ParamType::kReal, 0, 64, 0, "log2 of the max growth", "0 = rescale O whenever a row max grows; t > 0 = only when it grows by > t (log2)", true, 0, {0}},
      {"persistent", ParamType::kFlag, 0, 1, 0, "", "0 = one CTA per Q block (hardware dispatch); 1 = one CTA per SM slot looping over Q blocks", true, 0, {0}}};
  s.constraints = {
      {"shape", "block_m / consumers is 64 or 128", "wgmma M = 64 rows; a warpgroup keeps at most two row blocks in registers",
       [](const TileView& v) {
         return v.i("block_m") % (kWgmmaM * v.i("consumers")) == 0 && v.i("block_m") / v.i("consumers") <= 2 * kWgmmaM;
       }},
      {"shape", "pingpong needs >= 2 consumer warpgroups", "ping-pong alternates two warpgroups",
       [](const TileView& v) { return v.i("pingpong") == 0 || v.i("consumers") >= 2; }},
      {"head dim", "head_dim_v <= 256 and head_dim a multiple of 16", "wgmma N of PV <= 256; K of QK^T in steps of 16",
       [](const TileView& v) { return v.prob.head_dim_v <= kWgmmaMaxN && v.prob.head_dim % 16 == 0; }}};
  s.features = {{Feature::kWgmma, "PTX wgmma.mma_async is sm_90a-only; use the tcgen05 schedules there"},
                {Feature::kTma, "the producer loads Q, K and V with TMA"}};
  // kernels/attention/fwd/fa3_kernel.cuh and softmax.cuh (Fa3Config, static_asserts).
  s.kernel_rules = {
      {"shape", "block_m == 128 and consumers == 2", "Fa3Config fixes 2 consumer warpgroups x 64 rows",
       [](const TileView& v) { return v.i("block_m") == 128 && v.i("consumers") == 2; }},
      {"shape", "exp_emu_fraction is a multiple of 1/8", "the emulated exp2 share is taken in eighths (static_assert)",
       [](const TileView& v) { return std::floor(v.d("exp_emu_fraction") * 8.0) == v.d("exp_emu_fraction") * 8.0; }},
      {"shape", "rescale_threshold is an integer", "a template parameter (log2 of the growth)",
       [](const TileView& v) { return std::floor(v.d("rescale_threshold")) == v.d("rescale_threshold"); }},
      kHeadDim64Or128Rule,
      kBf16Rule};
  s.build = build_attn_fa3;
  s.representative = attention_representative();
  return s;
}

}  // namespace tilesim::model::detail
