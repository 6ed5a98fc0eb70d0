// gemm_sm90_ws: Hopper warp-specialized persistent GEMM (CUTLASS "cooperative" style).
//   producer warpgroup: one warp issues TMA for the A (block_m x block_k) and B
//     (block_n x block_k) tiles of each K step into a ring of `stages` SMEM slots;
//     with a cluster, A is multicast to the cluster_n CTAs that share it, B to cluster_m.
//   consumers (1..3 warpgroups): each owns block_m/consumers rows of the C tile and
//     issues wgmma m64nNk16 (A and B from SMEM), accumulating in registers; then the
//     epilogue (convert, stage through SMEM, TMA store). Persistent grid, tiles in
//     swizzle groups of `raster` tile-rows.
#include "common.hpp"

namespace tilesim::model::detail {

constexpr double kSplitKPartialBytes = 4.0;  // split-K partial C tiles are fp32

void build_gemm_sm90_ws(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int consumers = c.i("consumers"), cm = c.i("cluster_m"), cn = c.i("cluster_n"), raster = c.i("raster");
  const int split_k = c.i("split_k");
  const double e = c.ebytes();
  const int k_instr = static_cast<int>(32.0 / e);  // wgmma K: 16 for 16-bit, 32 for fp8, 8 for tf32
  if (consumers < 1 || consumers > 3) throw Infeasible("shape", "consumers must be 1..3");
  if (bm <= 0 || bm % (kWgmmaM * consumers) != 0)
    throw Infeasible("shape", "block_m must be a multiple of 64 x consumers (wgmma M = 64 per warpgroup)");
  const int rm = bm / consumers;
  if (rm > 2 * kWgmmaM) throw Infeasible("shape", "block_m/consumers must be 64 or 128");
  if (bn < 8 || bn > kWgmmaMaxN || bn % 8 != 0) throw Infeasible("shape", "block_n must be a multiple of 8 in 8..256 (wgmma N)");
  if (bk <= 0 || bk % k_instr != 0 || static_cast<int>(bk * e) % 64 != 0 || bk * e > 256)
    throw Infeasible("shape", "block_k must be a multiple of " + std::to_string(k_instr) +
                                  " with 64..256-byte rows (wgmma K, TMA swizzle)");
  if (stages < 2 || stages > 16) throw Infeasible("shape", "stages must be 2..16");
  if (cm < 1 || cn < 1 || cm > 4 || cn > 4 || (cm & (cm - 1)) != 0 || (cn & (cn - 1)) != 0)
    throw Infeasible("shape", "cluster_m and cluster_n must be 1, 2 or 4");
  if (cm * cn > c.p.features.max_cluster_size.value) throw Infeasible("cluster", "cluster larger than max_cluster_size");
  if (cm * cn > 1 && !c.p.flag(c.p.features.tma_multicast)) throw Infeasible("cluster", "clusters need TMA multicast");
  if (raster < 1) throw Infeasible("shape", "raster must be >= 1");
  if (split_k < 1 || split_k > 16) throw Infeasible("shape", "split_k must be 1..16");

  Builder b(c, d);
  if (c.detailed) d.summary = "TMA producer + " + std::to_string(consumers) + " wgmma consumer WG(s), " + std::to_string(stages) +
              "-stage ring, persistent, cluster " + std::to_string(cm) + "x" + std::to_string(cn);
  const int acc_regs = rm * bn / kWarpgroupThreads;  // fp32 accumulators per consumer thread
  const int prod = b.role("producer", RoleKind::kProducer, kWarpgroupThreads, kGemmProducerRegisters);
  std::vector<int> cons;
  for (int w = 0; w < consumers; ++w)
    cons.push_back(b.role("consumer" + std::to_string(w), RoleKind::kConsumer, kWarpgroupThreads,
                          acc_regs + static_cast<int>(c.k.register_overhead_per_thread)));

  const int64_t tiles_m = ceil_div(prob.m, bm), tiles_n = ceil_div(prob.n, bn);
  const int64_t k_steps = ceil_div(prob.k, bk);
  if (split_k > k_steps) throw Infeasible("shape", "split_k larger than the number of K steps");
  // Split-K: each output tile becomes split_k work items over K/split_k; each writes an
  // fp32 partial tile and a reduce pass sums them (read split_k partials, write C once).
  const int64_t iters = ceil_div(k_steps, split_k);
  const double a_tile = bm * bk * e, b_tile = bn * bk * e;
  d.cta.smem_bytes = stages * (a_tile + b_tile) + bm * std::min(bn, 64) * c.obytes();  // ring + epilogue subtile
  d.grid.scheduler = Scheduler::kPersistent;
  d.grid.cluster_size = cm * cn;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  d.grid.classes.push_back(WorkClass{"tile", tiles_m * tiles_n * split_k, iters});

  const int64_t concurrent = std::min<int64_t>(tiles_m * tiles_n * split_k, d.grid.resident_ctas());
  const GemmTraffic g = gemm_traffic(c, tiles_m, tiles_n, bm, bn, concurrent, raster, cn, cm);
  const double mn = static_cast<double>(prob.m) * static_cast<double>(prob.n);
  const double out_bytes = split_k > 1 ? kSplitKPartialBytes : c.obytes();  // per C element per item
  const double c_bytes = mn * out_bytes * split_k;
  if (split_k > 1) {
    d.post.name = "split-k reduce";
    d.post.hbm_bytes = mn * kSplitKPartialBytes * split_k + mn * c.obytes();
    d.post.launch_us = c.p.latency.kernel_launch_us.value;
  }
  d.total_hbm_bytes = g.hbm_ab_bytes + c_bytes;
  d.total_l2_bytes = g.l2_ab_bytes + c_bytes;
  const double hbm_frac = g.hbm_ab_bytes / g.l2_ab_bytes;

  // --- main loop ----------------------------------------------------------------------
  auto* L = &d.loop;
  const double load_bytes = a_tile / cn + b_tile / cm;
  const int ld = b.load(L, "load_ab", prod, load_bytes, hbm_frac);
  b.note(L, ld, [&] {
    return "TMA A " + num(bm) + "x" + num(bk) + " /" + num(cn) + " (multicast) + B " + num(bn) + "x" + num(bk) + " /" +
           num(cm) + " x " + num(e) + " B";
  });
  const double trate = tensor_rate(c, TensorPath::kWgmma), srate = c.p.per_sm.smem.value;
  std::vector<int> mma;
  for (int w = 0; w < consumers; ++w) {
    const int id = b.op(L, "mma.wg" + std::to_string(w), cons[w], c.p.latency.tensor_mma.value);
    const double flops = 2.0 * rm * bn * bk;
    b.use(L, id, Unit::kTensor, flops, trate, [&] {
      return "2*" + num(rm) + "*" + num(bn) + "*" + num(bk) + " FLOP (" + num(rm / kWgmmaM * (bk / k_instr)) +
             " x wgmma m64n" + num(bn) + "k" + num(k_instr) + ")";
    });
    b.use(L, id, Unit::kSmem, (rm + bn) * bk * e, srate, [&] {
      return "A " + num(rm) + "x" + num(bk) + " + B " + num(bn) + "x" + num(bk) + " read from SMEM x " + num(e) +
             " B (each warpgroup reads all of B)";
    });
    b.dep(L, id, ld, 0, DepKind::kDone, "full");
    b.dep(L, id, id, 1, DepKind::kAfter);  // accumulate chain, in order on the pipe
    mma.push_back(id);
  }
  for (int id : mma) b.dep(L, ld, id, stages, DepKind::kDone, "empty");
  d.rings.push_back(Ring{"ab", stages, {ld}, mma, a_tile + b_tile});

  // --- epilogue: per consumer, convert, stage through SMEM, TMA store -------------------
  auto* E = &d.epilogue;
  for (int w = 0; w < consumers; ++w) {
    const int id = b.op(E, "epilogue.wg" + std::to_string(w), cons[w], c.p.latency.hbm.value);
    const double elems = static_cast<double>(rm) * bn, eff = c.k.epilogue_efficiency;
    if (split_k == 1)  // fp32 partials are stored as they are, without conversion
      b.use(E, id, Unit::kCvt, elems * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff,
            [&] { return num(elems) + " values / 2 per cvt"; });
    b.use(E, id, Unit::kSmem, elems * out_bytes, srate * eff, [&] { return num(elems) + " x " + num(out_bytes) + " B staged"; });
    b.store_uses(E, id, elems * out_bytes, eff);
  }
  d.prologue_overlaps_previous = true;  // producer fills the next tile's stages during the epilogue
  d.epilogue_overlaps_next = false;     // cooperative consumers store before the next tile
  d.useful_flops = useful_flops(prob);
  b.desc_note([&] { return "L2 reuse: " + g.model; });
  b.desc_note([&] {
    return "wgmma reads A and B from SMEM: B is read once per consumer warpgroup; TMA multicast (cluster) saves L2 "
           "traffic, not SMEM reads";
  });
}

}  // namespace tilesim::model::detail
