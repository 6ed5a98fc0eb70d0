// gemm_sm90_fp8: Hopper warp-specialized persistent GEMM with fine-grained scaled e4m3
// inputs (DeepSeek-V3 recipe, DeepGEMM style): A scaled per row per 128-wide K group, B per
// 128x128 block; C in bf16. Same roles as gemm_sm90_ws (TMA producer, 1..3 wgmma consumer
// warpgroups, persistent grid in raster groups, 2-CTA multicast), plus per K group:
//   - the producer also loads the group's row scales of A (block_m fp32) with the stage;
//   - each consumer issues its wgmmas into a fresh accumulator set (with mma_order the
//     consumers issue in turn, consumer 0 first, handing on by a named barrier: 1 right after
//     the issue, 2 when the first K half of the group is done), waits for them
//     (wgmma.wait_group 0: the next group's wgmmas overwrite that set), then PROMOTES on the
//     CUDA cores: sum += tile * scale_a[row] * scale_b[block], one FFMA per accumulator,
//     because Hopper's fp8 tensor cores accumulate with limited precision. A consumer
//     promotes while the other consumers' wgmmas run, slowly (the H200 stage trace: ~4.7
//     cycles per FFMA beside them); with promote_overlap = 1
//     a consumer alternates two wgmma accumulator sets and promotes group g while its own
//     group g+1 runs (wgmma.wait_group 1).
// split_k splits a tile's K groups over work items as gemm_sm90_ws does (fp32 partials of
// the promoted sums, then a reduce pass).
// The kernel is kernels/gemm/gemm_sm90_fp8.cuh.
#include <algorithm>

#include "common.hpp"

namespace tilesim::model::detail {

namespace {
// Structural counts of the kernel's promotion (kernels/gemm/gemm_sm90_fp8.cuh), per K
// group and consumer thread:
constexpr int kFp8ScaleGroup = 128;          // K (and B's N) extent of one scale factor
constexpr double kPromoteFfmaPerAcc = 1.0;   // sum = fma(tile, scale, sum)
// Combined scales scale_a[row] * scale_b[block]: 2 rows x 2 column blocks per m64 block.
constexpr double kPromoteFmulPerMmaBlock = 4.0;
// Per group and thread: 2 LDS (row scales) and 2 LDG (next group's B scales).
constexpr double kPromoteLoadsPerMmaBlock = 2.0;
constexpr double kPromoteScaleLoadsB = 2.0;
constexpr double kScaleBytes = 4.0;          // fp32 scales
// Registers a consumer needs besides its accumulator sets (the kernel's
// kConsumerOverheadRegs static_assert margin: the 3-consumer 192x128 tile, 128 accumulator
// registers, compiles in 160 without spills).
constexpr int kFp8ConsumerOverheadRegs = 32;
// The producer's registers after setmaxnreg.dec (gemm_sm90_fp8.cuh Fp8Config::kProducerRegs):
// 40 as gemm_sm90_ws, the PTX minimum of 24 with three consumers (its TMA issue loop fits).
constexpr int kFp8ProducerRegsThreeConsumers = 24;
int fp8_producer_regs(int consumers) {
  return consumers > 2 ? kFp8ProducerRegsThreeConsumers : kGemmProducerRegisters;
}
// The consumer register budget after setmaxnreg (gemm_sm90_common.cuh consumer_regs):
// (64K registers / 128 - producer registers) / consumers, rounded down to 8, at most
// 240; one consumer (256 threads) keeps the 255 a thread can address.
constexpr int kRegsPerSm = 65536, kMaxConsumerRegs = 240, kMaxThreadRegs = 255;
int fp8_consumer_regs(int consumers) {
  if (consumers <= 1) return kMaxThreadRegs;
  return std::min(kMaxConsumerRegs,
                  ((kRegsPerSm / kWarpgroupThreads - fp8_producer_regs(consumers)) / consumers) / 8 * 8);
}
int fp8_acc_per_set(int block_m, int block_n, int consumers) {
  return block_m / consumers / kWgmmaM * block_n / 2;
}

// The promotion work of one consumer warpgroup per K group (FMA-pipe and issued thread
// ops, and the per-thread instruction count of its warps' chain).
struct Fp8Promotion {
  double ffma = 0, fmul = 0, loads = 0;
  double per_thread() const { return (ffma + fmul + loads) / kWarpgroupThreads; }
};
Fp8Promotion fp8_promotion(int rows, int block_n) {
  Fp8Promotion w;
  const double mma_blocks = rows / kWgmmaM;
  w.ffma = kPromoteFfmaPerAcc * rows * block_n;
  w.fmul = kPromoteFmulPerMmaBlock * mma_blocks * kWarpgroupThreads;
  w.loads = (kPromoteLoadsPerMmaBlock * mma_blocks + kPromoteScaleLoadsB) * kWarpgroupThreads;
  return w;
}
}  // namespace

void build_gemm_sm90_fp8(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int consumers = c.i("consumers"), cm = c.i("cluster_m"), cn = c.i("cluster_n"), raster = c.i("raster");
  const bool ordered = c.i("mma_order") != 0;
  const bool turn_after_half = c.i("mma_order") == 2;
  const bool overlap = c.i("promote_overlap") != 0;
  const int tile_sets = overlap ? 2 : 1;  // wgmma accumulator sets per consumer
  const double e = c.ebytes();
  const int k_instr = static_cast<int>(32.0 / e);  // wgmma K = 32 for 8-bit inputs
  const int rm = bm / consumers;

  Builder b(c, d);
  if (c.detailed)
    d.summary = "TMA producer + " + std::to_string(consumers) + " wgmma consumer WG(s) with per-" +
                std::to_string(bk) + "-K FFMA promotion, " + std::to_string(stages) + "-stage ring, persistent, cluster " +
                std::to_string(cm) + "x" + std::to_string(cn);
  // wgmma tile set(s) + promoted sum
  const int acc_regs = (tile_sets + 1) * fp8_acc_per_set(bm, bn, consumers);
  const int prod = b.role("producer", RoleKind::kProducer, kWarpgroupThreads, fp8_producer_regs(consumers));
  std::vector<int> cons;
  for (int w = 0; w < consumers; ++w)
    cons.push_back(b.role("consumer" + std::to_string(w), RoleKind::kConsumer, kWarpgroupThreads,
                          acc_regs + static_cast<int>(c.k.register_overhead_per_thread)));

  const int64_t tiles_m = ceil_div(prob.m, bm), tiles_n = ceil_div(prob.n, bn);
  const int64_t k_groups = ceil_div(prob.k, bk);
  const int split_k = effective_split_k(k_groups, c.i("split_k"));
  const double a_tile = bm * bk * e, b_tile = bn * bk * e, sfa_tile = bm * kScaleBytes;
  d.cta.smem_bytes = stages * (a_tile + b_tile + sfa_tile) + bm * std::min(bn, 64) * c.obytes();
  d.grid.scheduler = Scheduler::kPersistent;
  d.grid.cluster_size = cm * cn;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  // Split-K as gemm_sm90_ws: each split promotes its own K groups into an fp32 partial.
  const int64_t concurrent = add_cluster_tile_grid(d, tiles_m, tiles_n, cm, cn, split_k, ceil_div(k_groups, split_k));
  const GemmTraffic g = gemm_traffic(c, tiles_m, tiles_n, bm, bn, concurrent, raster, cn, cm);
  const double mn = static_cast<double>(prob.m) * static_cast<double>(prob.n);
  const double out_bytes = add_split_k_reduce(c, d, mn, split_k);  // per C element per item
  const double c_bytes = mn * out_bytes * split_k;
  // Scale tensors: read once from HBM; every tile reads its rows' A scales (with the stage)
  // and one or two B scales per group (L1-cached across the CTA's warps).
  const double groups = static_cast<double>(k_groups), tiles = static_cast<double>(tiles_m * tiles_n);
  const double scale_hbm =
      (static_cast<double>(prob.m) + static_cast<double>(ceil_div(prob.n, kFp8ScaleGroup))) * groups * kScaleBytes;
  const double scale_l2 = tiles * groups * (sfa_tile + kPromoteScaleLoadsB * kScaleBytes);
  d.total_hbm_bytes = g.hbm_ab_bytes + c_bytes + scale_hbm;
  d.total_l2_bytes = g.l2_ab_bytes + c_bytes + scale_l2;

  // --- main loop: one iteration = one 128-wide K group --------------------------------
  auto* L = &d.loop;
  const double load_bytes = a_tile / cn + b_tile / cm + sfa_tile;
  // A is M x K and B is N x K, K-major; the A-scale row (bm x 4 B per group) counts as
  // bytes, not as TMA rows.
  const int ld = b.gemm_operand_load(L, "load_ab_sfa", prod, load_bytes, g,
                                     static_cast<double>(bm) / cn + static_cast<double>(bn) / cm, bk * e);
  b.cluster_barriers(cm * cn, prod);  // before the first stage, which waits for them
  b.gemm_stage_latency(L, ld, g);
  b.note(L, ld, [&] {
    return "TMA A " + num(bm) + "x" + num(bk) + " /" + num(cn) + " (multicast) + B " + num(bn) + "x" + num(bk) + " /" +
           num(cm) + " x " + num(e) + " B + A scales " + num(bm) + " x 4 B";
  });
  const double trate = tensor_rate(c, TensorPath::kWgmma), srate = c.p.per_sm.smem.value;
  // One warp's FMA-pipe instruction holds its sub-partition's FMA lanes this long.
  const double fma_warp_cycles = kWarpThreads / (c.p.per_sm.fp32_fma.value / kSubPartitionsPerSm);
  const Fp8Promotion pw = fp8_promotion(rm, bn);
  std::vector<int> mma, promote;  // per consumer: the group's last wgmma op, the promotion
  const double flops = 2.0 * rm * bn * bk;  // one consumer's wgmma work per K group
  // The consumers' in-flight wgmmas share the tensor pipe (shared_pipe_wgmma_wait_cycles):
  // each consumer promotes after all consumers' MMAs of the group. This holds with mma_order
  // too: issuing in turn does not make one consumer's wgmmas finish first (ncu, 8192^3 train
  // shape, H100, 128x192 cl2x1: tensor pipe active 63.7% unordered, 54.1% ordered; a
  // first-in-first-out pipe would have made the ordered kernel tensor-bound).
  // mma_order = 2 commits a consumer's group in two K halves and hands the turn on when the
  // first is done: each half is an op, and the consumers' concurrent work is one half at a
  // time.
  const int parts = turn_after_half ? 2 : 1;
  const double part_flops = flops / parts;
  const double mma_wait_cycles = shared_pipe_wgmma_wait_cycles(c, consumers, part_flops / trate);
  std::vector<int> first_part;
  for (int w = 0; w < consumers; ++w) {
    std::vector<int> part;
    for (int h = 0; h < parts; ++h) {
      const std::string name = "mma.wg" + std::to_string(w) + (parts > 1 ? ".h" + std::to_string(h) : "");
      const int id = b.op(L, name, cons[w], mma_wait_cycles);
      b.use(L, id, Unit::kTensor, part_flops, trate, [&] {
        return "2*" + num(rm) + "*" + num(bn) + "*" + num(bk / parts) + " FLOP (" +
               num(rm / kWgmmaM * (bk / parts / k_instr)) + " x wgmma m64n" + num(bn) + "k" + num(k_instr) + " e4m3)";
      });
      b.use(L, id, Unit::kSmem, wgmma_ss_smem_bytes(rm, bn, bk / parts, e), srate, [&] {
        return "A " + num(rm) + "x" + num(bk / parts) + " + B " + num(bn) + "x" + num(bk / parts) + " x " +
               num(rm / kWgmmaM) + " read from SMEM x " + num(e) + " B (each m64 wgmma reads all of B)";
      });
      // The loop around the wgmmas (the bf16 kernel's SASS counts: see common.hpp), split over
      // the group's parts.
      const double wgmmas = static_cast<double>(rm / kWgmmaM) * (bk / parts / k_instr);
      const double loop = wgmma_k_step_instructions(wgmmas * parts, bn) / parts;
      b.use(L, id, Unit::kIssue, loop * kWarpgroupThreads, kIssueThreadOpsPerClkPerSm, [&] {
        return num(loop) + " instructions per thread (" + num(wgmmas) + " wgmma + descriptors, barriers, loop; the bf16 "
               "kernel's SASS counts)";
      });
      if (h == 0) {
        b.dep(L, id, ld, 0, DepKind::kDone, "full");
      } else {
        b.dep(L, id, part[h - 1], 0, DepKind::kIssue);  // issued right after the first half
      }
      part.push_back(id);
    }
    first_part.push_back(part.front());
    mma.push_back(part.back());  // the group's last wgmmas: the wait and the stage release

    const int pr = b.op(L, "promote.wg" + std::to_string(w), cons[w], c.p.latency.fma.value);
    add_fma_pass(b, c, L, pr, pw.ffma + pw.fmul, 1.0, [&] {
      return num(rm) + "x" + num(bn) + " FFMA (sum += tile * scale_a * scale_b) + " + num(pw.fmul) +
             " FMUL (combined scales)";
    });
    b.use(L, pr, Unit::kIssue, pw.loads, kIssueThreadOpsPerClkPerSm,
          [&] { return num(pw.loads / kWarpgroupThreads) + " scale loads per thread (LDS scale_a, LDG scale_b)"; });
    Op& o = (*L)[pr];
    o.chain_cycles = pw.per_thread() * fma_warp_cycles;
    if (c.detailed)
      o.chain_what = num(pw.per_thread()) + " instructions per thread (" + num(pw.ffma / kWarpgroupThreads) + " FFMA + " +
                     num(pw.fmul / kWarpgroupThreads) + " FMUL + " + num(pw.loads / kWarpgroupThreads) + " loads) x " +
                     num(fma_warp_cycles) + " cycles per warp FMA instruction";
    // The promotion reads this group's accumulators: after wgmma.wait_group 0.
    b.dep(L, pr, part.back(), 0, DepKind::kDone, "wgmma.wait_group 0");
    // A group's wgmmas overwrite the accumulator set that the promotion `tile_sets` groups
    // earlier reads.
    b.dep(L, part.front(), pr, tile_sets, DepKind::kDone);
    promote.push_back(pr);
  }
  // Measured (stage trace, H200, 2026-11-29): a 128x192 fp8 K step takes 1042-1062 SM
  // cycles where the same tile's bf16 K step, the same bytes per stage, takes 799
  // (data/measurements/gemm/2026-11-29_h200_stage_trace_pair_*); each stage is loaded before
  // consumer 0 asks for it; the consumers run ~300 cycles apart and each promotes beside the
  // other's wgmmas at ~4.7 cycles per FFMA (data/measurements/logs/2026-11-29_h200_fp8_*).
  // Without turns each consumer's own MMA -> promotion cycle, at the shared pipe's latency,
  // carries that. With turns the next group also waits for the other consumers' promotions
  // (measured 1148-1158 cycles per step with mma_order 2, slower than without; the turn
  // edges alone made it faster). The simulator charges the pipe more here
  // (tests/sim/test_agreement.cpp).
  if (ordered)
    for (int w = 0; w < consumers; ++w)
      for (int v = 0; v < consumers; ++v)
        if (v != w) b.dep(L, first_part[w], promote[v], tile_sets, DepKind::kDone);
  // mma_order 1: consumer w issues group i after consumer w-1 issued it, consumer 0 after the
  // last consumer issued group i-1 (issue order on the shared tensor pipe). mma_order 2: after
  // the previous consumer's first half of the group is done.
  if (ordered && consumers > 1) {
    const DepKind turn = turn_after_half ? DepKind::kDone : DepKind::kIssue;
    for (int w = 1; w < consumers; ++w) b.dep(L, first_part[w], first_part[w - 1], 0, turn, "mma turn");
    b.dep(L, first_part[0], first_part[consumers - 1], 1, turn, "mma turn");
  }
  // The stage is released after the wait, before the promotion.
  for (int id : mma) b.dep(L, ld, id, stages, DepKind::kDone, "empty");
  d.rings.push_back(Ring{"ab", stages, {ld}, mma, a_tile + b_tile + sfa_tile});

  // --- epilogue: per consumer, convert, stage through SMEM, TMA store -------------------
  auto* E = &d.epilogue;
  for (int w = 0; w < consumers; ++w) {
    const int id = b.op(E, "epilogue.wg" + std::to_string(w), cons[w], c.p.latency.hbm.value);
    const double elems = static_cast<double>(rm) * bn, eff = c.k.epilogue_efficiency;
    if (split_k == 1)  // fp32 partials are stored as they are, without conversion
      b.use(E, id, Unit::kCvt, elems * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff,
            [&] { return num(elems) + " values / 2 per cvt"; });
    b.use(E, id, Unit::kSmem, elems * out_bytes, srate * eff,
          [&] { return num(elems) + " x " + num(out_bytes) + " B staged"; });
    b.store_uses(E, id, elems * out_bytes, eff, consumers);
  }
  d.prologue_overlaps_previous = true;  // producer fills the next tile's stages during the epilogue
  d.epilogue_overlaps_next = false;     // cooperative consumers store before the next tile
  d.useful_flops = useful_flops(prob);
  b.desc_note([&] { return "L2 reuse: " + g.model; });
  b.desc_note([&] {
    return "promotion per 128-K group: " + num(pw.ffma * consumers) + " FFMA per CTA (one per accumulator) on the "
           "consumers' FMA pipe; the wgmma.wait_group 0 before it serializes a warpgroup's MMA and promotion, "
           "and with turns a consumer's next group waits for every consumer's promotion";
  });
}

ScheduleSpec spec_gemm_sm90_fp8() {
  ScheduleSpec s;
  s.name = "gemm_sm90_fp8";
  s.summary = "Hopper block-scaled fp8 (e4m3) GEMM: TMA producer + wgmma consumers, FFMA promotion per 128-K group";
  s.kind = ProblemKind::kGemm;
  s.params = {
      {"block_m", ParamType::kInt, 64, 256, 64, "wgmma M = 64 per warpgroup", "CTA tile rows, block_m/consumers per consumer warpgroup", false, 0, {64, 128, 256}},
      {"block_n", ParamType::kInt, 64, 256, 64, "epilogue 64-column sub-tiles", "CTA tile columns", false, 0, {64, 128, 192}},
      {"block_k", ParamType::kInt, 128, 128, 0, "one 128-wide scale group per stage", "K per stage", true, 128, {128}},
      {"stages", ParamType::kInt, 2, 16, 0, "", "SMEM ring slots (A+B tiles + A scales)", false, 0, {3, 4, 5, 6, 8}},
      {"consumers", ParamType::kInt, 1, 3, 0, "", "consumer warpgroups", false, 0, {1, 2}},
      {"cluster_m", ParamType::kInt, 1, 2, 0, "", "CTAs per cluster along M (B multicast)", true, 1, {1, 2}},
      {"cluster_n", ParamType::kInt, 1, 2, 0, "", "CTAs per cluster along N (A multicast)", true, 1, {1}},
      {"raster", ParamType::kInt, 1, 64, 0, "", "swizzle group (tile-rows) of the tile scheduler; 1 = row-major", true, 8, {8}},
      {"mma_order", ParamType::kInt, 0, 2, 0, "", "1: consumers issue each K group's wgmmas in turn (named barrier, handed on after the issue); 2: handed on when the first half of the group's wgmmas is done, so one consumer promotes while the next one's wgmmas run", true, 0, {0, 2}},
      {"promote_overlap", ParamType::kInt, 0, 1, 0, "", "1: two wgmma accumulator sets alternate, group g is promoted while g+1 runs (wait_group 1)", true, 0, {0, 1}},
      {"split_k", ParamType::kInt, 1, 16, 0, "", "K groups split across CTAs into fp32 partials of the promoted sums, summed by a reduce pass; 1 = none", true, 1, {1, 4}}};
  s.constraints = {
      {"dtype", "dtype is fp8", "block-scaled e4m3 inputs (the bf16 GEMM is gemm_sm90_ws)",
       [](const TileView& v) { return v.prob.dtype == Dtype::kFp8; }},
      {"shape", "block_m is a multiple of 64 x consumers", "wgmma M = 64 rows per consumer warpgroup",
       [](const TileView& v) { return v.i("block_m") % (kWgmmaM * v.i("consumers")) == 0; }},
      {"shape", "block_m / consumers <= 128", "a consumer warpgroup keeps at most two m64 accumulator blocks",
       [](const TileView& v) { return v.i("block_m") / v.i("consumers") <= 2 * kWgmmaM; }},
      {"shape", "block_k == 128", "a stage is one 128-wide scale group (one 128-byte e4m3 swizzle row)",
       [](const TileView& v) { return v.i("block_k") == kFp8ScaleGroup; }},
      {"registers", "(2 + promote_overlap) x (block_m / consumers / 64) x block_n / 2 + 32 <= consumer registers",
       "fp32 accumulator sets (wgmma tile(s) + promoted sum) per consumer thread; setmaxnreg gives 232 (2 consumers), "
       "160 (3, with a 24-register producer), 255 (1)",
       [](const TileView& v) {
         const int c = v.i("consumers"), sets = 2 + v.i("promote_overlap");
         return sets * fp8_acc_per_set(v.i("block_m"), v.i("block_n"), c) + kFp8ConsumerOverheadRegs <= fp8_consumer_regs(c);
       }},
      {"shape", "mma_order and promote_overlap are not both set", "the kernel implements them as alternatives",
       [](const TileView& v) { return v.i("mma_order") == 0 || v.i("promote_overlap") == 0; }},
      {"shape", "mma_order > 0 needs consumers >= 2", "the turn passes between consumer warpgroups",
       [](const TileView& v) { return v.i("mma_order") == 0 || v.i("consumers") >= 2; }},
      {"cluster", "cluster_m x cluster_n <= 2 and a cluster > 1 needs features.tma_multicast",
       "the kernel's multicast handles clusters of 1 or 2 CTAs",
       [](const TileView& v) {
         const int cl = v.i("cluster_m") * v.i("cluster_n");
         return cl <= 2 && (cl == 1 || v.p.flag(v.p.features.tma_multicast));
       }}};
  s.features = {{Feature::kWgmma, "PTX wgmma.mma_async (e4m3) is sm_90a-only"},
                {Feature::kTma, "the producer warpgroup loads A, B and A's scales with TMA"}};
  // kernels/gemm/gemm_sm90_fp8.cuh (Fp8Config's static_asserts).
  s.kernel_rules = {
      {"shape", "block_n <= 256", "wgmma N and TMA box rows",
       [](const TileView& v) { return v.i("block_n") <= 256; }}};
  s.build = build_gemm_sm90_fp8;
  s.representative.kind = ProblemKind::kGemm;
  s.representative.m = s.representative.n = s.representative.k = 4096;
  s.representative.dtype = Dtype::kFp8;
  return s;
}

}  // namespace tilesim::model::detail
