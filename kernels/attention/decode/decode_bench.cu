// tilesim-decode-bench: correctness and timing of decode_splitkv (flash-decoding) kernels.
//
//   --check   small odd-length shapes, every compiled tile, contiguous and paged (16/64/256),
//             several split counts; vs a float32 GPU reference, which itself is checked
//             against a float64 CPU reference on the small shapes. Exit 1 on any failure.
//   --quick   with --check: only the default tile family and two shapes (sanitizer runs).
//   --sweep   long-KV shapes; every compiled tile (heuristic splits), explicit split counts
//             and page sizes for the default tile; each run checked, then timed (median of
//             --reps >= 20 samples, L2 flushed before each). A cudaMemcpy D2D copy of
//             kCopyBytes, timed the same way before and after, is the bandwidth ceiling.
//   --shape batch=B,heads_q=H[,heads_kv=G][,q_per_seq=Q],seq_kv=T,head_dim=D[,page_size=P]
//             sweep this shape instead of the built-in ones (repeatable; page_size 0 =
//             contiguous KV); --shapes-file F: the "decode" list of F (e.g.
//             data/heldout/shapes.json). Syntax: kernels/common/shape_args.hpp.
//   --out F   write the measurement JSON (tilesim.measurement.v1, family "decode") to F.
//   --sustain-ms T  (sweep) after each timed run, the same launch for T ms twice: as the
//             sweep samples it (flush, wait) and back to back, with the SM clock, power and
//             kernel time along the way (kernels/common/sustain_trace.hpp).
//   --clock-trace  (sweep) after each timed run, one more launch from a flushed L2 whose CTAs
//             record clock64 and %globaltimer at their start and end: the SM clock it ran at,
//             as the run's "clock_trace" (kernels/common/clock_span.hpp; NVML's is not it).
// Every timed run carries NVML samples of the SM clock, power and throttle reasons.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "decode_heuristic.hpp"
#include "decode_params.hpp"
#include "decode_registry.hpp"
#include "decode_testdata.cuh"
#include "device_buffer.cuh"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "nvml_sampler.hpp"
#include "clock_trace.cuh"
#include "sustain_trace.hpp"
#include "rel_error.hpp"
#include "runner_cli.hpp"
#include "shape_args.hpp"
#include "timed_run.hpp"

namespace tilesim::decode {
namespace {

using json = nlohmann::json;
using bf16 = __nv_bfloat16;

// Relative-error bound for bf16 output: P is rounded to bf16 before the PV product and O is
// rounded to bf16 at the end (2^-9 relative each), so ~3e-3 is expected; 1e-2 leaves margin
// while still catching a wrong row, a missed block or a bad rescale (errors of O(1)).
constexpr double kTolerance = 1e-2;
// The fp32 GPU reference against float64: fp32 sums over <= 32k terms stay far below this.
constexpr double kRefTolerance = 1e-4;
// Input amplitudes: q in [-2, 2), k and v in [-1, 1): softmax logits with std ~0.7 after the
// 1/sqrt(d) scale, so attention is neither uniform nor one-hot.
constexpr float kQAmp = 2.f;
constexpr float kKvAmp = 1.f;
// Device-to-device copy used as the bandwidth ceiling (bytes copied; traffic = 2x).
constexpr size_t kCopyBytes = size_t{2} << 30;
// L2 flush buffer: twice the largest Hopper L2 (60 MB on H200) so no KV line survives.
constexpr size_t kFlushBytes = size_t{128} << 20;
constexpr int kWarmup = 5;
constexpr int kMinReps = 20;
// Rows x seq_kv x head_dim above which the float64 CPU reference is skipped (too slow).
constexpr double kCpuRefMaxWork = 64e6;
// Default tile family (the one the CI build compiles, also used for split / page sweeps).
constexpr int kDefaultBlockN = 64;
constexpr int kDefaultStages = 3;

struct Shape {
  std::string name;
  int batch, heads_q, heads_kv, q_per_seq, seq_kv, head_dim;
  int rows() const { return batch * q_per_seq * heads_q; }
  int group() const { return heads_q / heads_kv; }
  int m_tiles() const { return (group() * q_per_seq + 15) / 16; }
  int64_t kv_elems() const { return int64_t{batch} * heads_kv * seq_kv * head_dim; }
  double kv_bytes() const { return 2.0 * static_cast<double>(kv_elems()) * sizeof(bf16); }
};

// A sweep shape and the page sizes it is measured with (0 = contiguous).
struct SweepShape {
  Shape shape;
  std::vector<int> page_sizes;
};

constexpr int kDefaultReps = 30;
struct Options : runner::CheckSweepOptions {
  std::vector<SweepShape> sweep_shapes;  // --shape / --shapes-file (empty: the built-in sweep)
  std::vector<std::string> filters;      // --kernel / --filter (tilesim measure names one)
  int sustain_ms = 0;                    // 0: no sustained traces
  bool clock_trace = false;
};

SweepShape sweep_shape_from(const runner::ShapeValues& v) {
  const int page = static_cast<int>(v["page_size"]);
  if (page != 0 && (page & (page - 1)) != 0)
    throw runner::ShapeError("shape '" + v.text + "': page_size must be 0 or a power of two");
  if (v["heads_q"] % v["heads_kv"] != 0)
    throw runner::ShapeError("shape '" + v.text +
                             "': heads_q must be a multiple of heads_kv (GQA)");
  if (v["q_per_seq"] > v["seq_kv"])
    throw runner::ShapeError("shape '" + v.text + "': q_per_seq must be <= seq_kv");
  char name[160];
  std::snprintf(name, sizeof name, "b%lld_hq%lld_hkv%lld_q%lld_kv%lld_d%lld_ps%d",
                static_cast<long long>(v["batch"]), static_cast<long long>(v["heads_q"]),
                static_cast<long long>(v["heads_kv"]), static_cast<long long>(v["q_per_seq"]),
                static_cast<long long>(v["seq_kv"]), static_cast<long long>(v["head_dim"]), page);
  Shape s{name,
          static_cast<int>(v["batch"]),
          static_cast<int>(v["heads_q"]),
          static_cast<int>(v["heads_kv"]),
          static_cast<int>(v["q_per_seq"]),
          static_cast<int>(v["seq_kv"]),
          static_cast<int>(v["head_dim"])};
  return {s, {page}};
}

// Samples the SM clock during timed runs (set by run_sweep; null outside it).
cuda::NvmlSampler* g_nvml = nullptr;

using cuda::DevBuf;
using cuda::to_float;
using runner::rel_error;

constexpr int kFillBlocks = 1024;
constexpr int kFillThreads = 256;

// Everything one shape needs: inputs, the fp32 reference, outputs and split scratch.
struct ProblemData {
  Shape shape;
  DevBuf<bf16> q, k, v, out;
  DevBuf<float> ref, o_part, lse_part;
  std::vector<float> ref_host;
  // Paged copies (built on demand per page size).
  int page_size = 0, max_pages = 0;
  DevBuf<bf16> k_pool, v_pool;
  DevBuf<int> page_table;
  std::optional<std::vector<double>> cpu_ref;  // float64 reference, small shapes only
  double ref_vs_cpu = -1.0;
};

// Float64 CPU reference over the same bf16 inputs (contiguous layout).
std::vector<double> cpu_reference(const Shape& s, const std::vector<float>& q,
                                  const std::vector<float>& k, const std::vector<float>& v) {
  const int D = s.head_dim;
  std::vector<double> out(static_cast<size_t>(s.rows()) * D);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> sc(s.seq_kv);
  for (int row = 0; row < s.rows(); ++row) {
    const int hq = row % s.heads_q;
    const int qi = (row / s.heads_q) % s.q_per_seq;
    const int b = row / (s.heads_q * s.q_per_seq);
    const int kvh = hq / s.group();
    const int visible = s.seq_kv - (s.q_per_seq - 1 - qi);
    const size_t kv0 = (static_cast<size_t>(b) * s.heads_kv + kvh) * s.seq_kv;
    double mx = -INFINITY;
    for (int j = 0; j < visible; ++j) {
      double dot = 0;
      for (int d = 0; d < D; ++d)
        dot += static_cast<double>(q[static_cast<size_t>(row) * D + d]) * k[(kv0 + j) * D + d];
      sc[j] = dot * scale;
      mx = std::max(mx, sc[j]);
    }
    double total = 0;
    for (int j = 0; j < visible; ++j) total += (sc[j] = std::exp(sc[j] - mx));
    for (int d = 0; d < D; ++d) {
      double acc = 0;
      for (int j = 0; j < visible; ++j) acc += sc[j] * v[(kv0 + j) * D + d];
      out[static_cast<size_t>(row) * D + d] = acc / total;
    }
  }
  return out;
}

ProblemData make_problem(const Shape& s, uint64_t seed, int max_splits) {
  if (s.heads_q % s.heads_kv != 0)
    throw std::invalid_argument(s.name + ": heads_q % heads_kv != 0");
  if (s.q_per_seq < 1 || s.q_per_seq > s.seq_kv)
    throw std::invalid_argument(s.name + ": need 1 <= q_per_seq <= seq_kv");
  ProblemData p;
  p.shape = s;
  const size_t q_elems = static_cast<size_t>(s.rows()) * s.head_dim;
  p.q = DevBuf<bf16>(q_elems);
  p.k = DevBuf<bf16>(s.kv_elems());
  p.v = DevBuf<bf16>(s.kv_elems());
  p.out = DevBuf<bf16>(q_elems);
  p.ref = DevBuf<float>(q_elems);
  p.o_part = DevBuf<float>(q_elems * max_splits);
  p.lse_part = DevBuf<float>(static_cast<size_t>(s.rows()) * max_splits);
  testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads>>>(p.q.ptr, q_elems, seed * 3 + 1, kQAmp);
  testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads>>>(p.k.ptr, s.kv_elems(), seed * 3 + 2,
                                                             kKvAmp);
  testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads>>>(p.v.ptr, s.kv_elems(), seed * 3 + 3,
                                                             kKvAmp);
  TILESIM_CHECK_LAUNCH_SYNC("fill inputs");

  {  // fp32 GPU reference
    constexpr int kRefThreads = 256;
    DevBuf<float> scratch(static_cast<size_t>(s.rows()) * s.seq_kv);
    testdata::decode_reference_kernel<<<s.rows(), kRefThreads>>>(
        p.q.ptr, p.k.ptr, p.v.ptr, scratch.ptr, p.ref.ptr, s.q_per_seq, s.heads_q, s.heads_kv,
        s.seq_kv, s.head_dim, 1.f / std::sqrt(static_cast<float>(s.head_dim)));
    TILESIM_CHECK_LAUNCH_SYNC("decode_reference_kernel");
  }
  p.ref_host.resize(q_elems);
  TILESIM_CUDA_CHECK(
      cudaMemcpy(p.ref_host.data(), p.ref.ptr, q_elems * sizeof(float), cudaMemcpyDeviceToHost));
  if (static_cast<double>(s.rows()) * s.seq_kv * s.head_dim <= kCpuRefMaxWork) {
    p.cpu_ref = cpu_reference(s, to_float(p.q.ptr, q_elems), to_float(p.k.ptr, s.kv_elems()),
                              to_float(p.v.ptr, s.kv_elems()));
    p.ref_vs_cpu = runner::reference_error_vs_fp64(s.name, p.ref_host, *p.cpu_ref, kRefTolerance);
  }
  return p;
}

// Builds the paged pool for page_size (0 = drop the pool). Pages are a random permutation
// of the pool, so neighbouring logical pages are not neighbours in memory.
void set_page_size(ProblemData& p, int page_size, uint64_t seed) {
  p.k_pool = DevBuf<bf16>();
  p.v_pool = DevBuf<bf16>();
  p.page_table = DevBuf<int>();
  p.page_size = page_size;
  if (page_size == 0) return;
  const Shape& s = p.shape;
  p.max_pages = (s.seq_kv + page_size - 1) / page_size;
  const int num_pages = s.batch * p.max_pages;
  std::vector<int> owner(num_pages);
  std::iota(owner.begin(), owner.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(owner.begin(), owner.end(), rng);
  std::vector<int> table(num_pages);  // table[b * max_pages + i] = page
  for (int page = 0; page < num_pages; ++page) table[owner[page]] = page;
  DevBuf<int> owner_d(num_pages);
  p.page_table = DevBuf<int>(num_pages);
  TILESIM_CUDA_CHECK(
      cudaMemcpy(owner_d.ptr, owner.data(), num_pages * sizeof(int), cudaMemcpyHostToDevice));
  TILESIM_CUDA_CHECK(
      cudaMemcpy(p.page_table.ptr, table.data(), num_pages * sizeof(int), cudaMemcpyHostToDevice));
  const size_t pool_elems = static_cast<size_t>(num_pages) * s.heads_kv * page_size * s.head_dim;
  p.k_pool = DevBuf<bf16>(pool_elems);
  p.v_pool = DevBuf<bf16>(pool_elems);
  testdata::scatter_to_pages<<<kFillBlocks, kFillThreads>>>(p.k.ptr, p.k_pool.ptr, owner_d.ptr,
                                                            num_pages, s.heads_kv, page_size,
                                                            s.head_dim, s.seq_kv, p.max_pages);
  testdata::scatter_to_pages<<<kFillBlocks, kFillThreads>>>(p.v.ptr, p.v_pool.ptr, owner_d.ptr,
                                                            num_pages, s.heads_kv, page_size,
                                                            s.head_dim, s.seq_kv, p.max_pages);
  TILESIM_CHECK_LAUNCH_SYNC("scatter_to_pages");
}

DecodeParams make_params(const ProblemData& p, const DecodeTile& tile, int& splits) {
  const Shape& s = p.shape;
  DecodeParams prm;
  prm.q = p.q.ptr;
  prm.out = p.out.ptr;
  prm.o_part = p.o_part.ptr;
  prm.lse_part = p.lse_part.ptr;
  if (tile.paged) {
    prm.k = p.k_pool.ptr;
    prm.v = p.v_pool.ptr;
    prm.page_table = p.page_table.ptr;
    prm.page_size_log2 = static_cast<int>(std::lround(std::log2(p.page_size)));
    prm.max_pages = p.max_pages;
  } else {
    prm.k = p.k.ptr;
    prm.v = p.v.ptr;
  }
  prm.batch = s.batch;
  prm.heads_q = s.heads_q;
  prm.heads_kv = s.heads_kv;
  prm.group = s.group();
  prm.q_per_seq = s.q_per_seq;
  prm.seq_kv = s.seq_kv;
  prm.blocks_per_split = blocks_per_split(s.seq_kv, tile.block_n, splits);
  prm.splits = splits;
  prm.scale_log2 =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)) * std::numbers::log2e);
  return prm;
}

struct RunResult {
  json record;
  bool passed = false;
  double gbps = 0;
};

json problem_json(const Shape& s, int page_size) {
  return {{"kind", "decode"},       {"batch", s.batch},         {"heads_q", s.heads_q},
          {"heads_kv", s.heads_kv}, {"q_per_seq", s.q_per_seq}, {"seq_kv", s.seq_kv},
          {"head_dim", s.head_dim}, {"page_size", page_size},   {"dtype", "bf16"}};
}

// One more launch from a flushed L2 whose split CTAs record their clock span
// (DecodeParams::clock_span): the SM clock it ran at, right after the run's timed samples.
json clock_trace(const DecodeInstance& inst, DecodeParams prm, cuda::L2Flusher* flusher) {
  return cuda::traced_clock(prm.splits * prm.heads_kv * prm.batch, [&](std::uint64_t* span) {
    prm.clock_span = span;
    if (flusher != nullptr) flusher->flush(nullptr);
    inst.launch(prm, nullptr);
  });
}

// One launch on poisoned outputs, compared with the references; then (if timed) samples.
RunResult run_one(ProblemData& p, const DecodeInstance& inst, int splits_req, bool heuristic,
                  bool timed, const Options& opt, cuda::L2Flusher* flusher) {
  const Shape& s = p.shape;
  int splits = splits_req;
  const DecodeParams prm = make_params(p, inst.tile, splits);
  const size_t q_elems = static_cast<size_t>(s.rows()) * s.head_dim;
  testdata::fill_nan_bf16<<<kFillBlocks, kFillThreads>>>(p.out.ptr, q_elems);
  testdata::fill_nan_f32<<<kFillBlocks, kFillThreads>>>(p.o_part.ptr, p.o_part.n);
  testdata::fill_nan_f32<<<kFillBlocks, kFillThreads>>>(p.lse_part.ptr, p.lse_part.n);
  TILESIM_CHECK_LAUNCH_SYNC("poison outputs");
  inst.launch(prm, nullptr);
  TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> out = to_float(p.out.ptr, q_elems);
  bool finite = false;
  const double err = rel_error(out, p.ref_host, &finite);
  double err_cpu = -1;
  if (p.cpu_ref) err_cpu = rel_error(out, *p.cpu_ref, nullptr);
  RunResult r;
  r.passed = finite && err <= kTolerance && (!p.cpu_ref || err_cpu <= kTolerance);
  json tile = {{"block_n", inst.tile.block_n},
               {"splits", splits},
               {"stages", inst.tile.stages},
               {"l2_prefetch", inst.tile.l2_prefetch ? 1 : 0}};
  json check = {{"rel_err", finite ? json(err) : json("nan")},
                {"tolerance", kTolerance},
                {"passed", r.passed},
                {"all_written_finite", finite},
                {"reference", "gpu_fp32"}};
  if (p.cpu_ref) {
    check["rel_err_vs_cpu_fp64"] = finite ? json(err_cpu) : json("nan");
    check["gpu_ref_vs_cpu_fp64"] = p.ref_vs_cpu;
  }
  r.record = {{"impl", "tilesim"},
              {"schedule", "decode_splitkv"},
              {"tile", tile},
              {"problem", problem_json(s, inst.tile.paged ? p.page_size : 0)},
              {"check", check},
              {"variant", describe(inst.tile)},
              {"splits_from_heuristic", heuristic},
              {"smem_bytes", inst.smem_bytes},
              {"kv_bytes", s.kv_bytes()},
              {"shape_name", s.name}};
  if (timed && r.passed) {
    const auto launch = [&](cudaStream_t st) { inst.launch(prm, st); };
    r.gbps = cuda::time_bandwidth_into(r.record, launch,
                                       cuda::timing_options(kWarmup, std::max(opt.reps, kMinReps), flusher),
                                       g_nvml, s.kv_bytes());
    if (opt.sustain_ms > 0) r.record["sustain"] = cuda::sustain_traces(launch, nullptr, opt.sustain_ms, flusher, g_nvml);
    if (opt.clock_trace) r.record["clock_trace"] = clock_trace(inst, prm, flusher);
  }
  return r;
}

int heuristic_splits(const Shape& s, const DecodeInstance& inst) {
  return choose_splits(s.batch, s.heads_kv, s.seq_kv, inst.tile.block_n, cuda::sm_count(),
                       inst.ctas_per_sm())
      .splits;
}

// filters: --kernel / --filter name parts (empty: every instance that serves the shape).
std::vector<const DecodeInstance*> instances_for(const Shape& s, bool paged, bool quick,
                                                 const std::vector<std::string>& filters) {
  std::vector<const DecodeInstance*> v;
  for (const auto& inst : decode_instances()) {
    const DecodeTile& t = inst.tile;
    if (t.head_dim != s.head_dim || t.paged != paged || t.m_tiles < s.m_tiles()) continue;
    if (quick && (t.block_n != kDefaultBlockN || t.stages != kDefaultStages)) continue;
    if (!runner::kernel_selected(describe(t), filters)) continue;
    v.push_back(&inst);
  }
  return v;
}

void print_row(const Shape& s, const json& rec, double copy_gbps) {
  const json& tile = rec["tile"];
  std::printf("%-26s %-30s ps=%-3d splits=%-3d", s.name.c_str(),
              rec["variant"].get<std::string>().c_str(), rec["problem"]["page_size"].get<int>(),
              tile["splits"].get<int>());
  runner::print_check_and_timing(rec, copy_gbps, 8);
}

int run_check(const Options& opt, json& runs) {
  std::vector<Shape> shapes = {
      {"check_b2_hq8_hkv2_q3_kv1000", 2, 8, 2, 3, 1000, 128},
      {"check_b1_hq4_hkv1_q2_kv5", 1, 4, 1, 2, 5, 128},
      {"check_b3_hq4_hkv4_q1_kv777", 3, 4, 4, 1, 777, 128},
      {"check_b2_hq32_hkv8_q8_kv523", 2, 32, 8, 8, 523, 128},
      {"check_b2_hq8_hkv1_q1_kv1337_d64", 2, 8, 1, 1, 1337, 64},
  };
  if (opt.quick) shapes = {shapes[0], shapes[1]};
  runner::CheckTally tally(runs);
  constexpr int kMaxCheckSplits = 64;
  for (const Shape& s : shapes) {
    ProblemData p = make_problem(s, opt.seed + tally.done() + 17, kMaxCheckSplits);
    for (int ps : {0, 16, 64, 256}) {
      if (opt.quick && ps == 256) continue;
      set_page_size(p, ps, opt.seed + ps);
      for (const DecodeInstance* inst : instances_for(s, ps != 0, opt.quick, opt.filters)) {
        const int hs = heuristic_splits(s, *inst);
        for (int sp : runner::check_split_counts(hs, kMaxCheckSplits, opt.quick)) {
          const RunResult r = run_one(p, *inst, sp, sp == hs, false, opt, nullptr);
          if (tally.add(r.record, r.passed)) print_row(s, r.record, 0);
        }
      }
    }
    runner::print_checked_shape(s.name, 34, p.cpu_ref.has_value(), p.ref_vs_cpu);
  }
  return tally.finish(decode_instances().size(), "tiles",
                      "no compiled tile matched the check shapes");
}

int run_sweep(const Options& opt, json& runs) {
  return cuda::flushed_memory_bound_sweep(
      kFlushBytes, cuda::flush_mode(opt), kWarmup, std::max(opt.reps, kMinReps), kCopyBytes, runs, &g_nvml,
      [&](double copy_before, cuda::L2Flusher* flusher) {
        const std::vector<Shape> builtin = {
            {"b16_hq32_hkv32_kv8192", 16, 32, 32, 1, 8192, 128},
            {"b8_hq32_hkv8_kv32768_gqa", 8, 32, 8, 1, 32768, 128},
            {"b64_hq32_hkv8_kv4096", 64, 32, 8, 1, 4096, 128},
            {"b8_hq32_hkv8_q4_kv16381_spec", 8, 32, 8, 4, 16381, 128},
            {"b8_hq32_hkv8_q8_kv8191_spec", 8, 32, 8, 8, 8191, 128},
            {"b16_hq32_hkv32_kv8192_d64", 16, 32, 32, 1, 8192, 64},
        };
        std::vector<SweepShape> shapes;
        for (const Shape& s : builtin) shapes.push_back(SweepShape{s, {0, 16, 64, 256}});
        if (!opt.sweep_shapes.empty()) shapes = opt.sweep_shapes;
        constexpr int kMaxSweepSplits = 64;
        const std::vector<int> split_sweep = {1, 2, 4, 8, 16, 32};
        runner::CheckTally tally(runs);
        for (const SweepShape& ss : shapes) {
          const Shape& s = ss.shape;
          ProblemData p = make_problem(s, opt.seed + 101, kMaxSweepSplits);
          const bool given = !opt.sweep_shapes.empty();
          for (int ps : ss.page_sizes) {
            const auto insts = instances_for(s, ps != 0, false, opt.filters);
            if (insts.empty()) {
              if (given) {
                std::printf("%-26s no compiled tile for head_dim %d, %d query rows, %s\n",
                            s.name.c_str(), s.head_dim, s.group() * s.q_per_seq,
                            ps ? "paged" : "contiguous");
                tally.count_failure();
              }
              continue;
            }
            set_page_size(p, ps, opt.seed + 7 * ps);
            for (const DecodeInstance* inst : insts) {
              const bool is_default = inst->tile.block_n == kDefaultBlockN &&
                                      inst->tile.stages == kDefaultStages &&
                                      inst->tile.m_tiles == s.m_tiles();
              // Built-in sweep: page sizes 16 and 256 only for the default tile family; 64 and
              // contiguous for all. A given shape: every tile at its page size.
              if (!given && (ps == 16 || ps == 256) && !is_default) continue;
              if (inst->tile.m_tiles != s.m_tiles()) continue;
              const int hs = heuristic_splits(s, *inst);
              std::vector<int> split_list = {hs};
              if (is_default && (given || ps == 0 || ps == 64))
                for (int sp : split_sweep)
                  if (sp != hs) split_list.push_back(sp);
              for (int sp : split_list) {
                RunResult r = run_one(p, *inst, sp, sp == hs, true, opt, flusher);
                tally.add(r.record, r.passed);
                print_row(s, r.record, copy_before);
              }
            }
          }
        }
        return tally.finish_sweep();
      });
}

Options parse(int argc, char** argv) {
  Options o;
  static_cast<runner::CheckSweepOptions&>(o) = runner::parse_check_sweep(
      argc, argv,
      {"decode", runner::decode_shape_keys(), kDefaultReps, kMinReps,
       runner::any_flag({runner::kernel_filter_flag(&o.filters),
                         runner::integer_flag("--sustain-ms", &o.sustain_ms, 0, 60000),
                         runner::switch_flag("--clock-trace", &o.clock_trace)}),
       "--kernel S, --filter a,b (instances whose name, e.g. d128_bn64_st4_mt1_contig, contains one), "
       "--sustain-ms T, --clock-trace"});
  for (const auto& v : o.shapes) o.sweep_shapes.push_back(sweep_shape_from(v));
  return o;
}

}  // namespace
}  // namespace tilesim::decode

int main(int argc, char** argv) {
  using namespace tilesim::decode;
  return tilesim::cuda::check_sweep_main(
      argc, argv, "decode", "tilesim-decode-bench", instance_list,
      [&] { return parse(argc, argv); },
      {{"q_out", "[batch, q_per_seq, heads_q, head_dim]"},
       {"kv_contiguous", "[batch, heads_kv, seq_kv, head_dim]"},
       {"kv_paged",
        "pool [num_pages, heads_kv, page_size, head_dim], page_table [batch, max_pages]"},
       {"gbps", "K+V bytes read once / median time"}},
      run_check, run_sweep);
}
