// tilesim-attn-bench: correctness and timing of the forward-attention kernels. The command
// line, the document and the timing are the runners' shared layer
// (kernels/common/runner_cli.hpp, timed_run.hpp).
//   --check   odd shapes (lengths not multiples of the tiles, GQA, causal and not) against
//             a float32 GPU reference and, for small shapes, a float64 CPU reference.
//   --sweep   every compiled kernel on the four benchmark shapes (or the shapes given by
//             --shape / --shapes-file): checked, then timed (CUDA events, warm-up, median
//             of --reps samples taken in --passes round-robin passes over the kernels of a
//             shape); NVML samples the SM clock, power and throttle reasons in every pass.
//             cuDNN's fused SDPA (impl "cudnn_fe", cudnn_sdpa.hpp) is checked and timed in
//             the same passes where the build has it; --check checks it too.
//   --shape batch=B,heads_q=H,[heads_kv=G,]seq_q=S,[seq_kv=T,]head_dim=D[,causal=1]
//             a shape for --sweep or --check (repeatable); --shapes-file F: the "attention" list of F
//             (e.g. data/heldout/shapes.json). Syntax: kernels/common/shape_args.hpp.
//   --quick   with --check: only the smallest shape (for compute-sanitizer runs).
//   --kernel S  only kernels whose name contains S (cuDNN's name: cudnn_fe);  --list [--json]
//             the kernels.
//   --warmup N, --passes N, --reps N (>= 20), --seed N (default 1).
//   --sustain-ms T  (sweep) after a shape's passes, each kernel for T ms twice: launch by
//             launch with a wait (the sweep's samples) and back to back, with the SM clock,
//             power and kernel time along the way (kernels/common/sustain_trace.hpp).
//   --clock-trace  (sweep) after a shape's passes, one more launch of each attn_fa3 kernel
//             whose CTAs record clock64 and %globaltimer at their start and end: the SM
//             clock it ran at, as the run's "clock_trace" (kernels/common/clock_span.hpp).
//   --out F   write the measurement JSON (schema tilesim.measurement.v1, family attention),
//             after every shape, so a run cut short by a time limit keeps its data.
// Exit status: 0 all checks passed, 1 a check failed or a CUDA error, 2 bad arguments.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn_types.hpp"
#if TILESIM_HAVE_CUDNN_SDPA
#include "cudnn_sdpa.hpp"
#endif
#include "cuda_check.hpp"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "instance_list.hpp"
#include "nvml_sampler.hpp"
#include "sustain_trace.hpp"
#include "reference.cuh"
#include "registry.hpp"
#include "runner_cli.hpp"
#include "shape_args.hpp"
#include "clock_trace.cuh"
#include "timed_run.hpp"

namespace ta = tilesim::attention;
namespace tc = tilesim::cuda;
namespace tr = tilesim::runner;

namespace {

// bf16 output rounding (2^-9 relative) plus P rounded to bf16 before the PV product give
// ~2e-3 relative Frobenius error; 1e-2 leaves room without letting a wrong result pass.
constexpr double kTolerance = 1e-2;
// float32 GPU reference vs float64 CPU reference: only summation order differs.
constexpr double kRefTolerance = 1e-5;
// Problems up to this many FLOPs also get the float64 CPU reference (seconds on one core).
constexpr double kCpuCheckMaxFlops = 4e9;
constexpr float kInputAmplitude = 2.0f;  // q, k, v uniform in [-2, 2): peaked enough softmax rows
constexpr unsigned char kNaNPoisonByte = 0xFF;  // 0xFFFF is a bf16 NaN
constexpr int kDefaultReps = 30;
constexpr int kMinReps = 20;  // a median of many
// The inputs of the n-th shape of a run use seed + n; seed 1 is what the runner always used.
constexpr uint64_t kDefaultSeed = 1;
constexpr int kMaxCount = 100000;  // --warmup / --passes
// The vendor reference's name in runs and for --kernel: cuDNN's fused SDPA through the
// frontend, in this process (torch_sdpa_ref.py's "cudnn" is the same library through torch).
constexpr const char* kCudnnImpl = "cudnn_fe";

// Why this build has no cuDNN reference (empty: it has one).
std::string cudnn_missing() {
#if TILESIM_HAVE_CUDNN_SDPA
  return "";
#else
  return TILESIM_NO_CUDNN_SDPA_REASON;
#endif
}

struct Options : tr::CheckSweepOptions {
  std::vector<std::string> kernel_filters;
  int warmup = 5, passes = 3;
  int sustain_ms = 0;  // 0: no sustained traces
  bool clock_trace = false;
  std::vector<ta::AttnProblem> problems;  // --shape / --shapes-file (empty: the built-in lists)
};

ta::AttnProblem shape(int batch, int heads_q, int heads_kv, int seq_q, int seq_kv, int head_dim, bool causal) {
  ta::AttnProblem p;
  p.batch = batch;
  p.heads_q = heads_q;
  p.heads_kv = heads_kv;
  p.seq_q = seq_q;
  p.seq_kv = seq_kv;
  p.head_dim = head_dim;
  p.causal = causal;
  return p;
}

ta::AttnProblem problem_from_shape(const tr::ShapeValues& s) {
  const ta::AttnProblem p =
      shape(static_cast<int>(s["batch"]), static_cast<int>(s["heads_q"]), static_cast<int>(s["heads_kv"]),
            static_cast<int>(s["seq_q"]), static_cast<int>(s["seq_kv"]), static_cast<int>(s["head_dim"]),
            s["causal"] != 0);
  if (p.heads_q % p.heads_kv != 0)
    throw tr::ShapeError("shape '" + s.text + "': heads_q must be a multiple of heads_kv (GQA)");
  return p;
}

// The compiled kernels --kernel selects, by name.
std::vector<ta::KernelEntry> selected_kernels(const std::vector<std::string>& filters) {
  std::vector<ta::KernelEntry> out;
  for (const auto& k : ta::kernel_registry())
    if (tr::kernel_selected(k.name, filters)) out.push_back(k);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  tr::CheckSweepSpec spec{"attention", tr::attention_shape_keys(), kDefaultReps, kMinReps,
                          tr::any_flag({tr::kernel_filter_flag(&o.kernel_filters),
                                        tr::integer_flag("--warmup", &o.warmup, 1, kMaxCount),
                                        tr::integer_flag("--passes", &o.passes, 1, kMaxCount),
                                        tr::integer_flag("--sustain-ms", &o.sustain_ms, 0, 60000),
                                        tr::switch_flag("--clock-trace", &o.clock_trace)}),
                          "--kernel S, --warmup N, --passes N, --sustain-ms T, --clock-trace"};
  // Given shapes replace the odd check shapes too (one launch per kernel and shape: what a
  // hardware-counter run profiles).
  spec.shapes_with_check = true;
  spec.list_flag = true;
  spec.default_seed = kDefaultSeed;
  static_cast<tr::CheckSweepOptions&>(o) = tr::parse_check_sweep(argc, argv, spec);
  for (const auto& s : o.shapes) o.problems.push_back(problem_from_shape(s));
  if (selected_kernels(o.kernel_filters).empty() && !tr::kernel_selected(kCudnnImpl, o.kernel_filters)) {
    std::string names;
    for (const auto& f : o.kernel_filters) names += (names.empty() ? "'" : ", '") + f + "'";
    throw std::invalid_argument("no compiled kernel matches --kernel " + names + " (see --list)");
  }
  return o;
}

nlohmann::json problem_json(const ta::AttnProblem& p) {
  return {{"kind", "attention"},    {"batch", p.batch},         {"heads_q", p.heads_q},
          {"heads_kv", p.heads_kv}, {"seq_q", p.seq_q},         {"seq_kv", p.seq_kv},
          {"head_dim", p.head_dim}, {"head_dim_v", p.head_dim}, {"causal", p.causal},
          {"dtype", "bf16"}};
}

std::string shape_str(const ta::AttnProblem& p) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "B%d Hq%d Hkv%d Sq%d Skv%d D%d%s", p.batch, p.heads_q, p.heads_kv,
                p.seq_q, p.seq_kv, p.head_dim, p.causal ? " causal" : "");
  return buf;
}

// Device buffers and references for one problem.
struct Workspace {
  ta::AttnProblem prob;
  __nv_bfloat16 *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
  float* ref = nullptr;
  size_t nq = 0, nkv = 0;
  std::vector<double> cpu_ref;  // empty unless small enough
  double ref_vs_cpu = -1.0;     // rel err of the GPU reference against float64 (-1: not run)

  Workspace(const ta::AttnProblem& p, uint64_t seed, cudaStream_t st) : prob(p) {
    ta::validate(p);
    nq = static_cast<size_t>(p.batch) * p.heads_q * p.seq_q * p.head_dim;
    nkv = static_cast<size_t>(p.batch) * p.heads_kv * p.seq_kv * p.head_dim;
    TILESIM_CUDA_CHECK(cudaMalloc(&q, nq * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&k, nkv * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&v, nkv * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&o, nq * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&ref, nq * sizeof(float)));
    ta::fill_random_bf16(q, nq, seed * 3 + 0, kInputAmplitude, st);
    ta::fill_random_bf16(k, nkv, seed * 3 + 1, kInputAmplitude, st);
    ta::fill_random_bf16(v, nkv, seed * 3 + 2, kInputAmplitude, st);
    ta::reference_attention_gpu(args(), ref, st);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(st));
    if (ta::attention_flops(p) * (p.causal ? 2 : 1) <= kCpuCheckMaxFlops) {
      std::vector<__nv_bfloat16> hq(nq), hk(nkv), hv(nkv);
      TILESIM_CUDA_CHECK(cudaMemcpy(hq.data(), q, nq * 2, cudaMemcpyDeviceToHost));
      TILESIM_CUDA_CHECK(cudaMemcpy(hk.data(), k, nkv * 2, cudaMemcpyDeviceToHost));
      TILESIM_CUDA_CHECK(cudaMemcpy(hv.data(), v, nkv * 2, cudaMemcpyDeviceToHost));
      cpu_ref = ta::reference_attention_cpu(p, hq, hk, hv);
      std::vector<float> href(nq);
      TILESIM_CUDA_CHECK(cudaMemcpy(href.data(), ref, nq * sizeof(float), cudaMemcpyDeviceToHost));
      ref_vs_cpu = rel_err_host(href);
    }
  }
  ~Workspace() {
    cudaFree(q);
    cudaFree(k);
    cudaFree(v);
    cudaFree(o);
    cudaFree(ref);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  ta::AttnArgs args() const {
    ta::AttnArgs a;
    a.q = q;
    a.k = k;
    a.v = v;
    a.o = o;
    a.prob = prob;
    a.scale_log2 = ta::default_scale_log2(prob.head_dim);
    return a;
  }
  template <class T>
  double rel_err_host(const std::vector<T>& x) const {
    double d2 = 0, r2 = 0;
    for (size_t i = 0; i < cpu_ref.size(); ++i) {
      const double xi = static_cast<double>(x[i]);
      if (!std::isfinite(xi)) return std::numeric_limits<double>::infinity();
      d2 += (xi - cpu_ref[i]) * (xi - cpu_ref[i]);
      r2 += cpu_ref[i] * cpu_ref[i];
    }
    return std::sqrt(d2 / r2);
  }
};

struct CheckOutcome {
  nlohmann::json json;
  bool passed = false;
  double rel_err = 0;
};

// Poisons O with NaN, runs the kernel once, compares with the references.
CheckOutcome check_kernel(const std::string& name, Workspace& ws, const std::function<void(cudaStream_t)>& launch,
                          cudaStream_t st) {
  TILESIM_CUDA_CHECK(cudaMemsetAsync(ws.o, kNaNPoisonByte, ws.nq * 2, st));
  launch(st);
  TILESIM_CHECK_LAUNCH(name.c_str());
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(st));
  const ta::CompareResult c = ta::compare_gpu(ws.o, ws.ref, ws.nq, st);
  CheckOutcome out;
  out.rel_err = c.rel_fro_err;
  out.passed = c.nan_count == 0 && c.rel_fro_err <= kTolerance;
  nlohmann::json j = {{"rel_err", c.rel_fro_err},
                      {"max_abs_err", c.max_abs_err},
                      {"nan_count", c.nan_count},
                      {"tolerance", kTolerance},
                      {"reference", "gpu_fp32_naive"}};
  if (!ws.cpu_ref.empty()) {
    std::vector<__nv_bfloat16> ho(ws.nq);
    TILESIM_CUDA_CHECK(cudaMemcpy(ho.data(), ws.o, ws.nq * 2, cudaMemcpyDeviceToHost));
    std::vector<float> hf(ws.nq);
    for (size_t i = 0; i < ws.nq; ++i) hf[i] = __bfloat162float(ho[i]);
    const double e64 = ws.rel_err_host(hf);
    j["rel_err_vs_cpu_fp64"] = e64;
    j["gpu_ref_vs_cpu_fp64"] = ws.ref_vs_cpu;
    out.passed = out.passed && e64 <= kTolerance && ws.ref_vs_cpu <= kRefTolerance;
  }
  j["passed"] = out.passed;
  out.json = j;
  return out;
}

std::vector<ta::AttnProblem> check_shapes(bool quick) {
  std::vector<ta::AttnProblem> s;
  for (int d : {64, 128}) {
    s.push_back(shape(1, 2, 1, 77, 77, d, true));  // shorter than one tile, GQA 2:1
    if (quick) continue;
    s.push_back(shape(2, 4, 2, 300, 300, d, false));    // odd length, two batches
    s.push_back(shape(1, 4, 1, 200, 333, d, true));     // seq_q != seq_kv, causal (top-left)
    s.push_back(shape(1, 2, 2, 1000, 1000, d, false));  // MHA, several KV blocks + tail
    s.push_back(shape(2, 8, 2, 2500, 2500, d, true));   // causal, GQA 4:1, > 132 tiles (persistent loops)
    s.push_back(shape(1, 8, 8, 4099, 4099, d, false));  // long, tail of 3 rows
  }
  return s;
}

std::vector<ta::AttnProblem> sweep_shapes() {
  return {shape(4, 16, 16, 4096, 4096, 128, false), shape(1, 16, 16, 16384, 16384, 128, false),
          shape(4, 16, 16, 4096, 4096, 64, false), shape(2, 16, 16, 8192, 8192, 128, true)};
}

// What the check and the sweep share: the selected kernels, the stream, the input seed (the
// n-th problem of the run gets seed + n).
struct Bench {
  const Options& opt;
  std::vector<ta::KernelEntry> kernels;
  bool cudnn;  // this build has the cuDNN reference and --kernel selects it
  cudaStream_t st = nullptr;
  uint64_t next_seed;

  explicit Bench(const Options& o)
      : opt(o),
        kernels(selected_kernels(o.kernel_filters)),
        cudnn(cudnn_missing().empty() && tr::kernel_selected(kCudnnImpl, o.kernel_filters)),
        next_seed(o.seed) {
    TILESIM_CUDA_CHECK(cudaStreamCreate(&st));
  }
  ~Bench() { cudaStreamDestroy(st); }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  bool serves(const ta::AttnProblem& p) const {
    return cudnn || std::any_of(kernels.begin(), kernels.end(), [&](const auto& k) { return k.head_dim == p.head_dim; });
  }
};

nlohmann::json run_record(const ta::KernelEntry& ke, const ta::AttnProblem& p, const CheckOutcome& c) {
  return {{"impl", "tilesim"},          {"kernel", ke.name},     {"schedule", ke.schedule},
          {"tile", ke.tile},            {"problem", problem_json(p)}, {"check", c.json},
          {"samples_ms", nlohmann::json::array()}};
}

// cuDNN's fused SDPA on a workspace's buffers: its launch, and its run record so far (the
// plan cuDNN's heuristics picked and the library versions). When cuDNN refuses the problem
// the launch is empty and the record says why: a vendor gap is recorded, not hidden.
struct CudnnRef {
  std::function<void(cudaStream_t)> launch;
  nlohmann::json record;
};

CudnnRef prepare_cudnn(const Workspace& ws) {
  CudnnRef r;
  r.record = {{"impl", kCudnnImpl},
              {"schedule", nullptr},
              {"tile", nlohmann::json::object()},
              {"problem", problem_json(ws.prob)},
              {"samples_ms", nlohmann::json::array()}};
#if TILESIM_HAVE_CUDNN_SDPA
  r.record["library"] = ta::cudnn_sdpa_versions();
  std::shared_ptr<ta::CudnnSdpa> sdpa;
  try {
    sdpa = std::make_shared<ta::CudnnSdpa>(ws.prob);
  } catch (const std::runtime_error& e) {
    r.record["error"] = e.what();
    return r;
  }
  r.record["config"] = sdpa->plan_name();
  const ta::AttnArgs a = ws.args();
  r.launch = [sdpa, a](cudaStream_t st) { sdpa->launch(a.q, a.k, a.v, a.o, st); };
#else
  throw std::logic_error("the cuDNN reference is not in this build: " + cudnn_missing());  // Bench::cudnn is false
#endif
  return r;
}

// The cuDNN reference checked on a workspace (NaN-poisoned output, the same references and
// tolerance as our kernels). Returns false when it ran and failed: its time would mean nothing.
bool check_cudnn(CudnnRef& ref, Workspace& ws, cudaStream_t st, CheckOutcome* out) {
  if (!ref.launch) {
    std::printf("%-36s %-34s not run: %.160s\n", kCudnnImpl, shape_str(ws.prob).c_str(),
                ref.record["error"].get<std::string>().c_str());
    return true;
  }
  *out = check_kernel(kCudnnImpl, ws, ref.launch, st);
  ref.record["check"] = out->json;
  return out->passed;
}

// Every kernel of the problem's head dim, one launch each; returns 1 on any failure.
int run_check(Bench& b, tr::Measurement& m) {
  bool all_passed = true;
  std::printf("%-36s %-34s %10s %10s %s\n", "kernel", "shape", "rel_err", "vs_fp64", "result");
  for (const auto& p : b.opt.problems.empty() ? check_shapes(b.opt.quick) : b.opt.problems) {
    Workspace ws(p, b.next_seed++, b.st);
    for (const auto& ke : b.kernels) {
      if (ke.head_dim != p.head_dim) continue;
      const CheckOutcome c = check_kernel(ke.name, ws, ke.prepare(ws.args()), b.st);
      all_passed = all_passed && c.passed;
      std::printf("%-36s %-34s %10.2e %10.2e %s\n", ke.name.c_str(), shape_str(p).c_str(), c.rel_err,
                  c.json.value("rel_err_vs_cpu_fp64", -1.0), c.passed ? "ok" : "FAIL");
      std::fflush(stdout);  // a hang in the next kernel still shows how far the check got
      m.runs().push_back(run_record(ke, p, c));
    }
    if (b.cudnn) {
      CudnnRef ref = prepare_cudnn(ws);
      CheckOutcome c;
      all_passed = check_cudnn(ref, ws, b.st, &c) && all_passed;
      if (ref.launch)
        std::printf("%-36s %-34s %10.2e %10.2e %s\n", kCudnnImpl, shape_str(p).c_str(), c.rel_err,
                    c.json.value("rel_err_vs_cpu_fp64", -1.0), c.passed ? "ok" : "FAIL");
      m.runs().push_back(ref.record);
    }
    m.save(tc::clock_snapshot());
  }
  return all_passed ? 0 : 1;
}

// One more launch of an attn_fa3 kernel whose CTAs record their clock span
// (AttnArgs::clock_span): the SM clock it ran at, right after the shape's timed passes.
nlohmann::json clock_trace(const ta::KernelEntry& ke, const Workspace& ws, cudaStream_t st) {
  const ta::AttnProblem& p = ws.prob;
  const long long block_m = ke.tile.at("block_m").get<int>();
  // One CTA per tile at most (a persistent grid uses fewer; its other spans stay 0).
  const long long ctas = (p.seq_q + block_m - 1) / block_m * p.heads_q * p.batch;
  return tc::traced_clock(static_cast<int>(ctas), [&](std::uint64_t* span) {
    ta::AttnArgs traced = ws.args();
    traced.clock_span = span;
    ke.prepare(traced)(st);
  });
}

// One problem of the sweep: every kernel (and cuDNN, where selected and built) checked, then
// all timed round-robin in the same passes.
bool sweep_problem(Bench& b, const ta::AttnProblem& p, const tc::TimingOptions& topt, tc::NvmlSampler& nvml,
                   tr::Measurement& m) {
  Workspace ws(p, b.next_seed++, b.st);
  std::vector<std::string> names;
  std::vector<nlohmann::json> records;
  std::vector<std::function<void(cudaStream_t)>> launches;
  std::vector<const ta::KernelEntry*> entries;  // parallel to launches; null for cuDNN
  std::vector<CheckOutcome> checks;
  bool all_passed = true;
  for (const auto& ke : b.kernels) {
    if (ke.head_dim != p.head_dim) continue;
    entries.push_back(&ke);
    launches.push_back(ke.prepare(ws.args()));
    checks.push_back(check_kernel(ke.name, ws, launches.back(), b.st));  // checked before any timing
    all_passed = all_passed && checks.back().passed;
    names.push_back(ke.name);
    records.push_back(run_record(ke, p, checks.back()));
  }
  if (b.cudnn) {
    CudnnRef ref = prepare_cudnn(ws);
    CheckOutcome c;
    all_passed = check_cudnn(ref, ws, b.st, &c) && all_passed;
    if (ref.launch) {
      entries.push_back(nullptr);
      launches.push_back(ref.launch);
      checks.push_back(c);
      names.push_back(kCudnnImpl);
      records.push_back(ref.record);
    } else {
      m.runs().push_back(ref.record);  // refused: recorded, never timed
    }
  }
  const std::vector<tc::RoundRobinTimes> times = tc::time_round_robin(launches, b.opt.passes, topt, nvml, b.st);
  std::printf("%-36s %-34s %10s %10s %9s %s\n", "kernel", "shape", "median_ms", "TFLOP/s", "rel_err", "check");
  for (std::size_t i = 0; i < launches.size(); ++i) {
    nlohmann::json& r = records[i];
    const double med = tc::record_samples(r, times[i].samples_ms);
    const double tflops = ta::attention_flops(p) / (med * 1e-3) / 1e12;
    r["tflops"] = tflops;
    r["clocks_per_pass"] = times[i].clocks_per_pass;
    r["nvml_per_pass"] = times[i].nvml_per_pass;
    r["timing"] = tc::timing_record(topt.warmup, b.opt.passes, 0);
    std::printf("%-36s %-34s %10.4f %10.1f %9.2e %s\n", names[i].c_str(), shape_str(p).c_str(), med, tflops,
                checks[i].rel_err, checks[i].passed ? "ok" : "FAIL");
    if (b.opt.sustain_ms > 0 && checks[i].passed)  // the sweep has no flush: the trace has none either
      r["sustain"] = tc::sustain_traces(launches[i], b.st, b.opt.sustain_ms, nullptr, &nvml);
    if (b.opt.clock_trace && checks[i].passed && entries[i] != nullptr && entries[i]->schedule == "attn_fa3")
      r["clock_trace"] = clock_trace(*entries[i], ws, b.st);
    m.runs().push_back(r);
  }
  std::fflush(stdout);
  return all_passed;
}

// The GPU heats and its SM clock sinks over a sweep (samples of one kernel drift up by up to
// 8% within 30 launches): each shape's kernels are timed round-robin in --passes passes of
// reps/passes samples each (tc::time_round_robin); the clock is recorded at every pass.
int run_sweep(Bench& b, tr::Measurement& m) {
  tc::TimingOptions topt;
  topt.warmup = b.opt.warmup;
  topt.repetitions = (b.opt.reps + b.opt.passes - 1) / b.opt.passes;
  const std::unique_ptr<tc::NvmlSampler> nvml = tc::open_nvml_sampler();
  bool all_passed = true;
  for (const auto& p : b.opt.problems.empty() ? sweep_shapes() : b.opt.problems) {
    if (!b.serves(p)) {
      std::printf("skipped %s: no compiled kernel for head_dim %d\n", shape_str(p).c_str(), p.head_dim);
      all_passed = false;
      continue;
    }
    all_passed = sweep_problem(b, p, topt, *nvml, m) && all_passed;
    m.save(tc::clock_snapshot());
  }
  m["timing"] = {{"warmup_per_pass", b.opt.warmup},
                 {"passes", b.opt.passes},
                 {"repetitions_per_pass", topt.repetitions},
                 {"order", "per shape: all kernels round-robin, pass after pass"},
                 {"clocks_per_pass_query", "clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu"},
                 {"l2_flush", false},
                 {"nvml_per_pass", "SM clock / power / clock-event reasons sampled every 2 ms "
                                   "through NVML while the pass's timed launches run (warm-up included)"},
                 {"note", "compute-bound kernels; inputs (>= 64 MB per shape) exceed L2"}};
  m["vendor"] = cudnn_missing().empty()
                    ? "cudnn_fe: cuDNN's fused SDPA through the cuDNN frontend graph API, in this process, timed "
                      "in the same round-robin passes"
                    : "no cuDNN reference: " + cudnn_missing();
  return all_passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* kTool = "tilesim-attn-bench";
  if (tilesim::kernels::wants_list_json(argc, argv)) return tilesim::kernels::print_list_json(kTool, ta::instance_list());
  return tr::guarded_main(
      kTool, [&] { return parse(argc, argv); },
      [&](const Options& opt) {
        if (opt.list) {
          std::vector<tilesim::kernels::ListedInstance> list;
          for (const auto& k : selected_kernels(opt.kernel_filters)) list.push_back({k.name, k.schedule, k.tile, {}});
          return tilesim::kernels::print_list_text(list);
        }
        Bench b(opt);
        const int rc = tc::check_sweep_document(
            "attention", kTool, opt,
            {{"q_o", "[batch, heads_q, seq_q, head_dim] bf16"},
             {"kv", "[batch, heads_kv, seq_kv, head_dim] bf16"},
             {"tflops", "4 batch heads_q head_dim x score area (causal: the visible area) / median time"}},
            [&](tr::Measurement& m) { return run_check(b, m); }, [&](tr::Measurement& m) { return run_sweep(b, m); });
        std::printf("%s\n", rc == 0 ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
        return rc;
      });
}
