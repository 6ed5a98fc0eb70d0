// tilesim-mla-bench: correctness and timing of the mla_decode kernels (heads on M, KV on M).
//
//   --check   small shapes with odd, per-sequence different lengths (some shorter than one
//             page, one shorter than a split), q_per_seq 1 and 2, 16..128 heads; every
//             compiled instance; heuristic and explicit split counts. Against a float32
//             GPU reference, itself checked against a float64 CPU reference. Exit 1 on any
//             failure. --quick: two shapes, heuristic splits (sanitizer runs).
//   --sweep   heads 16/32/64/128 x batch 1/4/16/64 x KV 1k/4k/16k/64k, both layouts
//             (heuristic splits); each run checked on sampled rows, then timed (median of
//             --reps >= 20 samples, L2 flushed before each). A cudaMemcpy D2D copy, timed
//             the same way before and after, is the bandwidth ceiling.
//   --shape batch=B,heads_q=H[,q_per_seq=Q],seq_kv=T   sweep this shape instead (repeatable);
//   --shapes-file F  the "mla" list of F (data/heldout/shapes.json). Syntax: shape_args.hpp.
//   --kernel S, --filter a,b   only the instances whose name (e.g. kv_on_m_bq16_bn64_st2)
//             contains one: a sweep then runs each of them instead of one per layout
//             (tilesim measure names one); --check checks only them.
//   --out F   measurement JSON (tilesim.measurement.v1, family "mla").
// Every timed run carries NVML samples of the SM clock, power and throttle reasons.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "decode_heuristic.hpp"
#include "device_buffer.cuh"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "mla_params.hpp"
#include "mla_registry.hpp"
#include "mla_testdata.cuh"
#include "nvml_sampler.hpp"
#include "rel_error.hpp"
#include "runner_cli.hpp"
#include "shape_args.hpp"
#include "timed_run.hpp"

namespace tilesim::mla {
namespace {

using json = nlohmann::json;
using bf16 = __nv_bfloat16;

// bf16 output with P rounded to bf16 before PV: ~3e-3 expected (as decode); 1e-2 still
// catches a wrong row, a missed page or a bad rescale (errors of O(1)).
constexpr double kTolerance = 1e-2;
constexpr double kRefTolerance = 1e-4;  // fp32 GPU reference vs float64 (sums of <= 64k terms)
// q in [-1, 1), latent in [-1, 1): with 576-long dot products and scale 1/sqrt(192) the
// logits have std ~1.4: attention neither uniform nor one-hot.
constexpr float kQAmp = 1.f;
constexpr float kKvAmp = 1.f;
// DeepSeek's softmax scale: 1/sqrt(qk_nope 128 + rope 64), not 1/sqrt(576).
const double kDefaultScale = 1.0 / std::sqrt(192.0);
constexpr size_t kCopyBytes = size_t{2} << 30;
constexpr size_t kFlushBytes = size_t{128} << 20;  // > 2x the largest Hopper L2
constexpr int kWarmup = 5;
constexpr int kMinReps = 20;
constexpr double kCpuRefMaxWork =
    4e8;  // checked rows x seq_kv x 576 for the float64 reference (~1 s)
constexpr int kFillBlocks = 1024;
constexpr int kFillThreads = 256;
constexpr int kRefThreads = 256;
constexpr int kMaxSplits = decode::kMaxSplits;

struct Shape {
  std::string name;
  int batch, heads_q, q_per_seq;
  std::vector<int> lens;  // per sequence
  int rows() const { return heads_q * q_per_seq; }
  int max_len() const { return *std::max_element(lens.begin(), lens.end()); }
  double kv_bytes() const {
    return 2.0 * kHeadDimQk *
           static_cast<double>(std::accumulate(lens.begin(), lens.end(), int64_t{0}));
  }
};

Shape uniform_shape(const std::string& name, int batch, int heads, int q, int len) {
  return Shape{name, batch, heads, q, std::vector<int>(static_cast<size_t>(batch), len)};
}

constexpr int kDefaultReps = 30;
struct Options : runner::CheckSweepOptions {
  double scale = kDefaultScale;      // --scale: softmax scale
  std::vector<Shape> sweep_shapes;   // --shape / --shapes-file (empty: the built-in sweep)
  std::vector<std::string> filters;  // --kernel / --filter (tilesim measure names one)
};

Shape shape_from(const runner::ShapeValues& v) {
  if (v["q_per_seq"] > v["seq_kv"])
    throw runner::ShapeError("shape '" + v.text + "': q_per_seq must be <= seq_kv");
  char name[128];
  std::snprintf(name, sizeof name, "b%lld_hq%lld_q%lld_kv%lld", static_cast<long long>(v["batch"]),
                static_cast<long long>(v["heads_q"]), static_cast<long long>(v["q_per_seq"]),
                static_cast<long long>(v["seq_kv"]));
  return uniform_shape(name, static_cast<int>(v["batch"]), static_cast<int>(v["heads_q"]),
                       static_cast<int>(v["q_per_seq"]), static_cast<int>(v["seq_kv"]));
}

cuda::NvmlSampler* g_nvml = nullptr;  // set by run_sweep

using cuda::DevBuf;
using cuda::download;
using cuda::to_float;
using runner::rel_error;

// Inputs, the paged pool, the references of the checked rows, outputs and split scratch.
struct ProblemData {
  Shape shape;
  int max_len = 0, max_pages = 0, num_pages = 0;
  DevBuf<bf16> q, latent, pool, out;
  DevBuf<int> block_table, seq_lens;
  DevBuf<float> o_part, lse_part;
  std::vector<int> checked_rows;  // global query rows compared with the reference
  std::vector<float> ref_host;    // [checked][512]
  std::optional<std::vector<double>> cpu_ref;
  double ref_vs_cpu = -1.0;
};

// Float64 CPU reference of the checked rows over the same bf16 inputs.
std::vector<double> cpu_reference(const ProblemData& p, const std::vector<float>& q,
                                  const std::vector<float>& kv, double scale) {
  const Shape& s = p.shape;
  std::vector<double> out(p.checked_rows.size() * kHeadDimV);
  std::vector<double> sc(static_cast<size_t>(p.max_len));
  for (size_t i = 0; i < p.checked_rows.size(); ++i) {
    const int row = p.checked_rows[i];
    const int token = (row / s.heads_q) % s.q_per_seq, b = row / s.rows();
    const int visible = s.lens[b] - (s.q_per_seq - 1 - token);
    const size_t kv0 = static_cast<size_t>(b) * p.max_len;
    double mx = -INFINITY;
    for (int j = 0; j < visible; ++j) {
      double dot = 0;
      for (int d = 0; d < kHeadDimQk; ++d)
        dot += static_cast<double>(q[static_cast<size_t>(row) * kHeadDimQk + d]) *
               kv[(kv0 + j) * kHeadDimQk + d];
      sc[j] = dot * scale;
      mx = std::max(mx, sc[j]);
    }
    double total = 0;
    for (int j = 0; j < visible; ++j) total += (sc[j] = std::exp(sc[j] - mx));
    for (int d = 0; d < kHeadDimV; ++d) {
      double acc = 0;
      for (int j = 0; j < visible; ++j) acc += sc[j] * kv[(kv0 + j) * kHeadDimQk + d];
      out[i * kHeadDimV + d] = visible > 0 ? acc / total : 0.0;
    }
  }
  return out;
}

// all_rows: check every query row (small shapes); otherwise the first and last query row
// of the first and last sequence, each token (the sweep: a full fp32 reference of a 64k x
// 128-head batch would take longer than the sweep).
ProblemData make_problem(const Shape& s, uint64_t seed, bool all_rows, double scale) {
  for (int len : s.lens)
    if (len < s.q_per_seq)
      throw std::invalid_argument(s.name + ": every length must be >= q_per_seq");
  if (static_cast<int>(s.lens.size()) != s.batch)
    throw std::invalid_argument(s.name + ": one length per sequence");
  ProblemData p;
  p.shape = s;
  p.max_len = s.max_len();
  p.max_pages = (p.max_len + kPageSize - 1) / kPageSize;
  p.num_pages = s.batch * p.max_pages;
  const size_t q_elems = static_cast<size_t>(s.batch) * s.rows() * kHeadDimQk;
  const size_t latent_elems = static_cast<size_t>(s.batch) * p.max_len * kHeadDimQk;
  const size_t out_rows = static_cast<size_t>(s.batch) * s.rows();
  p.q = DevBuf<bf16>(q_elems);
  p.latent = DevBuf<bf16>(latent_elems);
  p.pool = DevBuf<bf16>(static_cast<size_t>(p.num_pages) * kPageSize * kHeadDimQk);
  p.out = DevBuf<bf16>(out_rows * kHeadDimV);
  p.o_part = DevBuf<float>(out_rows * kHeadDimV * kMaxSplits);
  p.lse_part = DevBuf<float>(out_rows * kMaxSplits);
  testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads>>>(p.q.ptr, q_elems, seed * 3 + 1, kQAmp);
  testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads>>>(p.latent.ptr, latent_elems,
                                                             seed * 3 + 2, kKvAmp);
  TILESIM_CHECK_LAUNCH_SYNC("fill inputs");
  // Pages: a random permutation of the pool, so neighbouring logical pages are not
  // neighbours in memory.
  std::vector<int> owner(static_cast<size_t>(p.num_pages));
  std::iota(owner.begin(), owner.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(owner.begin(), owner.end(), rng);
  std::vector<int> table(owner.size());
  for (int page = 0; page < p.num_pages; ++page) table[owner[page]] = page;
  DevBuf<int> owner_d(owner.size());
  owner_d.upload(owner);
  p.block_table = DevBuf<int>(table.size());
  p.block_table.upload(table);
  p.seq_lens = DevBuf<int>(s.lens.size());
  p.seq_lens.upload(s.lens);
  testdata::scatter_latent_to_pages<<<kFillBlocks, kFillThreads>>>(
      p.latent.ptr, p.pool.ptr, owner_d.ptr, p.seq_lens.ptr, p.num_pages, p.max_pages, p.max_len);
  TILESIM_CHECK_LAUNCH_SYNC("scatter_latent_to_pages");

  if (all_rows) {
    p.checked_rows.resize(out_rows);
    std::iota(p.checked_rows.begin(), p.checked_rows.end(), 0);
  } else {
    for (int b : {0, s.batch - 1})
      for (int t = 0; t < s.q_per_seq; ++t)
        for (int h : {0, s.heads_q - 1}) {
          const int row = (b * s.q_per_seq + t) * s.heads_q + h;
          if (std::find(p.checked_rows.begin(), p.checked_rows.end(), row) == p.checked_rows.end())
            p.checked_rows.push_back(row);
        }
  }
  const size_t nchk = p.checked_rows.size();
  {
    DevBuf<int> rows_d(nchk);
    rows_d.upload(p.checked_rows);
    DevBuf<float> scratch(nchk * static_cast<size_t>(p.max_len)), ref(nchk * kHeadDimV);
    testdata::mla_reference_kernel<<<static_cast<unsigned>(nchk), kRefThreads>>>(
        p.q.ptr, p.latent.ptr, p.seq_lens.ptr, rows_d.ptr, scratch.ptr, ref.ptr, s.q_per_seq,
        s.heads_q, p.max_len, static_cast<float>(scale));
    TILESIM_CHECK_LAUNCH_SYNC("mla_reference_kernel");
    p.ref_host = download(ref.ptr, nchk * kHeadDimV);
  }
  if (all_rows && static_cast<double>(nchk) * p.max_len * kHeadDimQk <= kCpuRefMaxWork) {
    p.cpu_ref =
        cpu_reference(p, to_float(p.q.ptr, q_elems), to_float(p.latent.ptr, latent_elems), scale);
    p.ref_vs_cpu = runner::reference_error_vs_fp64(s.name, p.ref_host, *p.cpu_ref, kRefTolerance);
  }
  return p;
}

// decode_splitkv's rule: fill every SM once (one CTA per SM here: 384 threads, ~225 KB
// of shared memory), no split shorter than decode::kMinBlocksPerSplit pages.
int heuristic_splits(const Shape& s, const MlaInstance& inst) {
  constexpr int kCtasPerSm = 1;
  return decode::choose_splits(s.batch, inst.row_blocks(s.rows()), s.max_len(), kPageSize,
                               cuda::sm_count(), kCtasPerSm)
      .splits;
}

json problem_json(const Shape& s) {
  return {{"kind", "mla"},          {"batch", s.batch},         {"heads_q", s.heads_q},
          {"heads_kv", 1},          {"q_per_seq", s.q_per_seq}, {"seq_kv", s.max_len()},
          {"head_dim", kHeadDimQk}, {"head_dim_v", kHeadDimV},  {"page_size", kPageSize},
          {"dtype", "bf16"}};
}

struct RunResult {
  json record;
  bool passed = false;
  double gbps = 0;
};

RunResult run_one(ProblemData& p, const MlaInstance& inst, int splits_req, bool heuristic,
                  bool timed, const Options& opt, cuda::L2Flusher* flusher) {
  const Shape& s = p.shape;
  int splits = std::min(splits_req, kMaxSplits);
  MlaParams prm;
  prm.block_table = p.block_table.ptr;
  prm.seq_lens = p.seq_lens.ptr;
  prm.out = p.out.ptr;
  prm.o_part = p.o_part.ptr;
  prm.lse_part = p.lse_part.ptr;
  prm.batch = s.batch;
  prm.heads_q = s.heads_q;
  prm.q_per_seq = s.q_per_seq;
  prm.rows = s.rows();
  prm.max_pages = p.max_pages;
  prm.blocks_per_split = decode::blocks_per_split(p.max_len, kPageSize, splits);
  prm.splits = splits;
  prm.scale_log2 = static_cast<float>(opt.scale * std::numbers::log2e);
  const auto launch = inst.prepare(prm, MlaBuffers{p.q.ptr, p.pool.ptr, p.num_pages});

  const size_t out_elems = static_cast<size_t>(s.batch) * s.rows() * kHeadDimV;
  testdata::fill_nan_bf16<<<kFillBlocks, kFillThreads>>>(p.out.ptr, out_elems);
  testdata::fill_nan_f32<<<kFillBlocks, kFillThreads>>>(p.o_part.ptr, p.o_part.n);
  testdata::fill_nan_f32<<<kFillBlocks, kFillThreads>>>(p.lse_part.ptr, p.lse_part.n);
  TILESIM_CHECK_LAUNCH_SYNC("poison outputs");
  launch(nullptr);
  TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> out_all = to_float(p.out.ptr, out_elems);
  // Every written output must be finite, the checked rows close to the reference.
  bool all_finite = true;
  for (float x : out_all) all_finite = all_finite && std::isfinite(x);
  std::vector<float> out(p.checked_rows.size() * kHeadDimV);
  for (size_t i = 0; i < p.checked_rows.size(); ++i)
    std::copy_n(out_all.begin() + static_cast<int64_t>(p.checked_rows[i]) * kHeadDimV, kHeadDimV,
                out.begin() + static_cast<int64_t>(i) * kHeadDimV);
  bool finite = false;
  const double err = rel_error(out, p.ref_host, &finite);
  double err_cpu = -1;
  if (p.cpu_ref) err_cpu = rel_error(out, *p.cpu_ref, nullptr);
  RunResult r;
  r.passed = all_finite && finite && err <= kTolerance && (!p.cpu_ref || err_cpu <= kTolerance);
  json check = {{"rel_err", finite ? json(err) : json("nan")},
                {"tolerance", kTolerance},
                {"passed", r.passed},
                {"all_written_finite", all_finite},
                {"rows_checked", p.checked_rows.size()},
                {"reference", "gpu_fp32"}};
  if (p.cpu_ref) {
    check["rel_err_vs_cpu_fp64"] = finite ? json(err_cpu) : json("nan");
    check["gpu_ref_vs_cpu_fp64"] = p.ref_vs_cpu;
  }
  const MlaTile& t = inst.tile;
  r.record = {{"impl", "tilesim"},
              {"schedule", "mla_decode"},
              {"tile",
               {{"block_n", t.block_n},
                {"splits", splits},
                {"stages", t.stages},
                {"kv_on_m", t.kv_on_m},
                {"block_q", t.block_q}}},
              {"problem", problem_json(s)},
              {"check", check},
              {"variant", describe(t)},
              {"splits_from_heuristic", heuristic},
              {"smem_bytes", inst.smem_bytes},
              {"softmax_scale", opt.scale},
              {"kv_bytes", s.kv_bytes()},
              {"shape_name", s.name}};
  if (!std::all_of(s.lens.begin(), s.lens.end(), [&](int l) { return l == s.lens[0]; }))
    r.record["seq_lens"] = s.lens;
  if (timed && r.passed)
    r.gbps = cuda::time_bandwidth_into(
        r.record, launch, cuda::timing_options(kWarmup, std::max(opt.reps, kMinReps), flusher),
        g_nvml, s.kv_bytes());
  return r;
}

// The instance a layout runs for this shape: heads on M has one; KV on M the smallest
// block_q that holds all query rows (the largest above 64 rows: several row blocks).
const MlaInstance* pick(const Shape& s, int kv_on_m) {
  const MlaInstance* best = nullptr;
  for (const auto& inst : mla_instances()) {
    if (inst.tile.kv_on_m != kv_on_m) continue;
    const bool fits = inst.tile.block_q >= s.rows(),
               best_fits = best && best->tile.block_q >= s.rows();
    if (!best || (fits && (!best_fits || inst.tile.block_q < best->tile.block_q)) ||
        (!fits && !best_fits && inst.tile.block_q > best->tile.block_q))
      best = &inst;
  }
  return best;
}

// What a sweep runs for a shape: the instance pick() chooses for each layout, or with
// --kernel / --filter every compiled instance whose name matches.
std::vector<const MlaInstance*> sweep_instances(const Shape& s,
                                                const std::vector<std::string>& filters) {
  std::vector<const MlaInstance*> v;
  if (filters.empty()) {
    for (int kv_on_m : {0, 1})
      if (const MlaInstance* inst = pick(s, kv_on_m)) v.push_back(inst);
    return v;
  }
  for (const auto& inst : mla_instances())
    if (runner::kernel_selected(describe(inst.tile), filters)) v.push_back(&inst);
  return v;
}

// Prints what a sweep misses for `s` and returns how many (each a failure): every layout
// without a compiled instance or, with --kernel / --filter, no instance matching them.
int sweep_misses(const Shape& s, const std::vector<std::string>& filters) {
  if (!filters.empty()) {
    if (!sweep_instances(s, filters).empty()) return 0;
    std::printf("%-24s no compiled instance matches --kernel / --filter\n", s.name.c_str());
    return 1;
  }
  int missing = 0;
  for (int kv_on_m : {0, 1})
    if (pick(s, kv_on_m) == nullptr) {
      std::printf("%-24s no compiled instance with kv_on_m=%d\n", s.name.c_str(), kv_on_m);
      ++missing;
    }
  return missing;
}

void print_row(const Shape& s, const json& rec, double copy_gbps) {
  std::printf("%-24s %-22s splits=%-3d", s.name.c_str(), rec["variant"].get<std::string>().c_str(),
              rec["tile"]["splits"].get<int>());
  runner::print_check_and_timing(rec, copy_gbps, 9);
}

int run_check(const Options& opt, json& runs) {
  // Lengths: odd, below one page (5, 2), exactly one page (64), a page + 1 (65), and
  // long enough for several splits; q_per_seq 2 exercises the causal limit per token.
  std::vector<Shape> shapes = {
      {"check_b4_hq16_q1", 4, 16, 1, {1000, 5, 777, 65}},
      {"check_b3_hq32_q2", 3, 32, 2, {523, 2, 1337}},
      {"check_b2_hq128_q1", 2, 128, 1, {64, 2049}},
      {"check_b3_hq64_q2", 3, 64, 2, {3001, 129, 2}},
      {"check_b2_hq20_q1", 2, 20, 1, {4099, 300}},
  };
  if (opt.quick) shapes = {shapes[0], shapes[1]};
  runner::CheckTally tally(runs);
  for (const Shape& s : shapes) {
    std::printf("checking %s\n", s.name.c_str());
    std::fflush(stdout);
    ProblemData p =
        make_problem(s, opt.seed + static_cast<uint64_t>(tally.done()) + 17, true, opt.scale);
    for (const auto& inst : mla_instances()) {
      if (!runner::kernel_selected(describe(inst.tile), opt.filters)) continue;
      const int hs = heuristic_splits(s, inst);
      for (int sp : runner::check_split_counts(hs, kMaxSplits, opt.quick)) {
        const RunResult r = run_one(p, inst, sp, sp == hs, false, opt, nullptr);
        if (tally.add(r.record, r.passed)) print_row(s, r.record, 0);
      }
    }
    runner::print_checked_shape(s.name, 24, p.cpu_ref.has_value(), p.ref_vs_cpu);
  }
  return tally.finish(mla_instances().size(), "instances", "no compiled instance");
}

int run_sweep(const Options& opt, json& runs) {
  return cuda::flushed_memory_bound_sweep(
      kFlushBytes, cuda::flush_mode(opt), kWarmup, std::max(opt.reps, kMinReps), kCopyBytes, runs, &g_nvml,
      [&](double copy_before, cuda::L2Flusher* flusher) {
        std::vector<Shape> shapes = opt.sweep_shapes;
        if (shapes.empty()) {
          for (int kv : {1024, 4096, 16384, 65536})
            for (int batch : {1, 4, 16, 64})
              for (int heads : {16, 32, 64, 128}) {
                char name[64];
                std::snprintf(name, sizeof name, "b%d_hq%d_q1_kv%d", batch, heads, kv);
                shapes.push_back(uniform_shape(name, batch, heads, 1, kv));
              }
        }
        runner::CheckTally tally(runs);
        for (const Shape& s : shapes) {
          ProblemData p = make_problem(s, opt.seed + 101, false, opt.scale);
          for (const MlaInstance* inst : sweep_instances(s, opt.filters)) {
            const int hs = heuristic_splits(s, *inst);
            RunResult r = run_one(p, *inst, hs, true, true, opt, flusher);
            tally.add(r.record, r.passed);
            print_row(s, r.record, copy_before);
          }
          for (int miss = sweep_misses(s, opt.filters); miss > 0; --miss) tally.count_failure();
        }
        return tally.finish_sweep();
      });
}

Options parse(int argc, char** argv) {
  Options o;
  const runner::ExtraFlag scale = [&](const std::string& flag,
                                      const std::function<std::string()>& value) {
    if (flag != "--scale") return false;
    const std::string v = value();
    size_t used = 0;
    try {
      o.scale = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || !(o.scale > 0.0) || !std::isfinite(o.scale))
      throw std::invalid_argument("--scale must be a positive number, got '" + v + "'");
    return true;
  };
  static_cast<runner::CheckSweepOptions&>(o) = runner::parse_check_sweep(
      argc, argv,
      {"mla", runner::mla_shape_keys(), kDefaultReps, kMinReps,
       runner::any_flag({scale, runner::kernel_filter_flag(&o.filters)}),
       "--scale S, --kernel S, --filter a,b (instances whose name, e.g. kv_on_m_bq16_bn64_st2, "
       "contains one)"});
  for (const auto& v : o.shapes) o.sweep_shapes.push_back(shape_from(v));
  return o;
}

}  // namespace
}  // namespace tilesim::mla

int main(int argc, char** argv) {
  using namespace tilesim::mla;
  return tilesim::cuda::check_sweep_main(
      argc, argv, "mla", "tilesim-mla-bench", instance_list, [&] { return parse(argc, argv); },
      {{"q", "[batch, q_per_seq, heads_q, 576]"},
       {"out", "[batch, q_per_seq, heads_q, 512]"},
       {"kv_paged",
        "pool [num_pages, 64, 576] (V = first 512 columns), block_table [batch, max_pages]"},
       {"gbps", "latent KV bytes (sum of lengths x 576 x 2) read once / median time"}},
      run_check, run_sweep);
}
