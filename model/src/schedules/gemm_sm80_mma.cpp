// gemm_sm80_mma: Ampere-style GEMM (the contrast case): every warp loads with cp.async
// into a `stages`-deep SMEM ring, reads its fragments with ldmatrix and issues
// mma.sync m16n8k16; no warp specialization, plain grid (one tile per CTA).
// Each warp issues its own k-step: the mma.sync and ldmatrix of its warp tile and the
// loop's address arithmetic and cp.async issue, counted in the SASS of the compiled main
// loops (scripts/sass_counts.py). They are the mma op's per-warp chain, one instruction
// every `sm80_gemm_cycles_per_instruction` cycles (a fitted constant).
#include "common.hpp"

namespace tilesim::model::detail {

namespace {
// Per thread and k-step beyond mma.sync and ldmatrix: address arithmetic of the swizzled
// tiles (IMAD/LEA/SHF), cp.async issue, barriers, loop control. SASS of the five compiled
// instances (block_k 32 and 64, warp tiles 32x32..64x128): 443-452, independent of the tile.
constexpr double kSm80LoopInstructions = 450.0;
constexpr double kLdmatrixX4Elements = 16.0 * 16.0;  // one ldmatrix.x4 loads a 16x16 fragment
}  // namespace

void build_gemm_sm80_mma(const Ctx& c, ScheduleDesc& d) {
  const auto& prob = c.prob;
  const int bm = c.i("block_m"), bn = c.i("block_n"), bk = c.i("block_k"), stages = c.i("stages");
  const int wm_count = c.i("warps_m"), wn_count = c.i("warps_n");
  const double e = c.ebytes();
  const int k_instr = static_cast<int>(32.0 / e);  // mma.sync K: 16 (16-bit), 32 (fp8), 8 (tf32)
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
  {
    const double hmma = (wm / static_cast<double>(kMmaSyncM)) * (wn / static_cast<double>(kMmaSyncN)) * (bk / static_cast<double>(k_instr));
    const double ldsm = (static_cast<double>(wm) + wn) * bk / kLdmatrixX4Elements;
    const double per_thread = hmma + ldsm + kSm80LoopInstructions, cpi = c.k.sm80_gemm_cycles_per_instruction;
    b.use(L, mma, Unit::kIssue, per_thread * warps * kWarpThreads, kIssueThreadOpsPerClkPerSm,
          [&] { return num(per_thread) + " instructions per thread (mma.sync, ldmatrix, addresses)"; });
    Op& o = (*L)[mma];
    o.chain_cycles = per_thread * cpi;
    if (c.detailed)
      o.chain_what = num(hmma) + " mma.sync + " + num(ldsm) + " ldmatrix + " + num(kSm80LoopInstructions) +
                     " loop instructions per thread x " + num(cpi) + " cycles";
  }
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

ScheduleSpec spec_gemm_sm80_mma() {
  ScheduleSpec s;
  s.name = "gemm_sm80_mma";
  s.summary = "Ampere-style mma.sync m16n8k16 + cp.async multistage GEMM (contrast case)";
  s.kind = ProblemKind::kGemm;
  s.params = {{"block_m", ParamType::kInt, 16, 512, 16, "mma.sync M", "CTA tile rows", false, 0, {64, 128, 256}},
              {"block_n", ParamType::kInt, 16, 512, 16, "two n8 fragments per ldmatrix.x4", "CTA tile columns", false, 0, {64, 128, 256}},
              {"block_k", ParamType::kInt, 8, 256, 8, "", "K per stage", false, 0, {32, 64}},
              {"stages", ParamType::kInt, 2, 8, 0, "", "cp.async pipeline stages", false, 0, {2, 3, 4, 5}},
              {"warps_m", ParamType::kInt, 1, 16, 0, "", "warps along M", false, 0, {1, 2, 4}},
              {"warps_n", ParamType::kInt, 1, 16, 0, "", "warps along N", false, 0, {1, 2, 4}}};
  s.constraints = {
      {"shape", "warps_m x warps_n <= 16", "512 threads per CTA at most in this kernel design",
       [](const TileView& v) { return v.i("warps_m") * v.i("warps_n") <= 16; }},
      {"shape", "block_m / warps_m is a multiple of 16", "mma.sync M = 16 rows per fragment",
       [](const TileView& v) { return v.i("block_m") % (kMmaSyncM * v.i("warps_m")) == 0; }},
      {"shape", "block_n / warps_n is a multiple of 16", "ldmatrix.x4 loads two n8 B fragments",
       [](const TileView& v) { return v.i("block_n") % (2 * kMmaSyncN * v.i("warps_n")) == 0; }},
      {"shape", "block_k x element bytes is a multiple of 32", "mma.sync K = 32 bytes (k16 for 16-bit types)",
       [](const TileView& v) { return std::fmod(v.i("block_k") * dtype_bytes(v.prob.dtype), 32.0) == 0.0; }}};
  // kernels/gemm/gemm_sm80_mma.cuh: its static_asserts (stages >= 2, block_k multiple of
  // 16, warp tile a multiple of 16 x 16) are the model's constraints above.
  s.kernel_rules = {{"dtype", "dtype is bf16", "instantiated for bf16 in and out",
                     [](const TileView& v) { return v.prob.dtype == Dtype::kBf16; }}};
  s.build = build_gemm_sm80_mma;
  s.representative.kind = ProblemKind::kGemm;
  s.representative.m = s.representative.n = s.representative.k = 4096;
  return s;
}

}  // namespace tilesim::model::detail
