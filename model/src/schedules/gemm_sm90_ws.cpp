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

void build_gemm_sm90_ws(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int consumers = c.i("consumers"), cm = c.i("cluster_m"), cn = c.i("cluster_n"), raster = c.i("raster");
  const int64_t k_steps = ceil_div(prob.k, bk);
  const int split_k = effective_split_k(k_steps, c.i("split_k"));
  const double e = c.ebytes();
  const int k_instr = static_cast<int>(32.0 / e);  // wgmma K: 16 for 16-bit, 32 for fp8, 8 for tf32
  const int rm = bm / consumers;

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
  // Split-K: each output tile becomes split_k work items over K/split_k; each writes an
  // fp32 partial tile and a reduce pass sums them (read split_k partials, write C once).
  const int64_t iters = ceil_div(k_steps, split_k);
  const double a_tile = bm * bk * e, b_tile = bn * bk * e;
  d.cta.smem_bytes = stages * (a_tile + b_tile) + bm * std::min(bn, 64) * c.obytes();  // ring + epilogue subtile
  d.grid.scheduler = Scheduler::kPersistent;
  d.grid.cluster_size = cm * cn;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  const int64_t concurrent = add_cluster_tile_grid(d, tiles_m, tiles_n, cm, cn, split_k, iters);
  const GemmTraffic g = gemm_traffic(c, tiles_m, tiles_n, bm, bn, concurrent, raster, cn, cm);
  const double mn = static_cast<double>(prob.m) * static_cast<double>(prob.n);
  const double out_bytes = add_split_k_reduce(c, d, mn, split_k);  // per C element per item
  const double c_bytes = mn * out_bytes * split_k;
  d.total_hbm_bytes = g.hbm_ab_bytes + c_bytes;
  d.total_l2_bytes = g.l2_ab_bytes + c_bytes;

  // --- main loop ----------------------------------------------------------------------
  auto* L = &d.loop;
  const double load_bytes = a_tile / cn + b_tile / cm;
  // A is M x K and B is N x K, both K-major.
  const int ld = b.gemm_operand_load(L, "load_ab", prod, load_bytes, g,
                                     static_cast<double>(bm) / cn + static_cast<double>(bn) / cm, bk * e);
  b.cluster_barriers(cm * cn, prod);  // before the first stage, which waits for them
  b.gemm_stage_latency(L, ld, g);
  b.note(L, ld, [&] {
    return "TMA A " + num(bm) + "x" + num(bk) + " /" + num(cn) + " (multicast) + B " + num(bn) + "x" + num(bk) + " /" +
           num(cm) + " x " + num(e) + " B";
  });
  const double trate = tensor_rate(c, TensorPath::kWgmma), srate = c.p.per_sm.smem.value;
  std::vector<int> mma;
  const double flops = 2.0 * rm * bn * bk, wgmmas = static_cast<double>(rm / kWgmmaM) * (bk / k_instr);
  const double mma_wait_cycles = shared_pipe_wgmma_wait_cycles(c, consumers, flops / trate);
  for (int w = 0; w < consumers; ++w) {
    const int id = b.op(L, "mma.wg" + std::to_string(w), cons[w], mma_wait_cycles);
    b.use(L, id, Unit::kTensor, flops, trate, [&] {
      return "2*" + num(rm) + "*" + num(bn) + "*" + num(bk) + " FLOP (" + num(wgmmas) + " x wgmma m64n" + num(bn) + "k" +
             num(k_instr) + ")";
    });
    b.use(L, id, Unit::kSmem, wgmma_ss_smem_bytes(rm, bn, bk, e), srate, [&] {
      return "A " + num(rm) + "x" + num(bk) + " + B " + num(bn) + "x" + num(bk) + " x " + num(rm / kWgmmaM) +
             " read from SMEM x " + num(e) + " B (each m64 wgmma reads all of B)";
    });
    const double per_thread = wgmma_k_step_instructions(wgmmas, bn);
    b.use(L, id, Unit::kIssue, per_thread * kWarpgroupThreads, kIssueThreadOpsPerClkPerSm, [&] {
      return num(per_thread) + " instructions per thread (" + num(wgmmas) + " wgmma + descriptors, barriers, loop)";
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
    b.store_uses(E, id, elems * out_bytes, eff, consumers);
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

ScheduleSpec spec_gemm_sm90_ws() {
  ScheduleSpec s;
  s.name = "gemm_sm90_ws";
  s.summary = "Hopper TMA producer + wgmma consumer warpgroups, K-stage ring, persistent, clusters with multicast";
  s.kind = ProblemKind::kGemm;
  s.params = {
      {"block_m", ParamType::kInt, 64, 384, 64, "wgmma M = 64 per warpgroup", "CTA tile rows, block_m/consumers per consumer warpgroup", false, 0, {64, 128, 192, 256}},
      {"block_n", ParamType::kInt, 8, 256, 8, "wgmma N", "CTA tile columns", false, 0, {64, 128, 192, 256}},
      {"block_k", ParamType::kInt, 8, 256, 8, "", "K per stage", false, 0, {64, 128}},
      {"stages", ParamType::kInt, 2, 16, 0, "", "SMEM ring slots (A+B tiles)", false, 0, {3, 4, 5, 6, 7}},
      {"consumers", ParamType::kInt, 1, 3, 0, "", "consumer warpgroups", false, 0, {1, 2, 3}},
      {"cluster_m", ParamType::kInt, 1, 4, 0, "", "CTAs per cluster along M (B multicast)", false, 0, {1, 2}},
      {"cluster_n", ParamType::kInt, 1, 4, 0, "", "CTAs per cluster along N (A multicast)", false, 0, {1, 2}},
      {"raster", ParamType::kInt, 1, 64, 0, "", "swizzle group (tile-rows) of the tile scheduler; 1 = row-major", true, 1, {1, 8}},
      {"split_k", ParamType::kInt, 1, 16, 0, "", "K split across CTAs into fp32 partials, summed by a reduce pass; 1 = none", true, 1, {1, 4}}};
  s.constraints = {
      {"shape", "block_m is a multiple of 64 x consumers", "wgmma M = 64 rows per consumer warpgroup",
       [](const TileView& v) { return v.i("block_m") % (kWgmmaM * v.i("consumers")) == 0; }},
      {"shape", "block_m / consumers <= 128", "a consumer warpgroup keeps at most two m64 accumulator blocks in registers",
       [](const TileView& v) { return v.i("block_m") / v.i("consumers") <= 2 * kWgmmaM; }},
      {"shape", "block_k x element bytes is 64, 128, 192 or 256 bytes", "wgmma K = 32 bytes; TMA swizzle rows of 64..256 bytes",
       [](const TileView& v) { return row_bytes_ok(v.i("block_k"), dtype_bytes(v.prob.dtype)); }},
      {"shape", "cluster_m and cluster_n are powers of two", "multicast masks split a tile into equal slices",
       [](const TileView& v) { return is_pow2(v.i("cluster_m")) && is_pow2(v.i("cluster_n")); }},
      {"cluster", "cluster_m x cluster_n <= features.max_cluster_size", "the chip's largest portable cluster",
       [](const TileView& v) { return v.i("cluster_m") * v.i("cluster_n") <= v.p.features.max_cluster_size.value; }},
      {"cluster", "a cluster of > 1 CTA needs features.tma_multicast", "the cluster shares A and B by TMA multicast",
       [](const TileView& v) { return v.i("cluster_m") * v.i("cluster_n") == 1 || v.p.flag(v.p.features.tma_multicast); }},
      {"shape", "split_k <= K steps (ceil(k / block_k))", "every split needs at least one K step",
       [](const TileView& v) { return v.i("split_k") <= ceil_div(v.prob.k, v.i("block_k")); }}};
  s.features = {{Feature::kWgmma, "PTX wgmma.mma_async is sm_90a-only; use the tcgen05 schedules there"},
                {Feature::kTma, "the producer warpgroup loads A and B with TMA"}};
  // kernels/gemm/gemm_sm90_ws.cuh (WsConfig's static_asserts and fixed structure).
  s.kernel_rules = {
      {"dtype", "dtype is bf16", "instantiated for bf16 in and out (kElemBytes = 2)",
       [](const TileView& v) { return v.prob.dtype == Dtype::kBf16; }},
      {"shape", "block_k == 64", "one 128-byte swizzle row of bf16 per stage",
       [](const TileView& v) { return v.i("block_k") * dtype_bytes(v.prob.dtype) == 128; }},
      {"shape", "block_n is a multiple of 64", "the epilogue stores 64 x 64 sub-tiles (kEpiTile)",
       [](const TileView& v) { return v.i("block_n") % 64 == 0; }},
      {"cluster", "cluster_m x cluster_n <= 2", "the kernel's multicast handles clusters of 1 or 2 CTAs",
       [](const TileView& v) { return v.i("cluster_m") * v.i("cluster_n") <= 2; }},
      {"shape", "(block_m / consumers / 64) x block_n / 2 <= 128", "at most 128 fp32 accumulators per consumer thread",
       [](const TileView& v) { return v.i("block_m") / v.i("consumers") / kWgmmaM * v.i("block_n") / 2 <= 128; }}};
  s.build = build_gemm_sm90_ws;
  s.representative.kind = ProblemKind::kGemm;
  s.representative.m = s.representative.n = s.representative.k = 4096;
  return s;
}

}  // namespace tilesim::model::detail
