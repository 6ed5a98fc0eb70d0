// tilesim-attn-bench: correctness and timing of the forward-attention kernels.
//   --check   odd shapes (lengths not multiples of the tiles, GQA, causal and not) against
//             a float32 GPU reference and, for small shapes, a float64 CPU reference.
//   --sweep   every compiled kernel on the four benchmark shapes (or the shapes given by
//             --shape / --shapes-file): checked, then timed (CUDA events, warm-up, median
//             of --reps samples taken in --passes round-robin passes over the kernels of a
//             shape); NVML samples the SM clock, power and throttle reasons in every pass.
//   --shape batch=B,heads_q=H,[heads_kv=G,]seq_q=S,[seq_kv=T,]head_dim=D[,causal=1]
//             a shape for --sweep or --check (repeatable); --shapes-file F: the "attention" list of F
//             (e.g. data/heldout/shapes.json). Syntax: kernels/common/shape_args.hpp.
//   --quick   with --check: only the smallest shape (for compute-sanitizer runs).
//   --kernel S  only kernels whose name contains S;  --list  print the kernel names.
//   --out F   write the measurement JSON (schema tilesim.measurement.v1, family attention).
// Exit status: 0 all checks passed, 1 a check failed, 2 bad arguments or CUDA error.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn_types.hpp"
#include "cuda_check.hpp"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "reference.cuh"
#include "nvml_sampler.hpp"
#include "registry.hpp"
#include "shape_args.hpp"

namespace ta = tilesim::attention;
namespace tc = tilesim::cuda;

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

struct Options {
  bool check = false, sweep = false, quick = false, list = false;
  std::string out, kernel_filter;
  int reps = 30, warmup = 5, passes = 3;
  std::vector<ta::AttnProblem> shapes;  // --shape / --shapes-file (empty: the built-in sweep)
};

ta::AttnProblem problem_from_shape(const tilesim::runner::ShapeValues& s) {
  ta::AttnProblem p;
  p.batch = static_cast<int>(s["batch"]);
  p.heads_q = static_cast<int>(s["heads_q"]);
  p.heads_kv = static_cast<int>(s["heads_kv"]);
  p.seq_q = static_cast<int>(s["seq_q"]);
  p.seq_kv = static_cast<int>(s["seq_kv"]);
  p.head_dim = static_cast<int>(s["head_dim"]);
  p.causal = s["causal"] != 0;
  if (p.heads_q % p.heads_kv != 0)
    throw tilesim::runner::ShapeError("shape '" + s.text + "': heads_q must be a multiple of heads_kv (GQA)");
  return p;
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr
      << "tilesim-attn-bench: " << msg << "\n"
      << "usage: tilesim-attn-bench (--check [--quick] | --sweep | --list) [--kernel S] [--reps N] "
         "[--warmup N] [--passes N] [--out FILE]\n"
         "       [--shape batch=B,heads_q=H[,heads_kv=G],seq_q=S[,seq_kv=T],head_dim=D[,causal=1]]... "
         "[--shapes-file F]\n";
  std::exit(2);
}

int parse_int(const std::string& flag, const char* v) {
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < 1 || x > 100000)
    usage_error(flag + " needs a positive integer, got '" + v + "'");
  return static_cast<int>(x);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--check")
      o.check = true;
    else if (a == "--sweep")
      o.sweep = true;
    else if (a == "--quick")
      o.quick = true;
    else if (a == "--list")
      o.list = true;
    else if (a == "--out")
      o.out = value();
    else if (a == "--kernel")
      o.kernel_filter = value();
    else if (a == "--reps")
      o.reps = parse_int(a, value());
    else if (a == "--warmup")
      o.warmup = parse_int(a, value());
    else if (a == "--passes")
      o.passes = parse_int(a, value());
    else if (a == "--shape" || a == "--shapes-file") {
      try {
        namespace tr = tilesim::runner;
        const std::string v = value();
        if (a == "--shape")
          o.shapes.push_back(problem_from_shape(tr::parse_shape(v, tr::attention_shape_keys())));
        else
          for (const auto& sv : tr::shapes_from_file(v, "attention", tr::attention_shape_keys(), {"bf16"}))
            o.shapes.push_back(problem_from_shape(sv));
      } catch (const tilesim::runner::ShapeError& e) {
        usage_error(e.what());
      }
    } else
      usage_error("unknown argument '" + a + "'");
  }
  if (!o.check && !o.sweep && !o.list) usage_error("give --check, --sweep or --list");
  if (o.reps < 20 && o.sweep) usage_error("--reps must be >= 20 for a sweep (median of many)");
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
CheckOutcome run_check(const ta::KernelEntry& ke, Workspace& ws,
                       const std::function<void(cudaStream_t)>& launch, cudaStream_t st) {
  TILESIM_CUDA_CHECK(cudaMemsetAsync(ws.o, kNaNPoisonByte, ws.nq * 2, st));
  launch(st);
  TILESIM_CHECK_LAUNCH(ke.name.c_str());
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
  auto mk = [](int b, int hq, int hkv, int sq, int skv, int d, bool c) {
    ta::AttnProblem p;
    p.batch = b;
    p.heads_q = hq;
    p.heads_kv = hkv;
    p.seq_q = sq;
    p.seq_kv = skv;
    p.head_dim = d;
    p.causal = c;
    return p;
  };
  std::vector<ta::AttnProblem> s;
  for (int d : {64, 128}) {
    s.push_back(mk(1, 2, 1, 77, 77, d, true));  // shorter than one tile, GQA 2:1
    if (quick) continue;
    s.push_back(mk(2, 4, 2, 300, 300, d, false));    // odd length, two batches
    s.push_back(mk(1, 4, 1, 200, 333, d, true));     // seq_q != seq_kv, causal (top-left)
    s.push_back(mk(1, 2, 2, 1000, 1000, d, false));  // MHA, several KV blocks + tail
    s.push_back(
        mk(2, 8, 2, 2500, 2500, d, true));  // causal, GQA 4:1, > 132 tiles (persistent loops)
    s.push_back(mk(1, 8, 8, 4099, 4099, d, false));  // long, tail of 3 rows
  }
  return s;
}

std::vector<ta::AttnProblem> sweep_shapes() {
  auto mk = [](int b, int h, int s, int d, bool c) {
    ta::AttnProblem p;
    p.batch = b;
    p.heads_q = h;
    p.heads_kv = h;
    p.seq_q = s;
    p.seq_kv = s;
    p.head_dim = d;
    p.causal = c;
    return p;
  };
  return {mk(4, 16, 4096, 128, false), mk(1, 16, 16384, 128, false), mk(4, 16, 4096, 64, false),
          mk(2, 16, 8192, 128, true)};
}

}  // namespace

int main(int argc, char** argv) {
  if (tilesim::kernels::wants_list_json(argc, argv))
    return tilesim::kernels::print_list_json("tilesim-attn-bench", ta::instance_list());
  const Options opt = parse(argc, argv);
  try {
    std::vector<ta::KernelEntry> kernels;
    for (const auto& k : ta::kernel_registry())
      if (opt.kernel_filter.empty() || k.name.find(opt.kernel_filter) != std::string::npos)
        kernels.push_back(k);
    std::sort(kernels.begin(), kernels.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    if (opt.list) {
      for (const auto& k : kernels) std::cout << k.name << "  " << k.tile.dump() << "\n";
      return 0;
    }
    if (kernels.empty()) usage_error("no kernel matches --kernel '" + opt.kernel_filter + "'");
    tc::require_compute_capability(9, 0, "tilesim-attn-bench (sm_90a kernels)");

    std::string args_str;
    for (int i = 1; i < argc; ++i) args_str += (i > 1 ? " " : "") + std::string(argv[i]);
    nlohmann::json doc = {{"schema", "tilesim.measurement.v1"},
                          {"family", "attention"},
                          {"tool", {{"name", "tilesim-attn-bench"}, {"args", args_str}}},
                          {"device", tc::device_report()},
                          {"runs", nlohmann::json::array()}};
    cudaStream_t st;
    TILESIM_CUDA_CHECK(cudaStreamCreate(&st));
    bool all_passed = true;
    uint64_t seed = 1;
    // Written after every shape, so a run cut short by a time limit still leaves its data.
    auto write_doc = [&]() {
      if (opt.out.empty()) return;
      doc["clocks_after"] = tc::clock_snapshot();
      std::ofstream f(opt.out);
      if (!f) throw std::runtime_error("cannot write " + opt.out);
      f << doc.dump(1) << "\n";
    };

    if (opt.check) {
      std::printf("%-36s %-34s %10s %10s %s\n", "kernel", "shape", "rel_err", "vs_fp64", "result");
      // Given shapes replace the odd check shapes (one launch per kernel and shape: what
      // a hardware-counter run profiles).
      for (const auto& p : opt.shapes.empty() ? check_shapes(opt.quick) : opt.shapes) {
        Workspace ws(p, seed++, st);
        for (const auto& ke : kernels) {
          if (ke.head_dim != p.head_dim) continue;
          const auto launch = ke.prepare(ws.args());
          const CheckOutcome c = run_check(ke, ws, launch, st);
          all_passed = all_passed && c.passed;
          std::printf("%-36s %-34s %10.2e %10.2e %s\n", ke.name.c_str(), shape_str(p).c_str(),
                      c.rel_err, c.json.value("rel_err_vs_cpu_fp64", -1.0),
                      c.passed ? "ok" : "FAIL");
          std::fflush(stdout);  // a hang in the next kernel still shows how far the check got
          doc["runs"].push_back({{"impl", "tilesim"},
                                 {"kernel", ke.name},
                                 {"schedule", ke.schedule},
                                 {"tile", ke.tile},
                                 {"problem", problem_json(p)},
                                 {"check", c.json},
                                 {"samples_ms", nlohmann::json::array()}});
        }
        write_doc();
      }
    }

    if (opt.sweep) {
      // The GPU heats and its SM clock sinks over a sweep (samples of one kernel drift up by
      // up to 8% within 30 launches). Timing is therefore interleaved: each shape's kernels
      // are timed round-robin in --passes passes of reps/passes samples each, so every
      // kernel sees the same mix of thermal states; the clock is recorded at every pass.
      tc::TimingOptions topt;
      topt.warmup = opt.warmup;
      topt.repetitions = (opt.reps + opt.passes - 1) / opt.passes;
      tc::NvmlSampler nvml(tc::pci_bus_id());
      if (!nvml.available()) std::printf("note: NVML unavailable (%s): no per-pass clock samples\n", nvml.why_unavailable().c_str());
      const std::vector<ta::AttnProblem> shapes = opt.shapes.empty() ? sweep_shapes() : opt.shapes;
      for (const auto& p : shapes) {
        if (std::none_of(kernels.begin(), kernels.end(), [&](const auto& k) { return k.head_dim == p.head_dim; })) {
          std::printf("skipped %s: no compiled kernel for head_dim %d\n", shape_str(p).c_str(), p.head_dim);
          all_passed = false;
          continue;
        }
        Workspace ws(p, seed++, st);
        struct Entry {
          const ta::KernelEntry* ke = nullptr;
          std::function<void(cudaStream_t)> launch;
          CheckOutcome check;
          std::vector<double> samples;
          nlohmann::json clocks = nlohmann::json::array();
          nlohmann::json nvml = nlohmann::json::array();  // per pass: SM clock, power, reasons
        };
        std::vector<Entry> entries;
        for (const auto& ke : kernels) {
          if (ke.head_dim != p.head_dim) continue;
          entries.emplace_back();
          Entry& e = entries.back();
          e.ke = &ke;
          e.launch = ke.prepare(ws.args());
          e.check = run_check(ke, ws, e.launch, st);  // every kernel is checked before timing
          all_passed = all_passed && e.check.passed;
        }
        for (int pass = 0; pass < opt.passes; ++pass) {
          for (auto& e : entries) {
            e.clocks.push_back(tc::clock_snapshot()["raw"]);
            nvml.arm();
            const std::vector<double> smp = tc::time_ms(e.launch, st, topt);
            e.nvml.push_back(nvml.disarm());
            e.samples.insert(e.samples.end(), smp.begin(), smp.end());
          }
        }
        std::printf("%-36s %-34s %10s %10s %9s %s\n", "kernel", "shape", "median_ms", "TFLOP/s",
                    "rel_err", "check");
        for (auto& e : entries) {
          const double med = tc::median(e.samples);
          const double tflops = ta::attention_flops(p) / (med * 1e-3) / 1e12;
          std::printf("%-36s %-34s %10.4f %10.1f %9.2e %s\n", e.ke->name.c_str(),
                      shape_str(p).c_str(), med, tflops, e.check.rel_err,
                      e.check.passed ? "ok" : "FAIL");
          doc["runs"].push_back({{"impl", "tilesim"},
                                 {"kernel", e.ke->name},
                                 {"schedule", e.ke->schedule},
                                 {"tile", e.ke->tile},
                                 {"problem", problem_json(p)},
                                 {"check", e.check.json},
                                 {"samples_ms", e.samples},
                                 {"median_ms", med},
                                 {"min_ms", *std::min_element(e.samples.begin(), e.samples.end())},
                                 {"tflops", tflops},
                                 {"clocks_per_pass", e.clocks},
                                 {"nvml_per_pass", e.nvml}});
        }
        std::fflush(stdout);
        write_doc();
      }
      doc["timing"] = {{"warmup_per_pass", opt.warmup},
                       {"passes", opt.passes},
                       {"repetitions_per_pass", topt.repetitions},
                       {"order", "per shape: all kernels round-robin, pass after pass"},
                       {"clocks_per_pass_query",
                        "clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu"},
                       {"l2_flush", false},
                       {"nvml_per_pass", "SM clock / power / clock-event reasons sampled every 2 ms "
                                         "through NVML while the pass's timed launches run (warm-up included)"},
                       {"note", "compute-bound kernels; inputs (>= 64 MB per shape) exceed L2"}};
    }
    TILESIM_CUDA_CHECK(cudaStreamDestroy(st));
    write_doc();
    std::printf("%s\n", all_passed ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
    return all_passed ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tilesim-attn-bench: error: " << e.what() << "\n";
    return 2;
  }
}
