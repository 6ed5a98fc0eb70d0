// gemm_sm100: Blackwell GEMM. A TMA producer warp fills a `stages` ring; one MMA warp
// issues tcgen05.mma (A and B from SMEM) into a TMEM accumulator; an epilogue warpgroup
// drains TMEM (tcgen05.ld), converts, stages in SMEM and TMA-stores. cluster_m = 2 runs
// one MMA over a 2-CTA pair (cta_group::2): each CTA loads and holds half of B, so SMEM
// reads and L2 traffic for B halve. acc_stages = 2 double-buffers the accumulator so the
// epilogue of tile t overlaps the main loop of tile t+1. Persistent grid.
#include <algorithm>

#include "common.hpp"
#include "tma_box.hpp"

namespace tilesim::model::detail {

// tcgen05 runs at full rate only with 128 accumulator rows per SM; M = 64 (1-CTA) or
// M = 128 over a pair (64 per SM) use half the datapath (SemiAnalysis microbench-blackwell:
// M64 reaches about half of M128's FLOP/clk). Modelled as M padded to 128 per SM.
constexpr int kTcgenFullRateRowsPerSm = 128;

void build_gemm_sm100(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int cm = c.i("cluster_m"), cn = c.i("cluster_n"), raster = c.i("raster"), acc_stages = c.i("acc_stages");
  const double e = c.ebytes();
  const int pair = cm;  // 2 = cta_group::2

  Builder b(c, d);
  if (c.detailed) d.summary = std::string(pair == 2 ? "2-CTA" : "1-CTA") + " tcgen05 MMA (M=" + std::to_string(bm * pair) +
              ") into TMEM, TMA " + std::to_string(stages) + "-stage ring, " + std::to_string(acc_stages) +
              " TMEM accumulator(s), persistent";
  const int prod = b.role("producer", RoleKind::kProducer, kWarpThreads, kGemmProducerRegisters);
  const int mma_role = b.role("mma", RoleKind::kMma, kWarpThreads, kGemmProducerRegisters);
  // The epilogue warpgroup loads TMEM in chunks of 32 columns per tcgen05.ld.
  constexpr int kTmemLoadColumns = 32;
  const int epi = b.role("epilogue", RoleKind::kEpilogue, kWarpgroupThreads,
                         kTmemLoadColumns + static_cast<int>(c.k.register_overhead_per_thread));
  const double a_tile = bm * bk * e, b_tile = (bn / pair) * bk * e;
  d.cta.smem_bytes = stages * (a_tile + b_tile) + bm * std::min(bn, 64) * c.obytes();
  d.cta.tmem_columns = acc_stages * bn;
  d.grid.scheduler = Scheduler::kPersistent;
  d.grid.cluster_size = cm * cn;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  const int64_t tiles_m = ceil_div(prob.m, bm), tiles_n = ceil_div(prob.n, bn), iters = ceil_div(prob.k, bk);
  d.grid.classes.push_back(WorkClass{"tile", tiles_m * tiles_n, iters});
  const int64_t concurrent = std::min<int64_t>(tiles_m * tiles_n, d.grid.resident_ctas());
  const GemmTraffic g = gemm_traffic(c, tiles_m, tiles_n, bm, bn, concurrent, raster, cn, pair);
  const double c_bytes = static_cast<double>(prob.m) * static_cast<double>(prob.n) * c.obytes();
  d.total_hbm_bytes = g.hbm_ab_bytes + c_bytes;
  d.total_l2_bytes = g.l2_ab_bytes + c_bytes;

  auto* L = &d.loop;
  // K-major A and B rows (their TMA requests are a no-op until a Blackwell profile has rates).
  // The loaded stage latency of the Hopper GEMMs (gemm_stage_latency) is fitted on Hopper runs
  // and no Blackwell GEMM is measured: a stage waits for its boxes' slowest rows instead, across
  // B200's die boundary (tma_box_latency_cycles).
  const double hbm_share = g.hbm_ab_bytes / g.l2_ab_bytes;
  const int ld = b.gemm_operand_load(L, "load_ab", prod, a_tile / cn + b_tile, g,
                                     static_cast<double>(bm) / cn + static_cast<double>(bn) / pair, bk * e);
  (*L)[ld].latency_cycles = tma_box_latency_cycles(c, hbm_share);
  b.note(L, ld, [&] {
    return "TMA A " + num(bm) + "x" + num(bk) + (cn > 1 ? " (multicast /2)" : "") + " + B " + num(bn / pair) + "x" +
           num(bk) + (pair > 1 ? " (this CTA's half of B)" : "") + "; latency " + num(tma_box_latency_cycles(c, hbm_share)) +
           " cycles: the boxes' slowest rows, across the die boundary (" + num(100.0 * std::clamp(hbm_share, 0.0, 1.0)) +
           "% from HBM)";
  });
  const int mma = b.op(L, "mma", mma_role, c.p.latency.tensor_mma.value);
  const int rows_exec = std::max(bm, kTcgenFullRateRowsPerSm);
  b.use(L, mma, Unit::kTensor, 2.0 * rows_exec * bn * bk, tensor_rate(c, TensorPath::kTcgen05), [&] {
    return "2*" + num(rows_exec) + "*" + num(bn) + "*" + num(bk) + " FLOP" +
           (rows_exec != bm ? " (M=64 runs at half rate: padded to 128)" : "");
  });
  b.use(L, mma, Unit::kSmem, a_tile + b_tile, c.p.per_sm.smem.value, [&] {
    return "A " + num(bm) + "x" + num(bk) + " + B " + num(bn / pair) + "x" + num(bk) + " read from SMEM" +
           (pair > 1 ? " (2-CTA: the pair reads each B half once)" : "");
  });
  b.dep(L, mma, ld, 0, DepKind::kDone, "full");
  b.dep(L, mma, mma, 1, DepKind::kAfter);
  b.dep(L, ld, mma, stages, DepKind::kDone, "empty (tcgen05.commit)");
  d.rings.push_back(Ring{"ab", stages, {ld}, {mma}, a_tile + b_tile});

  auto* E = &d.epilogue;
  const int ep = b.op(E, "epilogue", epi, c.p.latency.hbm.value);
  const double elems = static_cast<double>(bm) * bn, eff = c.k.epilogue_efficiency;
  b.use(E, ep, Unit::kCvt, elems * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff);
  b.use(E, ep, Unit::kSmem, elems * c.obytes(), c.p.per_sm.smem.value * eff);
  b.store_uses(E, ep, elems * c.obytes(), eff);
  d.prologue_overlaps_previous = true;
  d.epilogue_overlaps_next = acc_stages == 2;
  d.useful_flops = useful_flops(prob);
  b.desc_note([&] { return "L2 reuse: " + g.model; });
  b.desc_note([&] { return "TMEM bandwidth (tcgen05.ld of the accumulator) is not modelled"; });
}

ScheduleSpec spec_gemm_sm100() {
  ScheduleSpec s;
  s.name = "gemm_sm100";
  s.summary = "Blackwell tcgen05 MMA into TMEM (1-CTA or 2-CTA pair), TMA, epilogue warps, persistent";
  s.kind = ProblemKind::kGemm;
  s.params = {
      {"block_m", ParamType::kInt, 64, 128, 64, "tcgen05 M per CTA", "rows per CTA (MMA M = block_m, or 2*block_m for a 2-CTA pair)", false, 0, {64, 128}},
      {"block_n", ParamType::kInt, 16, kTcgenMaxN, 16, "tcgen05 N", "CTA tile columns", false, 0, {64, 128, 192, 256}},
      {"block_k", ParamType::kInt, 8, 256, 8, "", "K per stage", false, 0, {64, 128}},
      {"stages", ParamType::kInt, 2, 16, 0, "", "SMEM ring slots", false, 0, {3, 4, 5, 6, 8}},
      {"cluster_m", ParamType::kInt, 1, 2, 0, "", "2 = 2-CTA MMA pair along M (cta_group::2)", false, 0, {1, 2}},
      {"cluster_n", ParamType::kInt, 1, 2, 0, "", "CTAs per cluster along N (A multicast)", false, 0, {1, 2}},
      {"raster", ParamType::kInt, 1, 64, 0, "", "swizzle group of the tile scheduler; 1 = row-major", true, 1, {1, 8}},
      {"acc_stages", ParamType::kInt, 1, 2, 0, "", "TMEM accumulator buffers (2 = epilogue overlaps the next tile)", true, 2, {1, 2}}};
  s.constraints = {
      {"shape", "block_k x element bytes is 64, 128, 192 or 256 bytes", "tcgen05 K = 32 bytes; TMA swizzle rows of 64..256 bytes",
       [](const TileView& v) { return row_bytes_ok(v.i("block_k"), dtype_bytes(v.prob.dtype)); }},
      {"cluster", "cluster_m = 2 needs features.two_cta_mma", "the pair issues one cta_group::2 MMA",
       [](const TileView& v) { return v.i("cluster_m") == 1 || v.p.flag(v.p.features.two_cta_mma); }},
      {"cluster", "cluster_m x cluster_n <= features.max_cluster_size", "the chip's largest portable cluster",
       [](const TileView& v) { return v.i("cluster_m") * v.i("cluster_n") <= v.p.features.max_cluster_size.value; }}};
  s.features = {{Feature::kTcgen05, "tcgen05.mma is sm_100a+"}, {Feature::kTma, "operands are loaded with TMA"}};
  s.build = build_gemm_sm100;
  s.representative.kind = ProblemKind::kGemm;
  s.representative.m = s.representative.n = s.representative.k = 4096;
  return s;
}

}  // namespace tilesim::model::detail
