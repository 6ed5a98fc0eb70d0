// tilesim-gemm-bench: correctness and timing of every compiled GEMM config against cuBLAS
// in the same process, written as a tilesim.measurement.v1 JSON (family "gemm").
//
//   --dtype bf16|fp8   the problem dtype (default bf16): which kernels run and what they are
//                      compared with. fp8 = block-scaled e4m3 (gemm_sm90_fp8): see below.
//
//   --check            small odd shapes, every config, correctness only; exit 1 on any failure
//   --sweep            the sweep shapes (8192^3, 2048^3, 128x8192x8192, 1024x1024x32768):
//                      correctness then timing of every config and of cuBLAS (before and after)
//   --shapes MxNxK,..  replace the shape list (with --check or --sweep)
//   --shape m=M,n=N,k=K  one shape (repeatable), --shapes-file F  the "gemm" list of F
//                      ("gemm_fp8" with --dtype fp8; e.g. data/heldout/shapes.json);
//                      syntax: kernels/common/shape_args.hpp
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
//
// fp8: A, B = random normals times a per-group power of two, quantized to e4m3 per 1x128
// (A) and 128x128 (B) group with scale = amax / 448 (gemm_fp8_data.hpp); reference = fp32
// GEMM (cuBLAS, CUBLAS_COMPUTE_32F_PEDANTIC: no TF32) of the DEQUANTIZED operands, itself
// spot-checked against float64 dot products that the host decodes from the e4m3 bytes and
// scales. Vendor: cuBLASLt fp8 with per-tensor scales (cublaslt_fp8.hpp; less work than
// block scaling), with and without fast accumulation, checked against the fp32 GEMM of the
// unscaled e4m3 values; plus cuBLAS bf16 on the dequantized operands (rounded to bf16) for
// context.
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
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cublaslt_fp8.hpp"
#include "cuda_check.hpp"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "gemm_check.hpp"
#include "gemm_fp8_data.hpp"
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
  std::string dtype = "bf16";
  std::vector<Shape> shapes;
  std::vector<std::string> shape_args, shape_files;  // resolved once --dtype is known
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
// fp8: 8192^3 and DeepSeek-V3 projection shapes (as DeepGEMM reports them).
const std::vector<Shape> kFp8SweepShapes = {
    {8192, 8192, 8192}, {4096, 7168, 2048}, {4096, 2112, 7168}, {4096, 24576, 1536},
    {4096, 4096, 7168}};
// fp8 check shapes: K a multiple of 16 (e4m3 TMA rows) but mostly not of the 128-wide scale
// group (a partial last group); N a multiple of 8 crossing 128-column scale blocks inside
// 192-wide tiles (520, 648); M odd, 1, tile + 1; one exact-tile shape; one deep-K shape.
const std::vector<Shape> kFp8CheckShapes = {{333, 520, 208},  {1, 8, 16},        {256, 256, 128},
                                            {129, 264, 144},  {77, 136, 4112},   {1000, 1000, 1008},
                                            {2065, 392, 528}, {255, 2056, 400},  {200, 648, 1040}};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "tilesim-gemm-bench: " << what << "\n"
            << "usage: tilesim-gemm-bench [--check | --sweep] [--shapes MxNxK,...] [--shape m=M,n=N,k=K]..."
               " [--shapes-file F] [--dtype bf16|fp8] [--filter s,...]"
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
    } else if (a == "--dtype") {
      o.dtype = value();
      if (o.dtype != "bf16" && o.dtype != "fp8") usage_error("--dtype must be bf16 or fp8, got '" + o.dtype + "'");
    } else if (a == "--shape") {
      o.shape_args.push_back(value());
    } else if (a == "--shapes-file") {
      o.shape_files.push_back(value());
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  // Shapes files hold bf16 GEMM shapes under "gemm", fp8 ones under "gemm_fp8".
  const bool fp8 = o.dtype == "fp8";
  try {
    std::vector<runner::ShapeValues> given;
    for (const std::string& v : o.shape_args) given.push_back(runner::parse_shape(v, runner::gemm_shape_keys()));
    for (const std::string& f : o.shape_files) {
      auto list = runner::shapes_from_file(f, fp8 ? "gemm_fp8" : "gemm", runner::gemm_shape_keys(), {o.dtype});
      given.insert(given.end(), list.begin(), list.end());
    }
    for (const auto& g : given)
      o.shapes.push_back(Shape{static_cast<int>(g["m"]), static_cast<int>(g["n"]), static_cast<int>(g["k"])});
  } catch (const runner::ShapeError& e) {
    usage_error(e.what());
  }
  if (!o.list && o.check == o.sweep)
    usage_error("give exactly one of --check, --sweep (or --list)");
  if (o.sweep && o.reps < 20) usage_error("--reps must be >= 20 for timing (median of many)");
  if (o.shapes.empty())
    o.shapes = o.sweep ? (fp8 ? kFp8SweepShapes : kSweepShapes) : (fp8 ? kFp8CheckShapes : kCheckShapes);
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


// fp8 tolerance on the relative Frobenius error against the fp32 GEMM of the dequantized
// operands (products of e4m3 values are exact in fp32, so the reference is exact up to fp32
// accumulation): the bf16 output rounding (2 x 2^-9, as for bf16), plus 2^-8 for the fp8
// tensor core's limited-precision accumulation inside one 128-wide K group (about 14
// mantissa bits kept, DeepSeek-V3 tech report; with cancellation in a 128-term sum the
// relative error of a group can reach ~2^-9..2^-8), plus K * 2^-24 for fp32 accumulation
// order. Wrong scale indexing is an O(1) error: group magnitudes differ by up to 64x.
double tolerance_for_fp8(int k) {
  const double fp8_group_accumulation = std::ldexp(1.0, -8);
  return tolerance_for(k) + fp8_group_accumulation;
}

// float64 dot products, decoded on the host from the e4m3 bytes and the scales, against
// the fp32 reference of a few random (i, j): checks the dequantization kernel, the scale
// layouts and the reference call's transpose convention independently of the device code.
void spot_check_reference_fp8(const Shape& s, const Fp8Problem& p, const float* ref, uint64_t seed) {
  constexpr int kSamples = 24;
  constexpr double kRelToAbsSum = 1e-5;
  std::mt19937_64 rng(seed);
  const std::size_t kz = static_cast<std::size_t>(s.k);
  std::vector<__nv_fp8_e4m3> ra(kz), rb(kz);
  std::vector<float> sa(static_cast<std::size_t>(p.k_groups)), sb(static_cast<std::size_t>(p.k_groups));
  for (int t = 0; t < kSamples; ++t) {
    const int i = static_cast<int>(rng() % static_cast<uint64_t>(s.m));
    const int j = static_cast<int>(rng() % static_cast<uint64_t>(s.n));
    TILESIM_CUDA_CHECK(cudaMemcpy(ra.data(), p.a + i * kz, kz, cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(rb.data(), p.b + j * kz, kz, cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy2D(sa.data(), sizeof(float), p.scale_a + i,
                                    static_cast<std::size_t>(p.scale_a_ld) * sizeof(float),
                                    sizeof(float), sa.size(), cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(sb.data(),
                                  p.scale_b + static_cast<std::size_t>(j / kFp8ScaleGroup) * p.k_groups,
                                  sb.size() * sizeof(float), cudaMemcpyDeviceToHost));
    float got = 0.f;
    TILESIM_CUDA_CHECK(cudaMemcpy(&got, ref + static_cast<std::size_t>(i) * s.n + j, sizeof(float),
                                  cudaMemcpyDeviceToHost));
    double exact = 0, abs_sum = 0;
    for (std::size_t q = 0; q < kz; ++q) {
      const std::size_t g = q / kFp8ScaleGroup;
      const double x = static_cast<double>(static_cast<float>(ra[q])) * sa[g];
      const double y = static_cast<double>(static_cast<float>(rb[q])) * sb[g];
      exact += x * y;
      abs_sum += std::fabs(x * y);
    }
    if (!(std::fabs(got - exact) <= kRelToAbsSum * abs_sum)) {
      throw std::runtime_error("fp8 reference disagrees with float64 at (" + std::to_string(i) +
                               ", " + std::to_string(j) + ") of " + s.str() + ": " +
                               std::to_string(got) + " vs " + std::to_string(exact));
    }
  }
}

// fp32 GEMM (no TF32) of row-major fp32 operands: the fp8 references.
void cublas_gemm_f32(cublasHandle_t h, const Shape& s, const float* a, const float* b, float* c) {
  const float alpha = 1.f, beta = 0.f;
  cublas_check(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s.n, s.m, s.k, &alpha, b, CUDA_R_32F, s.k,
                            a, CUDA_R_32F, s.k, &beta, c, CUDA_R_32F, s.n,
                            CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx (fp32 reference)");
}

double tflops(const Shape& s, double ms) {
  return 2.0 * s.m * static_cast<double>(s.n) * s.k / (ms * 1e-3) / 1e12;
}

json problem_json(const Shape& s, const std::string& dtype) {
  return {{"kind", "gemm"}, {"m", s.m}, {"n", s.n}, {"k", s.k}, {"dtype", dtype}};
}

struct Row {
  std::string shape, name, note;
  double median_ms = 0, tflops = 0, rel_err = 0;
  bool passed = false, timed = false;
  bool vendor = false, baseline = false;  // a library run; the one the kernels are compared to
};

// A library implementation run next to the kernels on the same shape.
struct Vendor {
  std::string impl, config, row_name;
  std::function<void(cudaStream_t)> launch;
  const float* ref = nullptr;  // the reference its output is checked against
  std::string reference;       // what that reference is
  std::string problem_dtype;
  double tolerance = 0;
  bool baseline = false;       // timed before and after the kernels and in the final rounds
};

int run(const Options& o) {
  auto& entries = registry();
  std::sort(entries.begin(), entries.end(),
            [](const KernelEntry& x, const KernelEntry& y) { return x.name < y.name; });
  if (o.list && o.json) {
    std::vector<kernels::ListedInstance> list;
    for (const auto& e : entries) list.push_back({e.name, e.schedule, e.tile, {{"dtype", e.dtype}}});
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

  const bool fp8 = o.dtype == "fp8";
  for (const Shape& s : o.shapes) {
    const std::size_t na = static_cast<std::size_t>(s.m) * s.k;
    const std::size_t nb = static_cast<std::size_t>(s.n) * s.k;
    const std::size_t nc = static_cast<std::size_t>(s.m) * s.n;
    __nv_bfloat16 *a = nullptr, *b = nullptr, *c = nullptr;
    float *ref = nullptr, *ref_raw = nullptr;
    Fp8Problem fp;
    std::vector<Vendor> vendors;
    std::unique_ptr<CublasLtFp8> lt, lt_fast;
    TILESIM_CUDA_CHECK(cudaMalloc(&a, na * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&b, nb * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&c, nc * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&ref, nc * sizeof(float)));
    GemmArgs args{a, b, c, s.m, s.n, s.k, {}, 0, {}};
    double tol = tolerance_for(s.k);
    std::string reference = "cublas_fp32_out";
    if (!fp8) {
      fill_random_bf16(a, na, ++seed, stream);
      fill_random_bf16(b, nb, ++seed, stream);
      cublas_gemm(handle, s, a, b, ref, CUDA_R_32F);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      spot_check_reference(s, a, b, ref, ++seed);
      vendors.push_back({"cublas", "cublasGemmEx_default", "cublas",
                         [&](cudaStream_t) { cublas_gemm(handle, s, a, b, c, CUDA_R_16BF); }, ref,
                         "cublas_fp32_out", "bf16", tol, true});
    } else {
      seed += 2;
      fp = make_fp8_problem(s.m, s.n, s.k, seed, stream);
      cublas_gemm_f32(handle, s, fp.a_deq, fp.b_deq, ref);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      spot_check_reference_fp8(s, fp, ref, ++seed);
      // bf16 copies of the dequantized operands (cuBLAS bf16 context run), then the
      // unscaled e4m3 values and their fp32 GEMM (what per-tensor-scaled cuBLASLt computes).
      convert_f32_to_bf16(fp.a_deq, a, na, stream);
      convert_f32_to_bf16(fp.b_deq, b, nb, stream);
      decode_e4m3(fp.a, fp.a_deq, na, stream);
      decode_e4m3(fp.b, fp.b_deq, nb, stream);
      TILESIM_CUDA_CHECK(cudaMalloc(&ref_raw, nc * sizeof(float)));
      cublas_gemm_f32(handle, s, fp.a_deq, fp.b_deq, ref_raw);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      TILESIM_CUDA_CHECK(cudaFree(fp.a_deq));
      TILESIM_CUDA_CHECK(cudaFree(fp.b_deq));
      fp.a_deq = fp.b_deq = nullptr;
      args.fp8 = fp.operands();
      tol = tolerance_for_fp8(s.k);
      reference = "fp32_gemm_of_dequantized";
      lt = std::make_unique<CublasLtFp8>(s.m, s.n, s.k, false);
      lt_fast = std::make_unique<CublasLtFp8>(s.m, s.n, s.k, true);
      if (lt->unsupported_reason().empty())
        vendors.push_back({"cublaslt_fp8_tensor_scale", "cublasLtMatmul_e4m3_tensor_scale", "cublaslt",
                           [&](cudaStream_t st) { lt->run(fp.a, fp.b, c, st); }, ref_raw,
                           "fp32_gemm_of_unscaled_e4m3", "fp8", tol, true});
      else
        std::cerr << "note: " << s.str() << ": " << lt->unsupported_reason() << "\n";
      if (lt_fast->unsupported_reason().empty())
        vendors.push_back({"cublaslt_fp8_tensor_scale_fast_accum",
                           "cublasLtMatmul_e4m3_tensor_scale_fast_accum", "cublaslt_fast_accum",
                           [&](cudaStream_t st) { lt_fast->run(fp.a, fp.b, c, st); }, ref_raw,
                           "fp32_gemm_of_unscaled_e4m3", "fp8", tol, false});
      vendors.push_back({"cublas", "cublasGemmEx_bf16_of_dequantized", "cublas_bf16",
                         [&](cudaStream_t) { cublas_gemm(handle, s, a, b, c, CUDA_R_16BF); }, ref,
                         "fp32_gemm_of_dequantized", "bf16", tol, false});
    }

    auto check_against = [&](const std::string& name, const float* r, double tolerance,
                             const std::string& what) {
      const ErrorStats st = compare_bf16_to_f32(c, r, nc, stream);
      const double err = st.rel_frobenius();
      const bool ok = st.nonfinite == 0 && err <= tolerance;
      json j = {{"rel_err", std::isfinite(err) ? json(err) : json(nullptr)},
                {"tolerance", tolerance},
                {"passed", ok},
                {"nonfinite", st.nonfinite},
                {"reference", what}};
      if (!ok) {
        std::cerr << "FAIL " << name << " " << s.str() << ": rel_err " << err << " (tol " << tolerance
                  << "), non-finite outputs " << st.nonfinite << "\n";
      }
      return std::make_pair(ok, j);
    };
    auto check_output = [&](const std::string& name) { return check_against(name, ref, tol, reference); };

    auto record = [&](const std::string& impl, const KernelEntry* e, const Vendor* v,
                      const json& check, const std::vector<double>& samples,
                      const std::string& note, const json& launch_info) {
      json r;
      r["impl"] = impl;
      r["schedule"] = e ? json(e->schedule) : json(nullptr);
      r["config"] = e ? e->name : v->config;
      r["tile"] = e ? e->tile : json::object();
      r["problem"] = problem_json(s, e ? o.dtype : v->problem_dtype);
      r["check"] = check;
      if (!note.empty()) r["note"] = note;
      if (!launch_info.is_null()) r["launch"] = launch_info;
      Row row{s.str(), e ? e->name : v->row_name, note};
      row.vendor = v != nullptr;
      row.baseline = v != nullptr && v->baseline;
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

    auto run_vendor = [&](const Vendor& v, const std::string& note) {
      fill_nan_bf16(c, nc, stream);
      v.launch(stream);
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
      auto [ok, chk] = check_against(v.row_name, v.ref, v.tolerance, v.reference);
      std::vector<double> samples;
      if (timing) samples = timed(v.launch);
      record(v.impl, nullptr, &v, chk, samples, note, json());
    };
    const Vendor* baseline = nullptr;
    for (const Vendor& v : vendors)
      if (v.baseline) baseline = &v;

    if (timing && baseline) run_vendor(*baseline, "before");
    for (const KernelEntry& e : entries) {
      if (!selected(e, o) || e.dtype != o.dtype) continue;
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
      record("tilesim", &e, nullptr, chk, samples, "", prep.launch_info);
      std::cout << (ok ? "ok   " : "FAIL ") << s.str() << " " << e.name << " rel_err "
                << rows.back().rel_err;
      if (rows.back().timed) std::cout << " " << rows.back().tflops << " TFLOP/s";
      std::cout << std::endl;
    }
    if (timing && baseline) run_vendor(*baseline, "after");
    // Context runs (fp8: cuBLASLt with fast accumulation, cuBLAS bf16); checked in --check too.
    for (const Vendor& v : vendors)
      if (!v.baseline || !timing) {
        run_vendor(v, "");
        std::cout << (rows.back().passed ? "ok   " : "note ") << s.str() << " " << v.row_name
                  << " rel_err " << rows.back().rel_err;
        if (rows.back().timed) std::cout << " " << rows.back().tflops << " TFLOP/s";
        std::cout << std::endl;
      }

    // Best-effort headline: alternate the library baseline and the best configs of this shape.
    if (timing && baseline && o.final_rounds > 0 && &s == &o.shapes.front()) {
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
        run_vendor(*baseline, note);
        for (const auto& [tf, e] : best) {
          const Prepared prep = e->prepare(args);
          fill_nan_bf16(c, nc, stream);
          prep.launch(stream);
          TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
          auto [ok, chk] = check_output(e->name);
          if (!ok) ++failures;
          std::vector<double> samples;
          if (ok) samples = timed(prep.launch);
          record("tilesim", e, nullptr, chk, samples, note, prep.launch_info);
        }
      }
    }
    lt.reset();
    lt_fast.reset();
    if (fp8) free_fp8_problem(fp);
    TILESIM_CUDA_CHECK(cudaFree(a));
    TILESIM_CUDA_CHECK(cudaFree(b));
    TILESIM_CUDA_CHECK(cudaFree(c));
    TILESIM_CUDA_CHECK(cudaFree(ref));
    if (ref_raw) TILESIM_CUDA_CHECK(cudaFree(ref_raw));
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
        if (r.baseline && r.timed) cub = std::max(cub, r.tflops);
      std::sort(rs.begin(), rs.end(),
                [](const Row& x, const Row& y) { return x.tflops > y.tflops; });
      int shown = 0;
      bool sm80_shown = false;
      for (const Row& r : rs) {
        if (!r.timed) continue;
        const bool is_cublas = r.vendor;
        const bool is_sm80 = r.name.rfind("sm80", 0) == 0;
        if (is_cublas || shown < 4 || (is_sm80 && !sm80_shown)) {
          const std::string label = is_cublas && !r.note.empty() ? r.name + "_" + r.note : r.name;
          std::printf("%-18s %-40s %10.4f %9.1f %7.1f%%\n", shape.c_str(), label.c_str(),
                      r.median_ms, r.tflops, cub > 0 ? 100.0 * r.tflops / cub : 0.0);
          if (!is_cublas) ++shown;
          if (is_sm80) sm80_shown = true;
        }
      }
    }
    std::map<std::string, std::vector<double>> finals;  // name -> per-round TFLOP/s
    std::string final_shape, baseline_name;
    for (const Row& r : rows) {
      if (r.note.rfind("final_round_", 0) == 0 && r.timed) {
        if (r.baseline) baseline_name = r.name;
        finals[r.name].push_back(r.tflops);
        final_shape = r.shape;
      }
    }
    if (!finals.empty()) {
      const double cub = cuda::median(finals[baseline_name]);
      std::printf("\nfinal rounds on %s (median over %d rounds of alternating runs)\n",
                  final_shape.c_str(), o.final_rounds);
      for (const auto& [name, v] : finals) {
        std::printf("%-40s %9.1f TFLOP/s %7.1f%% of %s\n", name.c_str(), cuda::median(v),
                    cub > 0 ? 100.0 * cuda::median(v) / cub : 0.0, baseline_name.c_str());
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
