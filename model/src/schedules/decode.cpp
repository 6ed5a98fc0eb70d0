// decode_splitkv and mla_decode: attention for a few query tokens per sequence against
// a long KV cache. Memory-bound by design; the model's job is the split count (enough
// CTAs in flight to cover HBM latency and fill the SMs), the combine pass, paging, and
// for MLA the padding of the MMA's M dimension.
//
// decode_splitkv (flash-decoding): one CTA per (batch, kv head, split, m-block); its rows
// are the group's query heads x q_per_seq tokens (padded to 16 for mma.sync, <= 64 per
// CTA). 4 warps split each KV block. Partial O (fp32) and LSE go to HBM; a combine kernel
// reduces the splits. l2_prefetch=1 prefetches the next blocks into L2 so the loads see
// L2 latency. Paged KV: one page-table read (an L2 hit) per iteration plus
// page_lookup_cycles per page.
//
// mla_decode (FlashMLA-style; one latent KV row of head_dim = 576 values per token, V =
// its first head_dim_v = 512): kv_on_m=0 puts the batch's query rows (heads x q) on the
// MMA's M dimension, block_q = 64 per CTA (padded; tcgen05 pads to its 128-row full rate);
// kv_on_m=1 computes S^T = K Q^T and O^T = V^T P^T so the KV rows are M and block_q query
// rows only N (16/32/64), at the cost of a cross-warp softmax over M and P^T staged in SMEM.
// As built in kernels/attention/mla/: a producer warpgroup (TMA: Q once, one page of block_n
// rows per ring slot) and two consumer warpgroups that each own dv/2 output columns; the
// first computes S (S^T) and the softmax and hands P (P^T) to the second through SMEM.
// Both layouts run S (S^T), the softmax and the first warpgroup's PV half in turn: the next
// S waits for that PV. On the wgmma path the heads-on-M first warpgroup's own instruction
// stream is a per-warp chain (as FA3's consumers, attn_fa3.cpp): it issues S's 36 wgmmas
// one descriptor after another, then the softmax, O's rescale, P's hand-off and its PV.
// At 128 heads (two row blocks per sequence, twice the CTAs) that chain and the tensor
// work it waits on, not HBM, bind the kernel.
#include "common.hpp"

namespace tilesim::model::detail {

namespace {
constexpr int kDecodeWarps = 4;
// mla_decode, KV rows on M: a column (query row) of S^T is spread over 8 lanes x 4 warps.
constexpr double kMlaColumnThreads = 32.0;
// P^T goes to SMEM as single bf16 stores (the accumulator holds one KV row per register
// pair, and P^T's rows are query rows): a warp store moves 64 B but occupies one 128-byte
// SMEM wavefront, so it costs twice its bytes on the SMEM port.
constexpr double kMlaScalarStoreWaste = 2.0;
// Query rows per CTA when block_q = 0 ("auto", what the runner picks): heads on M fills the
// wgmma M (64); KV on M takes the smallest compiled N (16/32/64) that holds the rows.
constexpr int kMlaMaxBlockQ = 64;
constexpr int kMlaBlockQGranule = 16;
constexpr int kDecodeMaxRowsPerCta = 64;
// The heads-on-M first consumer warpgroup's main loop, per thread and iteration (SASS of
// mla_heads_on_m_kernel<2>, block_n 64, the innermost loop that holds the HGMMAs; the
// tail-row zeroing of the last page left out), split where the kernel waits for S:
//   S issue: ring wait, loop control, 36 wgmma m64n64k16 with their descriptors (R2UR,
//     ULOP3, ...);
//   softmax to PV: mask, row max/sum (shuffles), 34 ex2 (32 elements + 2 rescale factors),
//     O's 128-value rescale, P packed and stored for the second warpgroup, the factors,
//     the barrier, 4 wgmma m64n256k16 (PV half).
constexpr double kMlaHeadsOnMSIssueInstructions = 536.0;
constexpr double kMlaHeadsOnMSoftmaxPvInstructions = 472.0;
constexpr double kMlaHeadsOnMSoftmaxPvMufu = 34.0;  // of the 472
// The KV-on-M first consumer warpgroup, per thread and iteration, for each compiled block_q
// (SASS of mla_kv_on_m_kernel<block_q, 2>, same loop and split): ring wait and the 36
// wgmma m64nNk16 issues of S^T; the column softmax (cross-warp max and sum through SMEM,
// P^T stored as bf16 scalars) with its ex2s; the PV part both warpgroups run (O^T rescale,
// 16 wgmma m64nNk16 issues over the 4 m64 tiles of its V^T half). A block_q between two
// compiled ones takes the straight line between their counts.
struct MlaKvOnMCounts {
  double block_q, s_issue, softmax, softmax_mufu, pv_issue;
};
constexpr MlaKvOnMCounts kMlaKvOnMCounts[] = {
    {16.0, 426.0, 166.0, 12.0, 203.0},
    {32.0, 428.0, 335.0, 24.0, 237.0},
    {64.0, 537.0, 713.0, 48.0, 306.0},
};

MlaKvOnMCounts kv_on_m_counts(double block_q) {
  constexpr int n = sizeof(kMlaKvOnMCounts) / sizeof(kMlaKvOnMCounts[0]);
  int hi = 1;
  while (hi < n - 1 && kMlaKvOnMCounts[hi].block_q < block_q) ++hi;
  const MlaKvOnMCounts &a = kMlaKvOnMCounts[hi - 1], &z = kMlaKvOnMCounts[hi];
  const double t = (block_q - a.block_q) / (z.block_q - a.block_q);
  auto at = [t](double x, double y) { return x + t * (y - x); };
  return {block_q, at(a.s_issue, z.s_issue), at(a.softmax, z.softmax), at(a.softmax_mufu, z.softmax_mufu),
          at(a.pv_issue, z.pv_issue)};
}
constexpr double kPartialBytesPerValue = 4.0;  // split-KV partial O and LSE in fp32
constexpr double kCpAsyncBytes = 16.0;         // one cp.async moves 16 bytes per thread
// decode_splitkv's Q tile goes to SMEM through registers: per thread, one 16-byte load and
// then its shared store, trip after trip (SASS of decode_splitkv_kernel, m tiles 1 and 2: each
// LDG.E.128 is followed by the STS.128 that consumes it before the next LDG issues). So the
// tile costs m_pad x head_dim x 2 B / (16 B x 128 threads) dependent load latencies, and
// the KV ring's first loads are issued only after the last (they follow the Q loop).
constexpr double kQLoadBytesPerThreadTrip = 16.0;
// Per warp, executed instructions (ncu source counters on the H200, 2026-11-28, head dim
// 128, data/measurements/logs/2026-11-28_h200_decode_pc_sampling.json.xz): a Q trip's row and
// address arithmetic (an integer division by the group size) around its load, ~100; the
// epilogue's merge of the four warps' states through SMEM, 265 per m tile; then the output
// pass, one step per 128 threads' float4 chunks of O: 143 for a step holding real rows (the
// four warps' partials summed, 1 / l, the row's address by another integer division, the
// store, and the LSE lane's log2, which the whole warp waits for), 13 for a step past them.
// Checked: 447 per warp with 4 real rows, 837 with 16, 1631 (1674 counted) with 32 in two m
// tiles. With one split the store is bf16 and no LSE is written (SASS: 40 fewer).
constexpr double kDecodeQTripInstructions = 100.0;
constexpr double kDecodeMergeInstructionsPerMTile = 265.0;
constexpr double kDecodeOutputStepInstructions = 143.0;
constexpr double kDecodeOutputSkipInstructions = 13.0;
constexpr double kDecodeOutputNoSplitSaving = 40.0;

// A decode_splitkv warp issues its whole iteration itself. Beyond the softmax and O's
// rescale (structural counts, common.hpp) its main loop holds, per thread (least squares
// over the SASS of the 24 compiled instances, scripts/sass_counts.py: head dim 64/128,
// block_n 64/128, 1-2 m tiles, paged or not, L2 prefetch or not; every count within 8 %):
constexpr double kDecodeLoopBaseInstructions = 47.0;  // loop control, barrier, cp.async commit/wait
constexpr double kDecodeInstructionsPerCpAsync = 8.5; // the cp.async, its swizzled smem and global addresses
constexpr double kDecodeInstructionsPerMma = 1.3;     // ldmatrix and fragment addresses per mma.sync
constexpr double kDecodePagedInstructionsPerCpAsync = 11.6;  // page-table row -> 64-bit pool address
constexpr double kDecodeL2PrefetchInstructions = 40.0;       // page lookup + prefetch issue of the run ahead
// Registers per thread beyond the fragments (O, S, Q) counted below: addresses, softmax row
// state, causal limits, loop control. ptxas (cuobjdump -res-usage) of the compiled
// instances, least squares beyond those fragments: 20 per 64 head-dim columns (address and
// fragment unrolling) - 6, 14 per 64 block_n rows (loader passes), 21 more per 64 rows when
// paged (the page ids read one block ahead and 64-bit pool offsets), 46 with two m tiles
// (per-tile row state and the re-read Q fragment); every instance within 9 registers.
constexpr double kDecodeRegistersPer64HeadDim = 20.1;
constexpr double kDecodeRegistersBase = -6.3;
constexpr double kDecodeRegistersPer64BlockN = 14.3;
constexpr double kDecodePagedRegistersPer64BlockN = 20.8;
constexpr double kDecodeSecondMTileRegisters = 45.9;

double paged_extra_latency(const Ctx& c, int block_n) {
  const int64_t page = c.prob.page_size;
  if (page <= 0) return 0.0;
  const double pages = static_cast<double>(ceil_div(block_n, page));
  return c.p.latency.l2_near.value + pages * c.k.page_lookup_cycles;
}

// decode_combine_kernel (kernels/attention/decode/decode_splitkv.cuh, MLA's too): one warp
// per output row; it reads the splits' LSEs for their maximum, then walks the splits. The
// loop is unrolled four times in the source, but the compiled kernel (52 registers) issues
// the next split's loads only after the current split's FFMAs have consumed its registers:
// one split's partials in flight (SASS of decode_combine_kernel<512>; ncu on the H200,
// 2026-11-28: 5.0 / 19.5 / 35.7 us for 4 / 32 / 64 splits, 0.51 us per split with the
// partials read from DRAM, data/measurements/logs/2026-11-28_h200_mla_splitkv_probe.json).
constexpr double kCombineSplitsInFlight = 1.0;

// The combine pass of split-KV: read every split's partial O + LSE, write O. Its chain: per
// wave of resident warps, the LSE pass and one L2 round trip per split (the partials were
// just written: L2 hits).
void add_combine(const Ctx& c, ScheduleDesc& d, double rows_total, int splits) {
  if (splits <= 1) return;
  d.post.name = "combine";
  d.post.hbm_bytes = rows_total * splits * (static_cast<double>(c.prob.head_dim_v) + 1.0) * kPartialBytesPerValue +
                     rows_total * static_cast<double>(c.prob.head_dim_v) * c.obytes();
  d.post.launch_us = c.p.latency.kernel_launch_us.value;
  const double warps_at_once = static_cast<double>(c.sm_count()) * c.p.capacity.max_threads_per_sm.value / kWarpThreads;
  const double waves = std::ceil(rows_total / warps_at_once);
  const double round_trips = 1.0 + std::ceil(static_cast<double>(splits) / kCombineSplitsInFlight);
  d.post.chain_us = waves * round_trips * load_latency_cycles(c, 0.0) / c.clock_hz() * 1e6;
}
}  // namespace

void build_decode_splitkv(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bn = c.i("block_n"), splits = c.i("splits"), stages = c.i("stages"), pf = c.i("l2_prefetch");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  const int64_t split_len = ceil_div(p.seq_kv, splits);
  const int64_t rows = (p.heads_q / p.heads_kv) * p.q_per_seq;
  const int64_t m_blocks = ceil_div(rows, kDecodeMaxRowsPerCta);
  const int64_t rows_cta = ceil_div(rows, m_blocks);
  const double m_pad = static_cast<double>(round_up(rows_cta, kMmaSyncM));

  Builder b(c, d);
  if (c.detailed) d.summary = "flash-decoding: " + std::to_string(splits) + " split(s) x " + std::to_string(m_blocks) + " m-block(s) per kv head, " +
              num(m_pad) + " rows (padded) x " + std::to_string(bn) + " KV rows per iteration" + (pf ? ", L2 prefetch" : "");
  // The warps split each KV block; each warp keeps a partial O for all rows (m_pad x dv
  // over its 32 lanes) and its slice of S; they are reduced through SMEM at the end.
  // Per thread: O (all m_pad rows x dv, per warp) and the warp's slice of S in fp32; the Q
  // fragments (m_pad x dq bf16) stay in registers with one 16-row m tile, with two they are
  // re-read from SMEM (the kernel's kQInRegs).
  const double m_tiles = m_pad / kMmaSyncM;
  const double q_regs = m_tiles == 1 ? m_pad * dq / (2.0 * kWarpThreads) : 0.0;
  const double other_regs = kDecodeRegistersBase + kDecodeRegistersPer64HeadDim * dq / 64.0 +
                            (kDecodeRegistersPer64BlockN + (p.page_size > 0 ? kDecodePagedRegistersPer64BlockN : 0.0)) * bn / 64.0 +
                            (m_tiles > 1 ? kDecodeSecondMTileRegisters : 0.0);
  double regs = m_pad * dv / kWarpThreads + m_pad * (bn / kDecodeWarps) / kWarpThreads + q_regs + other_regs;
  // Two m tiles are what the kernel re-reads Q for: without that it would exceed the
  // per-thread cap; ptxas then fits it under the cap (246-251 registers compiled).
  if (m_tiles > 1) regs = std::min(regs, c.p.capacity.max_registers_per_thread.value);
  const int w = b.role("warps", RoleKind::kConsumer, kDecodeWarps * kWarpThreads, static_cast<int>(regs));
  d.cta.smem_bytes = m_pad * dq * e + stages * bn * (dq + dv) * e;
  d.grid.scheduler = Scheduler::kPlain;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  const int64_t items = p.batch * p.heads_kv * m_blocks * splits;
  const int64_t iters = ceil_div(split_len, bn);
  d.grid.classes.push_back(WorkClass{"split", items, iters});
  const double kv_bytes = static_cast<double>(p.batch * p.heads_kv) * static_cast<double>(p.seq_kv) * (dq + dv) * e;
  const double kv_l2 = static_cast<double>(items) * static_cast<double>(iters) * bn * (dq + dv) * e;
  const double rows_total = static_cast<double>(p.batch * p.heads_q * p.q_per_seq);
  const double q_bytes = rows_total * dq * e;
  const double out_bytes = splits > 1 ? rows_total * splits * (dv + 1) * kPartialBytesPerValue : rows_total * dv * c.obytes();
  d.total_hbm_bytes = std::min(kv_bytes, kv_l2) + q_bytes + out_bytes;
  d.total_l2_bytes = kv_l2 + q_bytes + out_bytes;
  const double f = std::min(1.0, kv_bytes / kv_l2);

  auto* P = &d.prologue;
  // Each CTA puts one warp on every sub-partition: a warp shares its sub-partition with one
  // warp of each other CTA on the SM, as many as the grid's items fill (a grid smaller than
  // the chip leaves one CTA per SM).
  const double co_resident =
      std::clamp(static_cast<double>(items) / static_cast<double>(c.sm_count()), 1.0, static_cast<double>(d.grid.ctas_per_sm));
  const double cpi = c.k.decode_warp_cycles_per_instruction * (1.0 + c.k.decode_cpi_share_per_co_resident_warp * (co_resident - 1.0));
  const double q_trips = std::ceil(m_pad * dq * e / (kQLoadBytesPerThreadTrip * kDecodeWarps * kWarpThreads));
  const double q_trip_cycles = load_latency_cycles(c, 1.0) + kDecodeQTripInstructions * cpi;
  const int lq = b.load(P, "load_q", w, m_pad * dq * e, 1.0, q_trips * q_trip_cycles - load_latency_cycles(c, 1.0));
  b.note(P, lq, [&] {
    return num(q_trips) + " dependent trips per thread (a 16-byte load, then its shared store) of " + num(q_trip_cycles) +
           " cycles: the load latency + " + num(kDecodeQTripInstructions) + " instructions x " + num(cpi);
  });
  auto* L = &d.loop;
  const double trate = tensor_rate(c, TensorPath::kMmaSync), srate = c.p.per_sm.smem.value;
  // With L2 prefetch the blocks were requested from HBM one prefetch distance earlier:
  // the load sees L2 latency; HBM throughput still binds through the hbm use.
  const double lat_adjust = pf ? load_latency_cycles(c, 0.0) - load_latency_cycles(c, f) : 0.0;
  // The kernel prefetches a split's blocks from its (stages)th on: the first stages - 1 come
  // with the prologue's loads and the next with the first iteration's, before any prefetch
  // (decode_splitkv.cuh, "L2 prefetch"). So a share (blocks - stages) / blocks of each
  // split's blocks is prefetched, and its costs below are paid on that share only: short
  // splits prefetch little or nothing.
  const double pf_share =
      pf ? std::max(0.0, static_cast<double>(iters - stages)) / static_cast<double>(iters) : 0.0;
  // The prefetch's measured cost, as KV bytes HBM delivers twice (fitted on training runs).
  const double refetch = pf_share * c.k.decode_prefetch_refetch_fraction;
  const int ld = b.load(L, "load_kv", w, bn * (dq + dv) * e, f, paged_extra_latency(c, bn) + lat_adjust,
                        1.0 / (1.0 + refetch));
  b.note(L, ld, [&] {
    return "K and V " + num(bn) + " rows x (" + num(dq) + "+" + num(dv) + ") x " + num(e) + " B" +
           (p.page_size > 0 ? ", paged (" + std::to_string(p.page_size) + " rows/page)" : "");
  });
  const int qk = b.op(L, "qk", w, c.p.latency.smem.value);
  b.use(L, qk, Unit::kTensor, 2.0 * m_pad * bn * dq, trate, [&] { return "2*" + num(m_pad) + "*" + num(bn) + "*" + num(dq) + " FLOP (rows padded to 16)"; });
  b.use(L, qk, Unit::kSmem, bn * dq * e, srate, [&] { return "K block read once (warps split the KV rows)"; });
  const int sm = b.op(L, "softmax", w, c.p.latency.mufu.value);
  // Every warp holds all rows (a quad per row in each of the kDecodeWarps warps) and its own
  // partial O over all rows: the row work and the rescale are done once per warp.
  const SoftmaxWork softmax = add_softmax_uses(b, c, L, sm, m_pad, bn, 0.0, kThreadsPerRowQuad * kDecodeWarps);
  const double rescale = kDecodeWarps * m_pad * dv;
  add_fma_pass(b, c, L, sm, rescale, 1.0, [&] { return num(kDecodeWarps) + " warps x O rescale " + num(m_pad) + "x" + num(dv); });
  {
    const double threads = static_cast<double>(kDecodeWarps) * kWarpThreads;
    const double cp_async = bn * (dq + dv) * e / kCpAsyncBytes / threads;
    const double flops = 2.0 * m_pad * bn * (dq + dv);  // QK^T and PV of the block
    const double mma = flops / (2.0 * kMmaSyncM * kMmaSyncN * kMmaSyncK) / kDecodeWarps;  // per warp
    const double loop = kDecodeLoopBaseInstructions + cp_async * kDecodeInstructionsPerCpAsync + mma * kDecodeInstructionsPerMma +
                        (p.page_size > 0 ? cp_async * kDecodePagedInstructionsPerCpAsync : 0.0) +
                        (pf ? kDecodeL2PrefetchInstructions : 0.0);
    b.use(L, sm, Unit::kIssue, loop * threads, kIssueThreadOpsPerClkPerSm, [&] {
      return "loop: " + num(loop) + " instructions per thread (" + num(cp_async) + " cp.async, " + num(mma) +
             " mma.sync's ldmatrix/addresses" + (p.page_size > 0 ? ", page lookups" : "") + (pf ? ", L2 prefetch" : "") + ")";
    });
    // The warp's own dependent stream (its mma.sync included): MUFU instructions hold the
    // sub-partition's MUFU lanes, the others come decode_warp_cycles_per_instruction apart
    // (fitted).
    const double mufu = softmax.mufu / threads;
    const double other = (softmax.instructions() - softmax.mufu + rescale) / threads + loop + mma;
    const double mufu_cycles = mufu_warp_instruction_cycles(c);
    // Warps 0 and 1 also issue the L2 prefetch of a block ahead (one bulk request per lane
    // and page run): it holds their stream longer than its counted instructions.
    const double prefetch_cycles = pf_share * c.k.decode_l2_prefetch_issue_cycles;
    Op& o = (*L)[sm];
    o.chain_cycles = other * cpi + mufu * mufu_cycles + prefetch_cycles;
    if (c.detailed)
      o.chain_what = num(other) + " instructions per thread x " + num(cpi) + " cycles + " + num(mufu) + " MUFU x " +
                     num(mufu_cycles) + " cycles" +
                     (pf ? " + " + num(prefetch_cycles) + " cycles of L2 prefetch issue (decode_l2_prefetch_issue_cycles x " +
                               num(pf_share) + " of the blocks prefetched)"
                         : "");
  }
  const int pv = b.op(L, "pv", w, c.p.latency.smem.value);
  b.use(L, pv, Unit::kTensor, 2.0 * m_pad * dv * bn, trate, [&] { return "2*" + num(m_pad) + "*" + num(dv) + "*" + num(bn) + " FLOP"; });
  b.use(L, pv, Unit::kSmem, bn * dv * e, srate);
  // One instruction stream per warp: QK's mma.sync, the softmax, the rescale and PV's
  // mma.sync follow each other in it, and the softmax op's chain holds all of them. The
  // QK -> softmax -> PV order is therefore issue order (weight 0); the chain's self edge
  // carries the iteration, the tensor and SMEM uses of qk/pv count in the resource bound.
  b.dep(L, qk, ld, 0, DepKind::kDone, "kv ready");
  b.dep(L, qk, pv, 1, DepKind::kIssue);
  b.dep(L, sm, qk, 0, DepKind::kIssue);
  b.dep(L, sm, sm, 1, DepKind::kDone);
  b.dep(L, pv, sm, 0, DepKind::kIssue);
  b.dep(L, ld, pv, stages, DepKind::kDone, "kv slot free");
  d.rings.push_back(Ring{"kv", stages, {ld}, {pv}, bn * (dq + dv) * e});

  auto* E = &d.epilogue;
  const int ep = b.op(E, "epilogue", w, c.p.latency.hbm.value);
  b.use(E, ep, Unit::kFma, m_pad * dv, c.p.per_sm.fp32_fma.value * c.k.epilogue_efficiency);
  b.store_uses(E, ep, static_cast<double>(rows_cta) * (splits > 1 ? (dv + 1) * kPartialBytesPerValue : dv * c.obytes()),
               c.k.epilogue_efficiency);
  // The epilogue's own instruction stream (counts above): the merge, then the output pass,
  // whose slowest warp (warp 0: rows 0, 4, 8, ... at head dim 128) holds real rows in
  // ceil(rows / rows per step) of its steps. What an item costs beyond it and the ops above
  // is a fitted constant (as MLA's).
  const double rows_per_step = kDecodeWarps * kWarpThreads / (dv / 4.0);
  const double steps = std::ceil(m_pad / rows_per_step);
  const double real_steps = std::min(steps, std::ceil(static_cast<double>(rows_cta) / rows_per_step));
  const double epi_instructions = kDecodeMergeInstructionsPerMTile * m_tiles +
                                  real_steps * (kDecodeOutputStepInstructions - (splits > 1 ? 0.0 : kDecodeOutputNoSplitSaving)) +
                                  (steps - real_steps) * kDecodeOutputSkipInstructions;
  Op& eo = (*E)[ep];
  eo.chain_cycles = epi_instructions * cpi + c.k.decode_item_chain_cycles;
  if (c.detailed)
    eo.chain_what = num(epi_instructions) + " epilogue instructions per warp (merge, " + num(real_steps) + " of " + num(steps) +
                    " output steps with rows) x " + num(cpi) + " cycles + decode_item_chain_cycles (fitted)";
  add_combine(c, d, rows_total, splits);
  d.useful_flops = useful_flops(p);
  b.desc_note([&] {
    return "KV read once from HBM (" + num(kv_bytes) + " B); each kv head's query heads share one CTA row block";
  });
}

void build_mla_decode(const Ctx& c, ScheduleDesc& d) {
  const auto& p = c.prob;
  const int bn = c.i("block_n"), splits = c.i("splits"), stages = c.i("stages"), kv_on_m = c.i("kv_on_m");
  const double e = c.ebytes(), dq = static_cast<double>(p.head_dim), dv = static_cast<double>(p.head_dim_v);
  const int64_t split_len = ceil_div(p.seq_kv, splits);
  const bool wg = c.p.flag(c.p.features.wgmma), tc = c.p.flag(c.p.features.tcgen05);
  const TensorPath path = wg ? TensorPath::kWgmma : (tc ? TensorPath::kTcgen05 : TensorPath::kMmaSync);
  // The instruction's minimum M and N granularity on this path.
  const int m_min = path == TensorPath::kWgmma ? kWgmmaM : (path == TensorPath::kTcgen05 ? 128 : kMmaSyncM);
  const int n_gran = path == TensorPath::kTcgen05 ? 16 : 8;
  const int64_t rows = p.heads_q * p.q_per_seq;  // query rows of one sequence
  const double trate = tensor_rate(c, path), srate = c.p.per_sm.smem.value;
  // Query rows per CTA (block_q; 0 = what the runner picks, see kMlaMaxBlockQ).
  int64_t block_q = c.i("block_q");
  if (block_q == 0)
    block_q = kv_on_m ? std::min<int64_t>(round_up(rows, kMlaBlockQGranule), kMlaMaxBlockQ) : kMlaMaxBlockQ;
  const int64_t row_blocks = ceil_div(rows, block_q);
  const int64_t rows_cta = std::min<int64_t>(rows, block_q);  // real rows of the fullest CTA

  Builder b(c, d);
  const int prod = b.role("producer", RoleKind::kProducer, kWarpgroupThreads, kAttnProducerRegisters);
  double m_exec = 0.0, n_exec = 0.0;  // executed MMA shape of QK^T (S^T): M x N
  // O is split over two consumer warpgroups (dv/2 each); the first also runs the softmax.
  constexpr int kConsumers = 2;
  int tmem = 0;
  if (kv_on_m == 0) {
    if (block_q != kMlaMaxBlockQ) throw Infeasible("shape", "heads on M: block_q must be 64 (query rows per CTA)");
    m_exec = static_cast<double>(std::max<int64_t>(round_up(block_q, m_min), m_min));
    n_exec = bn;
    const int regs = path == TensorPath::kTcgen05
                         ? bn + static_cast<int>(c.k.register_overhead_per_thread)
                         : static_cast<int>(m_exec * dv / kConsumers / kWarpgroupThreads + m_exec * bn / kWarpgroupThreads +
                                            c.k.register_overhead_per_thread);
    for (int k = 0; k < kConsumers; ++k) b.role("consumer" + std::to_string(k), RoleKind::kConsumer, kWarpgroupThreads, regs);
    // tcgen05: S (bn columns) and O (dv columns) in TMEM would need dv + bn > 512
    // columns; the pair of CTAs splits O (dv/2 each) and both compute S.
    if (path == TensorPath::kTcgen05) tmem = static_cast<int>(dv / 2) + bn;
    // Q: the block_q loaded rows (tcgen05's padding to M = 128 is the MMA's, not SMEM's).
    d.cta.smem_bytes = static_cast<double>(block_q) * dq * e + stages * bn * dq * e +
                       static_cast<double>(block_q) * bn * e /* P for the second WG */;
  } else {
    if (path == TensorPath::kMmaSync) throw Infeasible("path", "kv_on_m needs wgmma or tcgen05");
    if (bn % m_min != 0) throw Infeasible("shape", "kv_on_m: block_n must be a multiple of the MMA M (" + std::to_string(m_min) + ")");
    if (block_q % n_gran != 0 || block_q > kWgmmaMaxN)
      throw Infeasible("shape", "kv_on_m: block_q (" + std::to_string(block_q) + ") must be a multiple of " +
                                    std::to_string(n_gran) + " and <= " + std::to_string(kWgmmaMaxN) + " (MMA N)");
    n_exec = static_cast<double>(block_q);
    m_exec = bn;
    // O^T (dv x N) over two warpgroups + S^T (bn x N) in the first.
    const int regs = path == TensorPath::kTcgen05
                         ? static_cast<int>(n_exec) + static_cast<int>(c.k.register_overhead_per_thread)
                         : static_cast<int>(dv / kConsumers * n_exec / kWarpgroupThreads + bn * n_exec / kWarpgroupThreads +
                                            c.k.register_overhead_per_thread);
    for (int k = 0; k < kConsumers; ++k) b.role("consumer" + std::to_string(k), RoleKind::kConsumer, kWarpgroupThreads, regs);
    if (path == TensorPath::kTcgen05) tmem = static_cast<int>(n_exec) * 2;  // S^T and O^T chunks (N columns each)
    d.cta.smem_bytes = n_exec * dq * e + stages * bn * dq * e + bn * n_exec * e /* P^T */;
  }
  const int pair = (path == TensorPath::kTcgen05 && kv_on_m == 0) ? 2 : 1;
  d.cta.tmem_columns = tmem;
  if (c.detailed) d.summary = std::string(kv_on_m ? "KV rows on M (S^T = K Q^T)" : "query heads on M") + ", " + tensor_path_name(path) +
              " M=" + num(m_exec) + " N=" + num(n_exec) + " for " + std::to_string(rows_cta) + " query rows per CTA, " +
              std::to_string(row_blocks) + " row block(s), " + std::to_string(splits) + " split(s)";
  d.grid.scheduler = Scheduler::kPlain;
  d.grid.cluster_size = pair;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  const int64_t items = p.batch * splits * row_blocks * pair;
  const int64_t iters = ceil_div(split_len, bn);
  d.grid.classes.push_back(WorkClass{"split", items, iters});
  // Row blocks of one sequence read the same pages: HBM once, L2 once per row block.
  const double kv_bytes = static_cast<double>(p.batch) * static_cast<double>(p.seq_kv) * dq * e;
  const double kv_l2 = static_cast<double>(items) * static_cast<double>(iters) * bn * dq * e;
  const double rows_total = static_cast<double>(p.batch * rows);
  const double out_bytes = splits > 1 ? rows_total * splits * (dv + 1) * kPartialBytesPerValue : rows_total * dv * c.obytes();
  d.total_hbm_bytes = std::min(kv_bytes, kv_l2) + rows_total * dq * e + out_bytes;
  d.total_l2_bytes = kv_l2 + rows_total * dq * e + out_bytes;
  const double f = std::min(1.0, kv_bytes / kv_l2);

  auto* P = &d.prologue;
  b.load(P, "load_q", prod, (kv_on_m ? n_exec : m_exec) * dq * e, 1.0);
  auto* L = &d.loop;
  const int ld = b.load(L, "load_kv", prod, bn * dq * e, f, paged_extra_latency(c, bn));
  b.note(L, ld, [&] { return "latent KV " + num(bn) + " rows x " + num(dq) + " x " + num(e) + " B (V is its first " + num(dv) + " columns)"; });
  const int qk = b.op(L, "qk", 1, c.p.latency.tensor_mma.value);
  const double dv_cta = dv / pair;
  if (kv_on_m == 0) {
    b.use(L, qk, Unit::kTensor, 2.0 * m_exec * bn * dq, trate, [&] {
      return "2*" + num(m_exec) + "*" + num(bn) + "*" + num(dq) + " FLOP: " + std::to_string(rows_cta) +
             " query rows padded to M=" + num(m_exec);
    });
    b.use(L, qk, Unit::kSmem, (m_exec + bn) * dq * e, srate, [&] { return "Q and K from SMEM"; });
  } else {
    b.use(L, qk, Unit::kTensor, 2.0 * bn * n_exec * dq, trate, [&] {
      return "2*" + num(bn) + "*" + num(n_exec) + "*" + num(dq) + " FLOP: S^T, " + std::to_string(rows_cta) + " query rows padded to N=" + num(n_exec);
    });
    b.use(L, qk, Unit::kSmem, (bn + n_exec) * dq * e, srate, [&] { return "K (A) and Q (B) from SMEM"; });
  }
  // The first warpgroup's per-warp chain (kMlaHeadsOnM*, kMlaKvOnMCounts): the counts are
  // the wgmma kernels', compiled for block_n 64 only; another block_n (a what-if) keeps them
  // unscaled. The tcgen05 path is not counted.
  const bool chain = path == TensorPath::kWgmma;
  const MlaKvOnMCounts kc = kv_on_m_counts(static_cast<double>(block_q));
  const double s_issue = kv_on_m ? kc.s_issue : kMlaHeadsOnMSIssueInstructions;
  const double sm_instr = kv_on_m ? kc.softmax : kMlaHeadsOnMSoftmaxPvInstructions;
  const double sm_mufu = kv_on_m ? kc.softmax_mufu : kMlaHeadsOnMSoftmaxPvMufu;
  const double cpi = kv_on_m ? c.k.mla_kv_on_m_cycles_per_instruction : c.k.mla_cycles_per_instruction;
  const double mufu_cycles = mufu_warp_instruction_cycles(c);
  if (chain) {
    // The S issue stream takes the first warpgroup's issue slots too (ring wait, the 36 wgmma
    // issues with their descriptors): counted nowhere else.
    b.use(L, qk, Unit::kIssue, s_issue * kWarpgroupThreads, kIssueThreadOpsPerClkPerSm,
          [&] { return num(s_issue) + " S-issue instructions per thread of the first warpgroup (SASS)"; });
    Op& o = (*L)[qk];
    o.chain_cycles = s_issue * cpi;
    if (c.detailed)
      o.chain_what = num(s_issue) + " instructions per thread (36 wgmma issues, ring wait) x " + num(cpi) + " cycles";
  }
  const int sm = b.op(L, "softmax", 1, c.p.latency.mufu.value);
  if (chain) {
    Op& o = (*L)[sm];
    o.chain_cycles = (sm_instr - sm_mufu) * cpi + sm_mufu * mufu_cycles;
    if (c.detailed)
      o.chain_what = num(sm_instr - sm_mufu) + " instructions per thread (" +
                     (kv_on_m ? "column softmax, P^T stores" : "softmax, O rescale, P hand-off, PV issue") + ") x " +
                     num(cpi) + " cycles + " + num(sm_mufu) + " MUFU x " + num(mufu_cycles) + " cycles";
  }
  // The softmax runs over every row (column) the MMA computed, padding included (masked to
  // -inf, still exponentiated); the O rescale over the whole accumulator.
  SoftmaxWork sw;
  double rescale_ops = 0.0;  // thread ops of the O (O^T) rescale, both warpgroups
  if (kv_on_m == 0) {
    sw = add_softmax_uses(b, c, L, sm, m_exec, bn, 0.0, kThreadsPerRowQuad);
    rescale_ops = m_exec * dv_cta;
    add_fma_pass(b, c, L, sm, rescale_ops, 1.0, [&] { return "O rescale (both warpgroups)"; });
  } else {
    // Column max over M: 8 lanes by shuffles, 4 warps through SMEM (a named barrier).
    sw = add_softmax_uses(b, c, L, sm, n_exec, bn, 0.0, kMlaColumnThreads);
    rescale_ops = n_exec * dv;
    add_fma_pass(b, c, L, sm, rescale_ops, 1.0, [&] { return "O^T rescale (both warpgroups)"; });
  }
  if (chain) {
    // The first warpgroup's SASS-counted stream from the softmax on (sm_instr per thread)
    // holds more than the softmax charged above (and, heads on M, its half of the rescale):
    // masking, P's hand-off, loop control, the PV issue. The rest takes issue slots too.
    const double counted = sw.instructions() + (kv_on_m ? 0.0 : 0.5 * rescale_ops);
    const double rest = sm_instr * kWarpgroupThreads - counted;
    if (rest > 0.0)
      b.use(L, sm, Unit::kIssue, rest, kIssueThreadOpsPerClkPerSm, [&] {
        return num(rest / kWarpgroupThreads) + " more instructions per thread of the first warpgroup's " + num(sm_instr) +
               " (SASS) than the softmax and rescale above";
      });
  }
  if (kv_on_m) {
    // Column max exchange across the 4 warps, the rescale factors for the second warpgroup,
    // and P^T written as single bf16 stores.
    const double reduce_bytes = (2.0 * kDecodeWarps + 2.0) * 4.0 * n_exec;
    b.use(L, sm, Unit::kSmem, reduce_bytes + kMlaScalarStoreWaste * bn * n_exec * e, srate, [&] {
      return "cross-warp column max + rescale factors + P^T " + num(bn) + "x" + num(n_exec) + " as bf16 stores (x" +
             num(kMlaScalarStoreWaste) + ")";
    });
  } else if (path != TensorPath::kTcgen05) {
    b.use(L, sm, Unit::kSmem, m_exec * bn * e, srate, [&] { return "P written to SMEM for the second warpgroup"; });
  }
  const int pv = b.op(L, "pv", 2, c.p.latency.tensor_mma.value);
  if (kv_on_m == 0) {
    b.use(L, pv, Unit::kTensor, 2.0 * m_exec * dv_cta * bn, trate, [&] { return "2*" + num(m_exec) + "*" + num(dv_cta) + "*" + num(bn) + " FLOP"; });
    const double p_read = path == TensorPath::kTcgen05 ? 0.0 : m_exec * bn * e;
    b.use(L, pv, Unit::kSmem, bn * dv_cta * e + p_read, srate,
          [&] { return "V from SMEM" + std::string(p_read > 0 ? " + P read back by the second warpgroup" : ""); });
  } else {
    b.use(L, pv, Unit::kTensor, 2.0 * dv * n_exec * bn, trate, [&] { return "2*" + num(dv) + "*" + num(n_exec) + "*" + num(bn) + " FLOP (O^T = V^T P^T)"; });
    // Every m64 tile of V^T (dv / 64 of them over the two warpgroups) reads all of P^T.
    const double pt_reads = dv / kWgmmaM * bn * n_exec * e;
    b.use(L, pv, Unit::kSmem, bn * dv * e + pt_reads, srate, [&] {
      return "V^T from SMEM (transposed A) + P^T (B) read by each of the " + num(dv / kWgmmaM) + " m64 tiles";
    });
  }
  if (chain && kv_on_m) {  // KV on M: the PV part's own issue stream (O^T rescale, 16 wgmmas)
    // Both warpgroups run it; its O^T rescale is charged with the softmax op above.
    const double pv_rest = kc.pv_issue * kConsumers * kWarpgroupThreads - rescale_ops;
    if (pv_rest > 0.0)
      b.use(L, pv, Unit::kIssue, pv_rest, kIssueThreadOpsPerClkPerSm, [&] {
        return num(kc.pv_issue) + " PV-part instructions per thread in both warpgroups (SASS), less the rescale above";
      });
    Op& o = (*L)[pv];
    o.chain_cycles = kc.pv_issue * cpi;
    if (c.detailed) o.chain_what = num(kc.pv_issue) + " instructions per thread (O^T rescale, 16 wgmma issues) x " + num(cpi) + " cycles";
  }
  b.dep(L, qk, ld, 0, DepKind::kDone, "kv_full");
  b.dep(L, qk, sm, 1, DepKind::kDone);  // S buffer reused once softmax(i-1) read it
  // The softmax warpgroup finishes its PV half (wgmma wait) before it issues the next S.
  if (path != TensorPath::kTcgen05) b.dep(L, qk, pv, 1, DepKind::kDone, "pv half in the softmax warpgroup");
  b.dep(L, sm, qk, 0, DepKind::kDone);
  b.dep(L, sm, sm, 1, DepKind::kDone);
  b.dep(L, pv, sm, 0, DepKind::kDone, "p_full");
  b.dep(L, pv, pv, 1, DepKind::kAfter);
  b.dep(L, ld, pv, stages, DepKind::kDone, "kv_empty");
  d.rings.push_back(Ring{"kv", stages, {ld}, {pv}, bn * dq * e});

  auto* E = &d.epilogue;
  const int ep = b.op(E, "epilogue", 2, c.p.latency.hbm.value);
  const double real_rows = static_cast<double>(rows_cta);
  b.use(E, ep, Unit::kFma, real_rows * dv_cta, c.p.per_sm.fp32_fma.value * c.k.epilogue_efficiency);
  b.store_uses(E, ep, real_rows * (splits > 1 ? (dv_cta + 1) * kPartialBytesPerValue : dv_cta * c.obytes()), c.k.epilogue_efficiency);
  // What a work item costs beyond the ops above, a fitted constant: on the training shapes
  // the per-iteration chain alone made the short items too fast and the long ones (which
  // stream KV at the HBM rate) too slow.
  Op& eo = (*E)[ep];
  eo.chain_cycles = c.k.mla_item_chain_cycles;
  if (c.detailed) eo.chain_what = "per-item cost outside the loop (mla_item_chain_cycles, fitted)";
  add_combine(c, d, rows_total, splits);
  d.useful_flops = useful_flops(p);
  if (pair == 2)
    b.desc_note([] { return "tcgen05 heads-on-M: a 2-CTA pair splits O's 512 columns (TMEM) and both CTAs compute S (assumption)"; });
  b.desc_note([&] { return "tensor path " + std::string(tensor_path_name(path)) + ": M granularity " + std::to_string(m_min) + ", N granularity " + std::to_string(n_gran); });
}

namespace {
// Split-KV rules shared by decode_splitkv and mla_decode.
const Constraint kPagingRule{"page size", "block_n and page_size divide one another",
                             "a KV block covers whole pages, or a page whole KV blocks",
                             [](const TileView& v) {
                               const int64_t page = v.prob.page_size, bn = v.i("block_n");
                               return page == 0 || bn % page == 0 || page % bn == 0;
                             }};
const Constraint kSplitRule{"too many splits", "each split has at least block_n KV rows (splits = 1 always fits)",
                            "a split runs whole KV blocks",
                            [](const TileView& v) {
                              return v.i("splits") == 1 || ceil_div(v.prob.seq_kv, v.i("splits")) >= v.i("block_n");
                            }};
}  // namespace

ScheduleSpec spec_decode_splitkv() {
  ScheduleSpec s;
  s.name = "decode_splitkv";
  s.summary = "flash-decoding: KV split across CTAs, combine pass, optional L2 prefetch, paged KV";
  s.kind = ProblemKind::kDecode;
  s.params = {{"block_n", ParamType::kInt, 16, 512, 16, "MMA K of PV", "KV rows per iteration", false, 0, {32, 64, 128, 256}},
              {"splits", ParamType::kInt, 1, 1024, 0, "", "KV splits per (batch, kv head)", false, 0, {1, 2, 4, 8, 16, 32, 64}},
              {"stages", ParamType::kInt, 1, 8, 0, "", "K/V buffers in flight", false, 0, {2, 3, 4}},
              {"l2_prefetch", ParamType::kFlag, 0, 1, 0, "", "prefetch the next KV blocks into L2", true, 0, {0, 1}}};
  s.constraints = {{"head dim", "head_dim and head_dim_v are multiples of 16", "MMA K of QK^T and PV is 16 elements",
                    [](const TileView& v) { return v.prob.head_dim % 16 == 0 && v.prob.head_dim_v % 16 == 0; }},
                   kPagingRule, kSplitRule};
  s.runtime_params = {"splits"};
  // kernels/attention/decode/decode_splitkv.cuh (SplitKvTraits' static_asserts).
  s.kernel_rules = {
      {"shape", "block_n is a multiple of 64", "4 warps split block_n into multiples of 16 rows (MMA k)",
       [](const TileView& v) { return v.i("block_n") % 64 == 0; }},
      {"shape", "stages >= 2", "at least a double buffer (static_assert)", [](const TileView& v) { return v.i("stages") >= 2; }},
      kHeadDim64Or128Rule,
      {"shape", "query heads per kv head x q_per_seq <= 32", "one or two 16-row MMA tiles of queries (m_tiles 1 or 2)",
       [](const TileView& v) { return (v.prob.heads_q / v.prob.heads_kv) * v.prob.q_per_seq <= 32; }},
      {"page size", "page_size is a power of two (or 0)", "the kernel indexes pages by shift (page_size_log2)",
       [](const TileView& v) { return v.prob.page_size == 0 || is_pow2(v.prob.page_size); }},
      kBf16Rule};
  s.build = build_decode_splitkv;
  auto& r = s.representative;
  r.kind = ProblemKind::kDecode;
  r.batch = 16;
  r.heads_q = 32;
  r.heads_kv = 8;
  r.seq_kv = 8192;
  r.head_dim = r.head_dim_v = 128;
  return s;
}

ScheduleSpec spec_mla_decode() {
  ScheduleSpec s;
  s.name = "mla_decode";
  s.summary = "FlashMLA-style MLA decode: query heads on the MMA M dimension, or (kv_on_m=1) KV rows on M";
  s.kind = ProblemKind::kMla;
  s.params = {{"block_n", ParamType::kInt, 16, 256, 16, "MMA N / K", "KV rows per iteration", false, 0, {32, 64, 128}},
              {"splits", ParamType::kInt, 1, 1024, 0, "", "KV splits per batch", false, 0, {1, 2, 4, 8, 16, 32, 64}},
              {"stages", ParamType::kInt, 1, 8, 0, "", "KV buffers in flight", false, 0, {2, 3}},
              {"kv_on_m", ParamType::kFlag, 0, 1, 0, "", "0 = heads on M (padded to the MMA's minimum M), 1 = KV rows on M", false, 0, {0, 1}},
              {"block_q", ParamType::kInt, 0, 256, 8, "MMA M (heads on M) / N (KV on M)",
               "query rows per CTA; 0 = the runner's pick: 64 on M, the smallest of 16/32/64 holding heads x q_per_seq on N",
               true, 0, {0, 16, 32, 64}}};
  s.constraints = {kPagingRule, kSplitRule};
  s.runtime_params = {"splits"};
  // kernels/attention/mla/ (MlaSmem's and MlaLauncher's static_asserts, mla_params.hpp).
  s.kernel_rules = {
      {"shape", "head_dim 576 and head_dim_v 512", "the latent row of DeepSeek's MLA (512 + 64 rope; V = first 512)",
       [](const TileView& v) { return v.prob.head_dim == 576 && v.prob.head_dim_v == 512; }},
      {"page size", "page_size 64 = block_n", "one TMA page per ring slot",
       [](const TileView& v) { return v.prob.page_size == 64 && v.i("block_n") == 64; }},
      {"shape", "stages 2", "two 72 KB pages + 72 KB of Q fill the 227 KB of SMEM",
       [](const TileView& v) { return v.i("stages") == 2; }},
      {"shape", "block_q 64 (heads on M) or 16/32/64 (KV on M)", "compiled query-row blocks",
       [](const TileView& v) {
         const int q = v.i("block_q");
         return v.i("kv_on_m") ? (q == 0 || q == 16 || q == 32 || q == 64) : (q == 0 || q == 64);
       }},
      kBf16Rule};
  s.build = build_mla_decode;
  auto& r = s.representative;
  r.kind = ProblemKind::kMla;
  r.batch = 64;
  r.heads_q = 16;
  r.heads_kv = 1;
  r.seq_kv = 4096;
  r.head_dim = 576;
  r.head_dim_v = 512;
  return s;
}

}  // namespace tilesim::model::detail
