// attn_fa4: FlashAttention-4 forward on Blackwell, laid out as its kernel is
// (flash_attn/cute/flash_fwd_sm100.py, Dao-AILab/flash-attention, 2025-10 to 2026-08).
// Per CTA `q_tiles` Q tiles of block_m rows. A load warp TMA-loads K and V into one ring
// of `stages` slots (K, V alternate); one MMA warp issues tcgen05.mma: S_t = Q_t K^T into
// TMEM (SS), O_t += P_t V with P read from TMEM (TS). A softmax warpgroup per Q tile
// reads S from TMEM, computes exp2 on MUFU or (exp_emu_fraction of them) by a
// polynomial on the FMA pipe, writes P to TMEM over S. A correction warpgroup rescales
// O in TMEM when the row max grew (always when rescale_threshold = 0, else only
// rescale_fraction_thresholded of the iterations) and writes the output. cluster_m = 2:
// a 2-CTA pair shares each K/V tile (half per CTA).
//
// The MMA warp issues PV of the previous KV block before S of the next one, per Q tile:
// PV_0(i-1), S_0(i), PV_1(i-1), S_1(i). The loop below is rotated to that order: its
// pv.q<t> of iteration i is P_t(i-1) V(i-1) (the first iteration's is the last block's
// PV after the loop: the same count of MMAs).
//
// One CTA per SM: the kernel allocates the whole TMEM and, with setmaxnreg, the whole
// register file.
//
// Per-warp chains as on Hopper (attn_fa3.cpp): a softmax thread owns a whole row of S, so
// its warp issues bn elements' softmax per iteration one instruction after another, plus
// the tcgen05.ld of S and tcgen05.st of P and a fixed part; on a chip with packed fp32
// pairs and a three-input max (sm_100) the per-element instructions are FA4's packed ones.
// No Blackwell kernel is measured here: the cost per instruction is Hopper's (MUFU 32 /
// (ex2 rate / 4) cycles from the B200 profile, the others consumer_cycles_per_instruction
// fitted on the H100/H200 FA3 consumers), and --explain says so.
#include "common.hpp"
#include "mufu_sharing.hpp"

namespace tilesim::model::detail {

namespace {
// Rows per SM for tcgen05 at full rate (see gemm_sm100.cpp).
constexpr int kFa4FullRateRows = 128;
// tcgen05.ld/st .32x32b.x32: one instruction moves 32 TMEM columns (32-bit) of a thread's
// row (PTX ISA, tcgen05 data movement shapes).
constexpr double kTmemColumnsPerInstruction = 32.0;
// Per softmax thread and iteration beyond the softmax and the TMEM moves: mbarrier wait on
// S and arrive on P, tcgen05.wait::ld/st, the fence before the arrive and loop control.
// FA3's consumers spend 77 instructions on their fixed part (SASS, attn_fa3.cpp), about
// half of it on wgmma descriptors and fences the FA4 softmax warps do not issue: assumed 40.
constexpr double kFa4SoftmaxFixedInstructions = 40.0;
// FA4's register plan (setmaxnreg in the kernel): softmax warps 200, correction warps 64,
// the load, MMA and epilogue warps 48; 2 x 128 x 200 + 128 x 64 + 4 x 32 x 48 = 65536,
// the whole register file.
constexpr int kFa4SoftmaxRegisters = 200;
constexpr int kFa4CorrectionRegisters = 64;
constexpr int kFa4OtherRegisters = 48;
// Two more warps: the one that TMA-stores O and an empty one.
constexpr int kFa4EpilogueThreads = 2 * 32;
}  // namespace

void build_attn_fa4(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), stages = c.i("stages"), T = c.i("q_tiles");
  const int pair = c.i("cluster_m");
  const double f = c.d("exp_emu_fraction"), thr = c.d("rescale_threshold");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  const double rescale = thr > 0.0 ? c.k.rescale_fraction_thresholded : 1.0;

  Builder b(c, d);
  if (c.detailed) d.summary = std::to_string(T) + " Q tile(s) x " + std::to_string(bm) + " rows, tcgen05 into TMEM" +
              (pair == 2 ? " (2-CTA pair)" : "") + ", softmax + correction warpgroups, exp2 emulation " +
              num(100.0 * f) + "%, " + (thr > 0 ? "conditional rescale" : "rescale every block");
  const int overhead = static_cast<int>(c.k.register_overhead_per_thread);
  const int load = b.role("load", RoleKind::kProducer, kWarpThreads, kFa4OtherRegisters);
  const int mmar = b.role("mma", RoleKind::kMma, kWarpThreads, kFa4OtherRegisters);
  std::vector<int> smr;
  // A softmax thread owns one row of S: bn fp32 registers after tcgen05.ld.
  for (int t = 0; t < T; ++t)
    smr.push_back(b.role("softmax" + std::to_string(t), RoleKind::kSoftmax, kWarpgroupThreads,
                         std::max(kFa4SoftmaxRegisters, bn + overhead)));
  constexpr int kCorrectionChunkColumns = 32;  // O rescaled 32 TMEM columns at a time
  const int corr = b.role("correction", RoleKind::kCorrection, kWarpgroupThreads,
                          std::max(kFa4CorrectionRegisters, kCorrectionChunkColumns + overhead));
  b.role("epilogue", RoleKind::kEpilogue, kFa4EpilogueThreads, kFa4OtherRegisters);
  const double kv_rows = static_cast<double>(bn) / pair;  // K/V rows this CTA holds
  d.cta.smem_bytes = T * bm * dq * e + stages * kv_rows * std::max(dq, dv) * e;
  // S (P aliased) + O per Q tile; the kernel allocates all of TMEM whatever its tiles use.
  d.cta.tmem_columns = std::max(T * (bn + static_cast<int>(dv)), static_cast<int>(c.p.capacity.tmem_columns.value));
  d.grid.scheduler = p.causal ? Scheduler::kLongestFirst : Scheduler::kPersistent;
  d.grid.cluster_size = pair;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  AttnGrid ag = attention_grid(p, T * bm, bn);
  d.grid.classes = ag.classes;
  const int64_t concurrent = std::min<int64_t>(ag.items, d.grid.resident_ctas());
  const AttnTraffic tr = attention_traffic(c, ag, bn, concurrent, 1.0 / pair);
  d.total_hbm_bytes = tr.total_hbm;
  d.total_l2_bytes = tr.total_l2;

  auto* P = &d.prologue;
  b.load(P, "load_q", load, T * bm * dq * e, 1.0);

  auto* L = &d.loop;
  const double trate = tensor_rate(c, TensorPath::kTcgen05), srate = c.p.per_sm.smem.value;
  const int rows_exec = std::max(bm, kFa4FullRateRows);
  const int lk = b.load(L, "load_k", load, kv_rows * dq * e, tr.kv_hbm_fraction);
  std::vector<int> s(T), sm(T), cr(T), o(T);
  // The MMA warp's program order: PV_t of the previous block, then S_t of this one.
  for (int t = 0; t < T; ++t) {
    o[t] = b.op(L, "pv.q" + std::to_string(t), mmar, c.p.latency.tensor_mma.value);
    b.use(L, o[t], Unit::kTensor, 2.0 * rows_exec * dv * bn, trate, [&] {
      return "2*" + num(rows_exec) + "*" + num(dv) + "*" + num(bn) + " FLOP (tcgen05 TS, P(i-1) from TMEM)";
    });
    b.use(L, o[t], Unit::kSmem, kv_rows * dv * e, srate, [&] { return "V " + num(kv_rows) + "x" + num(dv) + " from SMEM"; });
    s[t] = b.op(L, "s.q" + std::to_string(t), mmar, c.p.latency.tensor_mma.value);
    b.use(L, s[t], Unit::kTensor, 2.0 * rows_exec * bn * dq, trate, [&] {
      return "2*" + num(rows_exec) + "*" + num(bn) + "*" + num(dq) + " FLOP (tcgen05 SS, S = Q K^T)";
    });
    b.use(L, s[t], Unit::kSmem, (bm + kv_rows) * dq * e, srate, [&] {
      return "Q " + num(bm) + "x" + num(dq) + " + K " + num(kv_rows) + "x" + num(dq) + " from SMEM" +
             (pair == 2 ? " (this CTA's half of K)" : "");
    });
  }
  const int lv = b.load(L, "load_v", load, kv_rows * dv * e, tr.kv_hbm_fraction);
  for (int t = 0; t < T; ++t) {
    sm[t] = b.op(L, "softmax.q" + std::to_string(t), smr[t], c.p.latency.mufu.value);
    const SoftmaxWork w = add_softmax_uses(b, c, L, sm[t], bm, bn, f, kThreadsPerRowTmem);
    const double threads = kWarpgroupThreads;
    const double cpi = c.k.consumer_cycles_per_instruction, mufu_cycles = mufu_warp_instruction_cycles(c);
    {
      // Per thread: its row of S in (fp32), P out (bf16 pairs), the fixed part.
      const double tmem = bn / kTmemColumnsPerInstruction + bn / 2.0 / kTmemColumnsPerInstruction;
      const double loop = tmem + kFa4SoftmaxFixedInstructions;
      b.use(L, sm[t], Unit::kIssue, loop * threads, kIssueThreadOpsPerClkPerSm, [&] {
        return "loop: " + num(loop) + " instructions per thread (" + num(tmem) + " tcgen05.ld/st, " +
               num(kFa4SoftmaxFixedInstructions) + " barriers/fences/control)";
      });
      const double mufu = w.mufu / threads, other = (w.instructions() - w.mufu) / threads + loop;
      const double alone = other * cpi + mufu * mufu_cycles;
      // The q_tiles softmax warpgroups put a warp each on every sub-partition, and FA4 orders
      // their exp2 phases by no barrier (Dao-AILab/flash-attention flash_fwd_sm100.py:
      // s0_s1_barrier = False, the earlier "S1 waits for S0" at head dim 64/96 commented out):
      // this warp's MUFU instructions queue behind the others' over the tile's own cycle (its
      // S, softmax and PV, each MMA's execution and latency).
      auto mma_cycles = [&](int id) {
        double occ = 0.0;
        for (const Use& u : (*L)[id].uses) occ = std::max(occ, u.work / u.rate_per_clk);
        return occ + (*L)[id].latency_cycles;
      };
      const double period = alone + mma_cycles(s[t]) + mma_cycles(o[t]);
      const double shared = shared_mufu_wait_cycles(mufu, mufu_cycles, T - 1, period);
      Op& op = (*L)[sm[t]];
      op.chain_cycles = alone + shared;
      if (c.detailed)
        op.chain_what = num(other) + " instructions per thread x " + num(cpi) + " cycles + " + num(mufu) + " MUFU x " +
                       num(mufu_cycles) + " cycles (Hopper-fitted cost per instruction: no Blackwell measurement) + " +
                       num(shared) + " cycles queued behind the other Q tile(s)' MUFU instructions on the sub-partition";
    }
    cr[t] = b.op(L, "correction.q" + std::to_string(t), corr, c.p.latency.fma.value);
    add_fma_pass(b, c, L, cr[t], bm * dv * rescale, 1.0,
          [&] { return num(bm) + "x" + num(dv) + " FMUL x " + num(rescale) + " (share of iterations that rescale)"; });
    b.use(L, cr[t], Unit::kAlu, bm, c.p.per_sm.alu.value, [&] { return "rescale test per row"; });
    {
      // A correction thread owns one row of O: when it rescales, dv columns in (ld), FMUL,
      // out (st).
      const double per_thread = rescale * dv * (1.0 + 2.0 / kTmemColumnsPerInstruction) + 1.0;
      Op& op = (*L)[cr[t]];
      op.chain_cycles = per_thread * cpi;
      if (c.detailed)
        op.chain_what = num(per_thread) + " instructions per thread (O row FMUL + tcgen05.ld/st) x " + num(cpi) +
                       " cycles (Hopper-fitted)";
    }
  }
  for (int t = 0; t < T; ++t) {
    b.dep(L, s[t], lk, 0, DepKind::kDone, "k_full");
    b.dep(L, s[t], o[t], 0, DepKind::kAfter);        // S_t(i) overwrites P_t(i-1), which PV reads
    b.dep(L, sm[t], s[t], 0, DepKind::kDone, "s_full");
    b.dep(L, sm[t], sm[t], 1, DepKind::kDone);       // running max
    b.dep(L, cr[t], sm[t], 0, DepKind::kDone);
    b.dep(L, cr[t], o[t], 0, DepKind::kDone);        // O holds P(i-1) V(i-1)
    b.dep(L, o[t], sm[t], 1, DepKind::kDone, "p_full");
    b.dep(L, o[t], cr[t], 1, DepKind::kDone, "o_rescaled");
    b.dep(L, o[t], lv, 1, DepKind::kDone, "v_full");
    // Program order of the MMA warp: ..., S_{t-1}(i), PV_t(i-1), S_t(i), ...
    if (t > 0) b.dep(L, o[t], s[t - 1], 0, DepKind::kIssue);
  }
  b.dep(L, o[0], s[T - 1], 1, DepKind::kIssue);
  // K and V alternate in one ring of `stages` slots: K(i) is item 2i, V(i) item 2i+1; item
  // j reuses the slot of item j - stages, freed when that tile's MMAs are done. K(i) is
  // read by the S ops of iteration i, V(i) by the PV ops of iteration i + 1.
  for (int t = 0; t < T; ++t) {
    if (stages % 2 == 0) {
      b.dep(L, lk, s[t], stages / 2, DepKind::kDone, "kv_empty");
      b.dep(L, lv, o[t], stages / 2 - 1, DepKind::kDone, "kv_empty");
    } else {
      b.dep(L, lk, o[t], (stages - 1) / 2, DepKind::kDone, "kv_empty");
      b.dep(L, lv, s[t], (stages - 1) / 2, DepKind::kDone, "kv_empty");
    }
  }
  std::vector<int> kv_consumers = s;
  kv_consumers.insert(kv_consumers.end(), o.begin(), o.end());
  d.rings.push_back(Ring{"kv", stages, {lk, lv}, kv_consumers, kv_rows * std::max(dq, dv) * e});

  auto* E = &d.epilogue;
  const double eff = c.k.epilogue_efficiency;
  for (int t = 0; t < T; ++t) {
    // Causal: every softmax warpgroup masks the item's masking range, the last
    // ceil(q_tiles x block_m / block_n) KV blocks of its CTA's rows (flash_fwd_sm100.py: the
    // iterations down to get_n_block_min_causal_local_mask, in each softmax warpgroup's loop).
    // A thread owns a row of S, so the mask's compare and select of its bn elements sit on
    // its own instruction stream: those iterations' softmax, the loop's binding chain, grows by
    // them (once per item, charged here with the item's other once-per-item work).
    const double mask_per_thread = ag.diag_blocks_per_item * bn * kMaskAluOps;
    int mask = -1;
    if (mask_per_thread > 0.0) {
      mask = b.op(E, "mask.q" + std::to_string(t), smr[t]);
      b.use(E, mask, Unit::kAlu, mask_per_thread * bm, c.p.per_sm.alu.value, [&] {
        return num(ag.diag_blocks_per_item) + " masked KV blocks x " + num(bm) + "x" + num(bn) + " x " +
               num(kMaskAluOps) + " causal-mask ops";
      });
      b.use(E, mask, Unit::kIssue, mask_per_thread * bm, kIssueThreadOpsPerClkPerSm);
      Op& op = (*E)[mask];
      op.chain_cycles = mask_per_thread * c.k.consumer_cycles_per_instruction;
      if (c.detailed)
        op.chain_what = num(mask_per_thread) + " mask instructions per softmax thread x " +
                        num(c.k.consumer_cycles_per_instruction) + " cycles (Hopper-fitted)";
    }
    const int ep = b.op(E, "epilogue.q" + std::to_string(t), corr, c.p.latency.hbm.value);
    b.use(E, ep, Unit::kFma, bm * dv, c.p.per_sm.fp32_fma.value * eff);
    b.use(E, ep, Unit::kCvt, bm * dv * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff);
    b.use(E, ep, Unit::kSmem, bm * dv * c.obytes(), srate * eff);
    b.store_uses(E, ep, bm * (dv * c.obytes() + 4.0), eff);
    if (mask >= 0) b.dep(E, ep, mask, 0, DepKind::kDone);  // O is final after the masked blocks
  }
  d.prologue_overlaps_previous = true;
  d.useful_flops = useful_flops(p);
  b.desc_note([&] { return "L2 reuse: " + tr.model; });
  b.desc_note([&] {
    // The FA4 paper's "feeds and speeds" of one Q tile against one KV block (its Table 1:
    // 1024 MMA, 1024 exp2 and 768 SMEM cycles for 128 x 128 x 128 on B200): S and PV's own
    // tensor and SMEM uses, and the tile's exp2 (the paper leaves out the row corrections).
    double mma = 0.0, smem = 0.0;
    for (const int op : {s[0], o[0]})
      for (const Use& u : (*L)[op].uses) {
        if (u.unit == Unit::kTensor) mma += u.work / u.rate_per_clk;
        if (u.unit == Unit::kSmem) smem += u.work / u.rate_per_clk;
      }
    const double exp_all = static_cast<double>(bm) * bn / c.p.per_sm.mufu_ex2.value;
    return "per Q tile and KV block (" + num(bm) + "x" + num(bn) + ", d " + num(dq) + "): MMA (S + PV) " + num(mma) +
           " cycles, exp2 on MUFU " + num(exp_all * (1.0 - f)) + " (" + num(exp_all) + " with none emulated), SMEM " +
           num(smem) + " cycles (Q, K, V read by tcgen05; P from TMEM)";
  });
  b.desc_note([] { return "TMEM load/store bandwidth (tcgen05.ld/st of S, P, O) is not modelled"; });
  if (bm < kFa4FullRateRows) b.desc_note([] { return "block_m=64 runs tcgen05 at half rate (padded to 128 rows)"; });
}

ScheduleSpec spec_attn_fa4() {
  ScheduleSpec s;
  s.name = "attn_fa4";
  s.summary = "FlashAttention-4: tcgen05 into TMEM, softmax + correction warpgroups, exp2 emulation, conditional "
              "rescale, 1- or 2-CTA";
  s.kind = ProblemKind::kAttention;
  s.params = {
      {"block_m", ParamType::kInt, 64, 128, 64, "tcgen05 M", "query rows per Q tile", false, 0, {128}},
      {"block_n", ParamType::kInt, 16, kTcgenMaxN, 16, "tcgen05 N of QK^T", "KV rows per iteration", false, 0, {64, 128, 192, 256}},
      // FA4 sizes its ring to the shared memory left over: 3 slots and more (up to 32; 10 at head
      // dim 64). Tune offers no 2-slot ring: what it costs shows only in the simulator
      // (tests/sim/test_agreement.cpp).
      {"stages", ParamType::kInt, 2, 32, 0, "", "K/V ring slots (shared by K and V tiles)", false, 0, {3, 4, 6}},
      {"q_tiles", ParamType::kInt, 1, 2, 0, "", "Q tiles per CTA, each with its own softmax warpgroup (ping-pong)", true, 2, {1, 2}},
      // 0.1875 is FA4's share for a 128-column row (flash_attn/cute/softmax.py, 2025-10):
      // 4 of the 16 pairs of each 32-element fragment, the last fragment all on MUFU: 24/128.
      {"exp_emu_fraction", ParamType::kReal, 0, 1, 0, "", "share of exp2 done by a polynomial on the FMA pipe", true, 0, {0, 0.1875, 0.25, 0.5}},
      {"rescale_threshold", ParamType::kReal, 0, 64, 0, "log2 of the max growth", "0 = always rescale O; t > 0 = only when the max grows by > t (log2)", true, 0, {0, 8}},
      {"cluster_m", ParamType::kInt, 1, 2, 0, "", "2 = 2-CTA MMA pair (K/V halves per CTA)", true, 1, {1, 2}}};
  s.constraints = {
      {"head dim", "head_dim_v <= 256 and head_dim a multiple of 16", "tcgen05 N of PV <= 256; K of QK^T in steps of 16",
       [](const TileView& v) { return v.prob.head_dim_v <= kTcgenMaxN && v.prob.head_dim % 16 == 0; }},
      {"cluster", "cluster_m = 2 needs features.two_cta_mma", "the pair issues one cta_group::2 MMA",
       [](const TileView& v) { return v.i("cluster_m") == 1 || v.p.flag(v.p.features.two_cta_mma); }}};
  s.features = {{Feature::kTcgen05, "tcgen05.mma is sm_100a+"}, {Feature::kTma, "K and V are loaded with TMA"}};
  s.build = build_attn_fa4;
  s.representative = attention_representative();
  return s;
}

}  // namespace tilesim::model::detail
