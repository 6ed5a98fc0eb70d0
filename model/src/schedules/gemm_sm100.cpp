// gemm_sm100: Blackwell GEMM. A TMA producer warp fills a `stages` ring; one MMA warp
// issues tcgen05.mma (A and B from SMEM) into a TMEM accumulator; an epilogue warpgroup
// drains TMEM (tcgen05.ld), converts, stages in SMEM and TMA-stores. cluster_m = 2 runs
// one MMA over a 2-CTA pair (cta_group::2): each CTA loads and holds half of B, so SMEM
// reads and L2 traffic for B halve. acc_stages = 2 double-buffers the accumulator so the
// epilogue of tile t overlaps the main loop of tile t+1. Persistent grid.
#include "common.hpp"

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
  const int k_instr = static_cast<int>(32.0 / e);
  if (bm != 64 && bm != 128) throw Infeasible("shape", "block_m must be 64 or 128 (tcgen05 M per CTA)");
  if (bn < 16 || bn > kTcgenMaxN || bn % 16 != 0) throw Infeasible("shape", "block_n must be a multiple of 16 in 16..256");
  if (bk <= 0 || bk % k_instr != 0 || static_cast<int>(bk * e) % 64 != 0 || bk * e > 256)
    throw Infeasible("shape", "block_k must be a multiple of " + std::to_string(k_instr) + " with 64..256-byte rows");
  if (stages < 2 || stages > 16) throw Infeasible("shape", "stages must be 2..16");
  if ((cm != 1 && cm != 2) || (cn != 1 && cn != 2)) throw Infeasible("shape", "cluster_m and cluster_n must be 1 or 2");
  if (cm == 2 && !c.p.flag(c.p.features.two_cta_mma)) throw Infeasible("cluster", "cluster_m=2 needs two_cta_mma");
  if (cm * cn > c.p.features.max_cluster_size.value) throw Infeasible("cluster", "cluster larger than max_cluster_size");
  if (acc_stages != 1 && acc_stages != 2) throw Infeasible("shape", "acc_stages must be 1 or 2");
  if (raster < 1) throw Infeasible("shape", "raster must be >= 1");
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
  const int ld = b.load(L, "load_ab", prod, a_tile / cn + b_tile, g.hbm_ab_bytes / g.l2_ab_bytes);
  b.note(L, ld, [&] {
    return "TMA A " + num(bm) + "x" + num(bk) + (cn > 1 ? " (multicast /2)" : "") + " + B " + num(bn / pair) + "x" +
           num(bk) + (pair > 1 ? " (this CTA's half of B)" : "");
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

}  // namespace tilesim::model::detail
