// gemm_sm80_mma: Ampere-style GEMM (the contrast case): every warp loads with cp.async
// into a `stages`-deep SMEM ring, reads its fragments with ldmatrix and issues
// mma.sync m16n8k16; no warp specialization, plain grid (one tile per CTA).
#include "common.hpp"

namespace tilesim::model::detail {

void build_gemm_sm80_mma(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int wm_count = c.i("warps_m"), wn_count = c.i("warps_n");
  const double e = c.ebytes();
  const int k_instr = static_cast<int>(32.0 / e);  // mma.sync K: 16 (16-bit), 32 (fp8), 8 (tf32)
  if (wm_count < 1 || wn_count < 1 || wm_count * wn_count > 16) throw Infeasible("shape", "warps_m*warps_n must be 1..16");
  if (bm <= 0 || bm % (kMmaSyncM * wm_count) != 0)
    throw Infeasible("shape", "block_m/warps_m must be a multiple of 16 (mma.sync M)");
  if (bn <= 0 || bn % (2 * kMmaSyncN * wn_count) != 0)
    throw Infeasible("shape", "block_n/warps_n must be a multiple of 16 (ldmatrix.x4 of two n8 B fragments)");
  if (bk <= 0 || bk % k_instr != 0) throw Infeasible("shape", "block_k must be a multiple of " + std::to_string(k_instr));
  if (stages < 2 || stages > 8) throw Infeasible("shape", "stages must be 2..8");
  const int wm = bm / wm_count, wn = bn / wn_count;
  const int warps = wm_count * wn_count;

  Builder b(c, d);
  if (c.detailed) d.summary = std::to_string(warps) + " warps (" + std::to_string(wm_count) + "x" + std::to_string(wn_count) +
              ") mma.sync + cp.async " + std::to_string(stages) + "-stage, plain grid";
  // Per thread: fp32 accumulators of the warp tile, double-buffered A/B fragments of one
  // k16 step (32-bit registers hold 4/e elements).
  const double acc = static_cast<double>(wm) * wn / kWarpThreads;
  const double frags = 2.0 * (wm + wn) * k_instr * e / 4.0 / kWarpThreads;
  const int w = b.role("warps", RoleKind::kConsumer, warps * kWarpThreads,
                       static_cast<int>(acc + frags + c.k.register_overhead_per_thread));
  d.cta.smem_bytes = stages * (bm + bn) * bk * e;
  d.grid.scheduler = Scheduler::kPlain;
  d.grid.sm_count = c.sm_count();
  if (!fill_occupancy(c, d)) return;
  const int64_t tiles_m = ceil_div(prob.m, bm), tiles_n = ceil_div(prob.n, bn), iters = ceil_div(prob.k, bk);
  d.grid.classes.push_back(WorkClass{"tile", tiles_m * tiles_n, iters});
  const int64_t concurrent = std::min<int64_t>(tiles_m * tiles_n, d.grid.resident_ctas());
  // Plain grid: blockIdx.x runs along N first (row-major raster, no swizzle).
  const GemmTraffic g = gemm_traffic(c, tiles_m, tiles_n, bm, bn, concurrent, 1, 1, 1);
  const double c_bytes = static_cast<double>(prob.m) * static_cast<double>(prob.n) * c.obytes();
  d.total_hbm_bytes = g.hbm_ab_bytes + c_bytes;
  d.total_l2_bytes = g.l2_ab_bytes + c_bytes;

  auto* L = &d.loop;
  const int ld = b.load(L, "load_ab", w, (bm + bn) * bk * e, g.hbm_ab_bytes / g.l2_ab_bytes);
  b.note(L, ld, [&] { return "cp.async A " + num(bm) + "x" + num(bk) + " + B " + num(bn) + "x" + num(bk); });
  const int mma = b.op(L, "mma", w, c.p.latency.smem.value);
  b.note(L, mma, [&] { return "latency: ldmatrix (SMEM load latency); mma.sync latency is not in the profile"; });
  b.use(L, mma, Unit::kTensor, 2.0 * bm * bn * bk, tensor_rate(c, TensorPath::kMmaSync),
        [&] { return "2*" + num(bm) + "*" + num(bn) + "*" + num(bk) + " FLOP on the mma.sync path"; });
  b.use(L, mma, Unit::kSmem, (static_cast<double>(wn_count) * bm + static_cast<double>(wm_count) * bn) * bk * e,
        c.p.per_sm.smem.value, [&] {
          return "ldmatrix: each of " + num(wn_count) + " warp columns reads A " + num(bm) + "x" + num(bk) +
                 ", each of " + num(wm_count) + " warp rows reads B " + num(bn) + "x" + num(bk);
        });
  b.dep(L, mma, ld, 0, DepKind::kDone, "cp.async.wait_group + __syncthreads");
  b.dep(L, mma, mma, 1, DepKind::kAfter);
  b.dep(L, ld, mma, stages, DepKind::kDone, "__syncthreads (slot free)");
  b.dep(L, ld, mma, stages - 1, DepKind::kIssue);  // issued from the loop of iteration i - (stages-1)
  d.rings.push_back(Ring{"ab", stages, {ld}, {mma}, (bm + bn) * bk * e});

  auto* E = &d.epilogue;
  const int ep = b.op(E, "epilogue", w, c.p.latency.hbm.value);
  const double elems = static_cast<double>(bm) * bn, eff = c.k.epilogue_efficiency;
  b.use(E, ep, Unit::kCvt, elems * kCvtPerElement, c.p.per_sm.cvt_bf16x2.value * eff);
  b.use(E, ep, Unit::kSmem, elems * c.obytes(), c.p.per_sm.smem.value * eff,
        [&] { return "C staged through SMEM for coalesced stores"; });
  b.store_uses(E, ep, elems * c.obytes(), eff);
  d.useful_flops = useful_flops(prob);
  b.desc_note([&] { return "L2 reuse: " + g.model; });
}

}  // namespace tilesim::model::detail
