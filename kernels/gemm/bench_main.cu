// tilesim-gemm-bench: correctness and timing of every compiled GEMM config against cuBLAS
// in the same process, written as a tilesim.measurement.v1 JSON (family "gemm").
//
//   --check            small odd shapes, every config, correctness only; exit 1 on any failure
//   --sweep            the sweep shapes (8192^3, 2048^3, 128x8192x8192, 1024x1024x32768):
//                      correctness then timing of every config and of cuBLAS (before and after)
//   --shapes MxNxK,..  replace the shape list (with --check or --sweep)
//   --shape m=M,n=N,k=K  one shape (repeatable), --shapes-file F  the "gemm" list of F
//                      (e.g. data/heldout/shapes.json); syntax: kernels/common/shape_args.hpp
//   Every timed run carries NVML samples of the SM clock, power and throttle reasons.
//   --filter a,b       only configs whose name contains one of the substrings
//   --out FILE         write the measurement JSON
//   --final-rounds R   (sweep) on the first shape, after the full pass, R rounds that
//                      alternate cuBLAS with the --final-top best configs, so that the
//                      headline comparison is not skewed by clock drift over the sweep
//   --warmup N --reps N --seed N
//   --list [--json]    the compiled configs; with --json in the model's vocabulary (no GPU needed)
//
// Correctness: A, B random bf16 in +-[1/64, 1] (never zero); C poisoned with NaN before
// every run; reference = cuBLAS with fp32 output (bf16 inputs, fp32 accumulation), itself
// spot-checked against a float64 dot product on the host; metric = relative Frobenius error
// ||C - ref|| / ||ref||, NaN/Inf anywhere fails.
#include <cublas_v2.h>
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
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "gemm_check.hpp"
#include "gemm_registry.hpp"
#include "instance_list.hpp"
#include "nvml_sampler.hpp"
#include "shape_args.hpp"

namespace tilesim::gemm {
namespace {

using nlohmann::json;

struct Shape {
  int m, n, k;
  std::string str() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  }
};

struct Options {
  bool check = false, sweep = false, list = false, json = false;
  std::vector<Shape> shapes;
  std::vector<std::string> filters;
  std::string out;
  int warmup = 10;
  int reps = 30;
  int final_rounds = 5;
  int final_top = 4;
  uint64_t seed = 20261121;
  std::string args;
};

// Shapes of the issue: square large, square 2048, skinny M=128, K-heavy.
const std::vector<Shape> kSweepShapes = {
    {8192, 8192, 8192}, {2048, 2048, 2048}, {128, 8192, 8192}, {1024, 1024, 32768}};
// Check shapes: M arbitrary (odd, 1, tile+1); N and K multiples of 8 (TMA/cp.async rows)
// but not of any tile; one exact-tile shape; one deep-K shape.
const std::vector<Shape> kCheckShapes = {{333, 520, 200},  {1, 8, 8},       {256, 256, 128},
                                         {129, 264, 72},   {77, 136, 4104}, {1000, 1000, 1000},
                                         {2065, 392, 520}, {255, 2056, 136}};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "tilesim-gemm-bench: " << what << "\n"
            << "usage: tilesim-gemm-bench [--check | --sweep] [--shapes MxNxK,...] [--shape m=M,n=N,k=K]..."
               " [--shapes-file F] [--filter s,...]"
               " [--out FILE] [--warmup N] [--reps N] [--seed N] [--list [--json]]\n";
  std::exit(2);
}

int parse_int(const std::string& s, const std::string& what) {
  try {
    std::size_t pos = 0;
    const long v = std::stol(s, &pos);
    if (pos != s.size() || v < 0 || v > (1L << 30)) throw std::invalid_argument(s);
    return static_cast<int>(v);
  } catch (const std::exception&) {
    usage_error("bad " + what + " '" + s + "'");
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string p;
  while (std::getline(ss, p, sep)) {
    if (!p.empty()) parts.push_back(p);
  }
  return parts;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    if (i > 1) o.args += ' ';
    o.args += argv[i];
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--check") {
      o.check = true;
    } else if (a == "--sweep") {
      o.sweep = true;
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--warmup") {
      o.warmup = parse_int(value(), "--warmup");
    } else if (a == "--reps") {
      o.reps = parse_int(value(), "--reps");
    } else if (a == "--final-rounds") {
      o.final_rounds = parse_int(value(), "--final-rounds");
    } else if (a == "--final-top") {
      o.final_top = parse_int(value(), "--final-top");
    } else if (a == "--seed") {
      o.seed = static_cast<uint64_t>(parse_int(value(), "--seed"));
    } else if (a == "--filter") {
      o.filters = split(value(), ',');
    } else if (a == "--shapes") {
      for (const std::string& s : split(value(), ',')) {
        const auto d = split(s, 'x');
        if (d.size() != 3) usage_error("shape '" + s + "' is not MxNxK");
        Shape sh{parse_int(d[0], "M"), parse_int(d[1], "N"), parse_int(d[2], "K")};
        if (sh.m < 1 || sh.n < 1 || sh.k < 1) usage_error("shape '" + s + "' has a zero extent");
        o.shapes.push_back(sh);
      }
    } else if (a == "--shape" || a == "--shapes-file") {
      try {
        const std::string v = value();
        std::vector<runner::ShapeValues> given;
        if (a == "--shape")
          given.push_back(runner::parse_shape(v, runner::gemm_shape_keys()));
        else
          given = runner::shapes_from_file(v, "gemm", runner::gemm_shape_keys(), {"bf16"});
        for (const auto& g : given)
          o.shapes.push_back(Shape{static_cast<int>(g["m"]), static_cast<int>(g["n"]), static_cast<int>(g["k"])});
      } catch (const runner::ShapeError& e) {
        usage_error(e.what());
      }
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  if (!o.list && o.check == o.sweep)
    usage_error("give exactly one of --check, --sweep (or --list)");
  if (o.sweep && o.reps < 20) usage_error("--reps must be >= 20 for timing (median of many)");
  if (o.shapes.empty()) o.shapes = o.sweep ? kSweepShapes : kCheckShapes;
  return o;
}

bool selected(const KernelEntry& e, const Options& o) {
  if (o.filters.empty()) return true;
  return std::any_of(o.filters.begin(), o.filters.end(),
                     [&](const std::string& f) { return e.name.find(f) != std::string::npos; });
}

void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: cublasStatus " + std::to_string(s));
  }
}

// C[M,N] = A[M,K] * B[N,K]^T in row-major = (column-major) C^T = B^T(op T on a KxN view) * A.
void cublas_gemm(cublasHandle_t h, const Shape& s, const __nv_bfloat16* a, const __nv_bfloat16* b,
                 void* c, cudaDataType_t c_type) {
  const float alpha = 1.f, beta = 0.f;
  cublas_check(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s.n, s.m, s.k, &alpha, b, CUDA_R_16BF, s.k,
                            a, CUDA_R_16BF, s.k, &beta, c, c_type, s.n, CUBLAS_COMPUTE_32F,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

// Tolerance on the relative Frobenius error: the bf16 output rounding alone is up to
// 2^-9 relative per element (unit roundoff); allow twice that, plus K * 2^-24 for fp32
// accumulation-order differences against cuBLAS. A missing k-block or 64x64 sub-tile
// is far above this; an unwritten element is NaN and fails outright.
double tolerance_for(int k) {
  const double bf16_unit_roundoff = std::ldexp(1.0, -9);
  const double fp32_unit_roundoff = std::ldexp(1.0, -24);
  return 2.0 * bf16_unit_roundoff + k * fp32_unit_roundoff;
}

// float64 dot products of a few random (i, j) against the cuBLAS fp32 reference, so that
// a wrong transpose convention in the reference call cannot go unnoticed.
void spot_check_reference(const Shape& s, const __nv_bfloat16* a, const __nv_bfloat16* b,
                          const float* ref, uint64_t seed) {
  constexpr int kSamples = 24;
  constexpr double kRelToAbsSum = 1e-5;  // fp32 accumulation error << 1e-5 * sum |a_i b_i|
  std::mt19937_64 rng(seed);
  std::vector<__nv_bfloat16> ra(static_cast<std::size_t>(s.k)), rb(static_cast<std::size_t>(s.k));
  for (int t = 0; t < kSamples; ++t) {
    const int i = static_cast<int>(rng() % static_cast<uint64_t>(s.m));
    const int j = static_cast<int>(rng() % static_cast<uint64_t>(s.n));
    TILESIM_CUDA_CHECK(cudaMemcpy(ra.data(), a + static_cast<std::size_t>(i) * s.k, ra.size() * 2,
                                  cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(rb.data(), b + static_cast<std::size_t>(j) * s.k, rb.size() * 2,
                                  cudaMemcpyDeviceToHost));
    float got = 0.f;
    TILESIM_CUDA_CHECK(cudaMemcpy(&got, ref + static_cast<std::size_t>(i) * s.n + j, sizeof(float),
                                  cudaMemcpyDeviceToHost));
    double exact = 0, abs_sum = 0;
    for (int q = 0; q < s.k; ++q) {
      const double p = static_cast<double>(__bfloat162float(ra[static_cast<std::size_t>(q)])) *
                       static_cast<double>(__bfloat162float(rb[static_cast<std::size_t>(q)]));
      exact += p;
      abs_sum += std::fabs(p);
    }
    if (!(std::fabs(got - exact) <= kRelToAbsSum * abs_sum)) {
      throw std::runtime_error("cuBLAS reference disagrees with float64 at (" + std::to_string(i) +
                               ", " + std::to_string(j) + ") of " + s.str() + ": " +
                               std::to_string(got) + " vs " + std::to_string(exact));
    }
  }
}

double tflops(const Shape& s, double ms) {
  return 2.0 * s.m * static_cast<double>(s.n) * s.k / (ms * 1e-3) / 1e12;
}

json problem_json(const Shape& s) {
  return {{"kind", "gemm"}, {"m", s.m}, {"n", s.n}, {"k", s.k}, {"dtype", "bf16"}};
}

struct Row {
  std::string shape, name, note;
  double median_ms = 0, tflops = 0, rel_err = 0;
  bool passed = false, timed = false;
};

int run(const Options& o) {
  auto& entries = registry();
  std::sort(entries.begin(), entries.end(),
            [](const KernelEntry& x, const KernelEntry& y) { return x.name < y.name; });
  if (o.list && o.json) {
    std::vector<kernels::ListedInstance> list;
    for (const auto& e : entries) list.push_back({e.name, e.schedule, e.tile, {{"dtype", "bf16"}}});
    return kernels::print_list_json("tilesim-gemm-bench", list);
  }
  if (o.list) {
    for (const auto& e : entries) std::cout << e.name << "  " << e.tile.dump() << "\n";
    return 0;
  }
  cuda::require_compute_capability(9, 0, "tilesim-gemm-bench (sm_90a kernels)");
  const bool timing = o.sweep;

  json doc;
  doc["schema"] = "tilesim.measurement.v1";
  doc["family"] = "gemm";
  doc["tool"] = {{"name", "tilesim-gemm-bench"}, {"args", o.args}};
  doc["device"] = cuda::device_report();
  doc["runs"] = json::array();

  cudaStream_t stream;
  TILESIM_CUDA_CHECK(cudaStreamCreate(&stream));
  cublasHandle_t handle;
  cublas_check(cublasCreate(&handle), "cublasCreate");
  cublas_check(cublasSetStream(handle, stream), "cublasSetStream");

  cudaDeviceProp prop{};
  TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  // Flush with twice the L2 so that no operand stays resident between timed samples.
  const std::size_t flush_bytes = 2 * static_cast<std::size_t>(prop.l2CacheSize);
  cuda::L2Flusher flusher(flush_bytes);
  cuda::TimingOptions topt;
  topt.warmup = o.warmup;
  topt.repetitions = o.reps;
  topt.flusher = &flusher;

  std::vector<Row> rows;
  int failures = 0;
  uint64_t seed = o.seed;
  cuda::NvmlSampler nvml(cuda::pci_bus_id());
  if (timing && !nvml.available()) std::cerr << "note: NVML unavailable (" << nvml.why_unavailable() << ")\n";
  json nvml_last;  // the last timed pass's samples (record() attaches them)
  auto timed = [&](const std::function<void(cudaStream_t)>& launch) {
    nvml.arm();
    std::vector<double> smp = cuda::time_ms(launch, stream, topt);
    nvml_last = nvml.disarm();
    return smp;
  };

  for (const Shape& s : o.shapes) {
    const std::size_t na = static_cast<std::size_t>(s.m) * s.k;
    const std::size_t nb = static_cast<std::size_t>(s.n) * s.k;
    const std::size_t nc = static_cast<std::size_t>(s.m) * s.n;
    __nv_bfloat16 *a, *b, *c;
    float* ref;
    TILESIM_CUDA_CHECK(cudaMalloc(&a, na * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&b, nb * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&c, nc * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&ref, nc * sizeof(float)));
    fill_random_bf16(a, na, ++seed, stream);
    fill_random_bf16(b, nb, ++seed, stream);
    cublas_gemm(handle, s, a, b, ref, CUDA_R_32F);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
    spot_check_reference(s, a, b, ref, ++seed);
    const double tol = tolerance_for(s.k);
    const GemmArgs args{a, b, c, s.m, s.n, s.k};

    auto check_output = [&](const std::string& name) {
      const ErrorStats st = compare_bf16_to_f32(c, ref, nc, stream);
      const double err = st.rel_frobenius();
      const bool ok = st.nonfinite == 0 && err <= tol;
      json j = {{"rel_err", std::isfinite(err) ? json(err) : json(nullptr)},
                {"tolerance", tol},
                {"passed", ok},
                {"nonfinite", st.nonfinite},
                {"reference", "cublas_fp32_out"}};
      if (!ok) {
        std::cerr << "FAIL " << name << " " << s.str() << ": rel_err " << err << " (tol " << tol
                  << "), non-finite outputs " << st.nonfinite << "\n";
      }
      return std::make_pair(ok, j);
    };

    auto record = [&](const std::string& impl, const KernelEntry* e, const json& check,
                      const std::vector<double>& samples, const std::string& note,
                      const json& launch_info) {
      json r;
      r["impl"] = impl;
      r["schedule"] = e ? json(e->schedule) : json(nullptr);
      r["config"] = e ? e->name : std::string("cublasGemmEx_default");
      r["tile"] = e ? e->tile : json::object();
      r["problem"] = problem_json(s);
      r["check"] = check;
      if (!note.empty()) r["note"] = note;
      if (!launch_info.is_null()) r["launch"] = launch_info;
      Row row{s.str(), e ? e->name : "cublas", note};
      row.passed = check.value("passed", false);
      row.rel_err = check["rel_err"].is_null() ? INFINITY : check["rel_err"].get<double>();
      if (!samples.empty()) {
        const double med = cuda::median(samples);
        r["samples_ms"] = samples;
        r["median_ms"] = med;
        r["min_ms"] = *std::min_element(samples.begin(), samples.end());
        r["tflops"] = tflops(s, med);
        r["clocks_after_run"] = cuda::clock_snapshot();
        r["nvml"] = nvml_last;
        row.timed = true;
        row.median_ms = med;
        row.tflops = tflops(s, med);
      }
      doc["runs"].push_back(r);
      rows.push_back(row);
    };

    auto run_cublas = [&](const std::string& note) {
      fill_nan_bf16(c, nc, stream);
      cublas_gemm(handle, s, a, b, c, CUDA_R_16BF);
      auto [ok, chk] = check_output("cublas");
      std::vector<double> samples;
      if (timing) {
        samples = timed([&](cudaStream_t) { cublas_gemm(handle, s, a, b, c, CUDA_R_16BF); });
      }
      record("cublas", nullptr, chk, samples, note, json());
    };

    if (timing) run_cublas("before");
    for (const KernelEntry& e : entries) {
      if (!selected(e, o)) continue;
      const std::string why = e.unsupported_reason(args);
      if (!why.empty()) {
        std::cerr << "skip " << e.name << " on " << s.str() << ": " << why << "\n";
        continue;
      }
      const Prepared prep = e.prepare(args);
      const Launcher& launch = prep.launch;
      fill_nan_bf16(c, nc, stream);
      launch(stream);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      auto [ok, chk] = check_output(e.name);
      if (!ok) ++failures;
      std::vector<double> samples;
      if (timing && ok) samples = timed(launch);
      record("tilesim", &e, chk, samples, "", prep.launch_info);
      std::cout << (ok ? "ok   " : "FAIL ") << s.str() << " " << e.name << " rel_err "
                << rows.back().rel_err;
      if (rows.back().timed) std::cout << " " << rows.back().tflops << " TFLOP/s";
      std::cout << std::endl;
    }
    if (timing) run_cublas("after");

    // Best-effort headline: alternate cuBLAS and the best configs of this shape.
    if (timing && o.final_rounds > 0 && &s == &o.shapes.front()) {
      std::vector<std::pair<double, const KernelEntry*>> best;
      for (const KernelEntry& e : entries) {
        for (const Row& r : rows) {
          if (r.shape == s.str() && r.name == e.name && r.timed && r.passed) {
            best.emplace_back(r.tflops, &e);
          }
        }
      }
      std::sort(best.begin(), best.end(),
                [](const auto& x, const auto& y) { return x.first > y.first; });
      if (static_cast<int>(best.size()) > o.final_top)
        best.resize(static_cast<std::size_t>(o.final_top));
      for (int round = 0; round < o.final_rounds; ++round) {
        const std::string note = "final_round_" + std::to_string(round);
        run_cublas(note);
        for (const auto& [tf, e] : best) {
          const Prepared prep = e->prepare(args);
          fill_nan_bf16(c, nc, stream);
          prep.launch(stream);
          TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
          auto [ok, chk] = check_output(e->name);
          if (!ok) ++failures;
          std::vector<double> samples;
          if (ok) samples = timed(prep.launch);
          record("tilesim", e, chk, samples, note, prep.launch_info);
        }
      }
    }
    TILESIM_CUDA_CHECK(cudaFree(a));
    TILESIM_CUDA_CHECK(cudaFree(b));
    TILESIM_CUDA_CHECK(cudaFree(c));
    TILESIM_CUDA_CHECK(cudaFree(ref));
  }
  doc["clocks_after"] = cuda::clock_snapshot();
  cublasDestroy(handle);
  TILESIM_CUDA_CHECK(cudaStreamDestroy(stream));

  if (!o.out.empty()) {
    std::ofstream f(o.out);
    if (!f) throw std::runtime_error("cannot write " + o.out);
    f << doc.dump(1) << "\n";
  }

  // Summary. Full pass: per shape, cuBLAS (the faster of before/after) and the best
  // configs. Final rounds: per config, the median over rounds of the per-round medians,
  // against cuBLAS's median over the same rounds.
  if (timing) {
    std::map<std::string, std::vector<Row>> by_shape;
    for (const Row& r : rows)
      if (r.note.rfind("final_round_", 0) != 0) by_shape[r.shape].push_back(r);
    std::printf("\n%-18s %-40s %10s %9s %8s\n", "shape", "config", "median_ms", "TFLOP/s",
                "%cuBLAS");
    for (auto& [shape, rs] : by_shape) {
      double cub = 0;
      for (const Row& r : rs)
        if (r.name == "cublas" && r.timed) cub = std::max(cub, r.tflops);
      std::sort(rs.begin(), rs.end(),
                [](const Row& x, const Row& y) { return x.tflops > y.tflops; });
      int shown = 0;
      bool sm80_shown = false;
      for (const Row& r : rs) {
        if (!r.timed) continue;
        const bool is_cublas = r.name == "cublas";
        const bool is_sm80 = r.name.rfind("sm80", 0) == 0;
        if (is_cublas || shown < 4 || (is_sm80 && !sm80_shown)) {
          const std::string label = is_cublas ? "cublas_" + r.note : r.name;
          std::printf("%-18s %-40s %10.4f %9.1f %7.1f%%\n", shape.c_str(), label.c_str(),
                      r.median_ms, r.tflops, cub > 0 ? 100.0 * r.tflops / cub : 0.0);
          if (!is_cublas) ++shown;
          if (is_sm80) sm80_shown = true;
        }
      }
    }
    std::map<std::string, std::vector<double>> finals;  // name -> per-round TFLOP/s
    std::string final_shape;
    for (const Row& r : rows) {
      if (r.note.rfind("final_round_", 0) == 0 && r.timed) {
        finals[r.name].push_back(r.tflops);
        final_shape = r.shape;
      }
    }
    if (!finals.empty()) {
      const double cub = cuda::median(finals["cublas"]);
      std::printf("\nfinal rounds on %s (median over %d rounds of alternating runs)\n",
                  final_shape.c_str(), o.final_rounds);
      for (const auto& [name, v] : finals) {
        std::printf("%-40s %9.1f TFLOP/s %7.1f%% of cuBLAS\n", name.c_str(), cuda::median(v),
                    cub > 0 ? 100.0 * cuda::median(v) / cub : 0.0);
      }
    }
  }
  std::printf("%d failure(s) over %zu runs\n", failures, rows.size());
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tilesim::gemm

int main(int argc, char** argv) {
  try {
    return tilesim::gemm::run(tilesim::gemm::parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "tilesim-gemm-bench: error: " << e.what() << "\n";
    return 1;
  }
}
