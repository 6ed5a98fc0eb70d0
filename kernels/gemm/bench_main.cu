// tilesim-gemm-bench: correctness and timing of every compiled GEMM config against cuBLAS
// in the same process, written as a tilesim.measurement.v1 JSON (family "gemm"). The
// command line, the document and the timing are the runners' shared layer
// (kernels/common/runner_cli.hpp, timed_run.hpp); the GEMM adds:
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
//   --quick            the first three check shapes / the first sweep shape
//   Every timed run carries NVML samples of the SM clock, power and throttle reasons.
//   --filter a,b       only configs whose name contains one of the substrings (--kernel S: one)
//   --out FILE         write the measurement JSON
//   --final-rounds R   (sweep) on the first shape, after the full pass, R rounds that
//                      alternate cuBLAS with the --final-top best configs, so that the
//                      headline comparison is not skewed by clock drift over the sweep
//   --warmup N --reps N --seed N (default seed 20261121)
//   --sustain-ms T     (sweep) after each timed run, the same launch for T ms twice: as the
//                      sweep samples it (flush, wait) and back to back, with the SM clock,
//                      power and kernel time along the way (kernels/common/sustain_trace.hpp);
//                      select configs with --filter: each costs 2 x (T + 1.5 s idle)
//   --stage-trace S    (sweep) after each gemm_sm90_ws / gemm_sm90_fp8 config's timing, one more launch from a
//                      flushed L2 that records each CTA's first S K steps (SM clock at the
//                      producer's issue, the consumer's full barrier and its release), summarized
//                      as the run's "stage_trace" (kernels/common/stage_trace_summary.hpp):
//                      the stage's loaded latency, the consumer's hold, the producer's reaction,
//                      the gap between tiles and each CTA's SM clock (clock64 / %globaltimer)
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
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cublaslt_fp8.hpp"
#include "cuda_check.hpp"
#include "device_buffer.cuh"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "gemm_check.hpp"
#include "gemm_fp8_data.hpp"
#include "gemm_registry.hpp"
#include "instance_list.hpp"
#include "nvml_sampler.hpp"
#include "runner_cli.hpp"
#include "shape_args.hpp"
#include "sustain_trace.hpp"
#include "timed_run.hpp"

namespace tilesim::gemm {
namespace {

using nlohmann::json;

struct Shape {
  int m, n, k;
  std::string str() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  }
};

// The default seed: the GEMM's check shapes have always run on these inputs.
constexpr uint64_t kDefaultSeed = 20261121;
constexpr int kDefaultReps = 30;
constexpr int kMinReps = 20;  // a median of many
// --quick: how many shapes of the built-in lists.
constexpr std::size_t kQuickCheckShapes = 3, kQuickSweepShapes = 1;

struct Options : runner::CheckSweepOptions {
  std::string dtype = "bf16";
  std::vector<Shape> given;  // --shapes, then --shape / --shapes-file (empty: the built-in lists)
  std::vector<std::string> filters;
  int warmup = 10;
  int final_rounds = 5;
  int final_top = 4;
  int sustain_ms = 0;  // 0: no sustained traces
  int stage_trace_steps = 0;  // 0: no stage trace
  bool fp8() const { return dtype == "fp8"; }
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

Shape shape_of(const runner::ShapeValues& v) {
  return {static_cast<int>(v["m"]), static_cast<int>(v["n"]), static_cast<int>(v["k"])};
}

// --shapes MxNxK,...: each shape through the shared key ranges, as m=M,n=N,k=K.
std::vector<Shape> parse_dims_list(const std::string& list) {
  std::vector<Shape> out;
  std::size_t from = 0;
  while (from < list.size()) {
    const std::size_t comma = std::min(list.find(',', from), list.size());
    std::string dims = list.substr(from, comma - from);
    from = comma + 1;
    if (dims.empty()) continue;
    const std::size_t x1 = dims.find('x'), x2 = dims.find('x', x1 + 1);
    if (x1 == std::string::npos || x2 == std::string::npos || dims.find('x', x2 + 1) != std::string::npos)
      throw std::invalid_argument("--shapes: '" + dims + "' is not MxNxK");
    const std::string kv = "m=" + dims.substr(0, x1) + ",n=" + dims.substr(x1 + 1, x2 - x1 - 1) +
                           ",k=" + dims.substr(x2 + 1);
    out.push_back(shape_of(runner::parse_shape(kv, runner::gemm_shape_keys())));
  }
  if (out.empty()) throw std::invalid_argument("--shapes needs MxNxK[,MxNxK...]");
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  std::vector<Shape> dims_shapes;
  const runner::ExtraFlag dims = [&](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != "--shapes") return false;
    for (const Shape& s : parse_dims_list(value())) dims_shapes.push_back(s);
    return true;
  };
  runner::CheckSweepSpec spec{"gemm", runner::gemm_shape_keys(), kDefaultReps, kMinReps,
                              runner::any_flag({dims, runner::kernel_filter_flag(&o.filters),
                                                runner::choice_flag("--dtype", &o.dtype, {"bf16", "fp8"}),
                                                runner::integer_flag("--warmup", &o.warmup, 0, 1000),
                                                runner::integer_flag("--final-rounds", &o.final_rounds, 0, 1000),
                                                runner::integer_flag("--final-top", &o.final_top, 0, 1000),
                                                runner::integer_flag("--sustain-ms", &o.sustain_ms, 0, 60000),
                                                runner::integer_flag("--stage-trace", &o.stage_trace_steps, 0, 65536)}),
                              "--shapes MxNxK,..., --dtype bf16|fp8, --filter a,b, --kernel S, --warmup N, "
                              "--final-rounds R, --final-top N, --sustain-ms T, --stage-trace S"};
  spec.shapes_with_check = true;
  spec.list_flag = true;
  spec.default_seed = kDefaultSeed;
  // Shapes files hold bf16 GEMM shapes under "gemm", fp8 ones under "gemm_fp8".
  spec.shape_list = [&] { return runner::ShapeList{o.fp8() ? "gemm_fp8" : "gemm", o.dtype}; };
  static_cast<runner::CheckSweepOptions&>(o) = runner::parse_check_sweep(argc, argv, spec);
  if (o.stage_trace_steps > 0 && !kStageTraceMarks)
    throw std::invalid_argument(
        "--stage-trace needs a build with the per-K-step marks (cmake -DTILESIM_STAGE_TRACE=ON): "
        "timing builds leave them out, they slow the kernels' consumer loops");
  o.given = dims_shapes;
  for (const auto& v : o.shapes) o.given.push_back(shape_of(v));
  return o;
}

// The shapes of the check (timing off) or the sweep: the given ones, else the built-in list.
std::vector<Shape> shapes_for(const Options& o, bool timing) {
  if (!o.given.empty()) return o.given;
  std::vector<Shape> s = timing ? (o.fp8() ? kFp8SweepShapes : kSweepShapes)
                                : (o.fp8() ? kFp8CheckShapes : kCheckShapes);
  if (o.quick) s.resize(std::min(s.size(), timing ? kQuickSweepShapes : kQuickCheckShapes));
  return s;
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
  return bf16_gemm_tolerance(k) + fp8_group_accumulation;
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

// One shape's operands, references and library runs (the vendors' launches point into it,
// so it stays where it was built).
struct ShapeData {
  Shape s;
  std::size_t na = 0, nb = 0, nc = 0;
  __nv_bfloat16 *a = nullptr, *b = nullptr, *c = nullptr;
  float *ref = nullptr, *ref_raw = nullptr;  // ref_raw: fp8 only, of the unscaled e4m3 values
  Fp8Problem fp;
  bool has_fp8 = false;
  std::unique_ptr<CublasLtFp8> lt, lt_fast;
  GemmArgs args;
  double tol = 0;         // the kernels' tolerance
  std::string reference;  // what the kernels are checked against
  std::vector<Vendor> vendors;

  explicit ShapeData(const Shape& shape)
      : s(shape),
        na(static_cast<std::size_t>(shape.m) * shape.k),
        nb(static_cast<std::size_t>(shape.n) * shape.k),
        nc(static_cast<std::size_t>(shape.m) * shape.n) {
    TILESIM_CUDA_CHECK(cudaMalloc(&a, na * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&b, nb * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&c, nc * 2));
    TILESIM_CUDA_CHECK(cudaMalloc(&ref, nc * sizeof(float)));
    args = GemmArgs{a, b, c, s.m, s.n, s.k, {}, 0, {}, {}};
  }
  ~ShapeData() {
    lt.reset();
    lt_fast.reset();
    if (has_fp8) free_fp8_problem(fp);
    for (void* p : {static_cast<void*>(a), static_cast<void*>(b), static_cast<void*>(c),
                    static_cast<void*>(ref), static_cast<void*>(ref_raw)})
      cudaFree(p);
  }
  ShapeData(const ShapeData&) = delete;
  ShapeData& operator=(const ShapeData&) = delete;
};

// A check or a sweep over a list of shapes: the stream cuBLAS is bound to, the timing (sweep
// only: L2 flush, NVML), the summary rows. Runs land in the measurement's "runs".
class GemmPass {
 public:
  GemmPass(const Options& o, runner::Measurement& m, bool timing)
      : o_(o), m_(m), timing_(timing), entries_(registry()), seed_(o.seed) {
    std::sort(entries_.begin(), entries_.end(),
              [](const KernelEntry& x, const KernelEntry& y) { return x.name < y.name; });
    TILESIM_CUDA_CHECK(cudaStreamCreate(&stream_));
    cublas_check(cublasCreate(&handle_), "cublasCreate");
    cublas_check(cublasSetStream(handle_, stream_), "cublasSetStream");
    if (!timing_) return;
    cudaDeviceProp prop{};
    TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    // Flush with twice the L2 so that no operand stays resident between timed samples.
    flusher_ = std::make_unique<cuda::L2Flusher>(2 * static_cast<std::size_t>(prop.l2CacheSize), cuda::flush_mode(o));
    topt_.warmup = o.warmup;
    topt_.repetitions = o.reps;
    topt_.flusher = flusher_.get();
    nvml_ = cuda::open_nvml_sampler();
    // The flush alone, back to back: the power of what fills the gaps between the samples.
    if (o.sustain_ms > 0) {
      cuda::L2Flusher* f = flusher_.get();
      cuda::SustainOptions so;
      so.duration_ms = o.sustain_ms;
      m_["sustain_l2_flush"] = cuda::sustain_trace([f](cudaStream_t st) { f->flush(st); }, stream_, so, nvml_.get());
      m_["sustain_l2_flush"]["bytes"] = 2 * static_cast<std::size_t>(prop.l2CacheSize);
    }
  }
  ~GemmPass() {
    cublasDestroy(handle_);
    cudaStreamDestroy(stream_);
  }
  GemmPass(const GemmPass&) = delete;
  GemmPass& operator=(const GemmPass&) = delete;

  // Every selected kernel and library run on the shape; the final rounds on the first one.
  void run_shape(const Shape& s, bool first) {
    ShapeData d(s);
    if (o_.fp8())
      prepare_fp8(d);
    else
      prepare_bf16(d);
    const Vendor* baseline = nullptr;
    for (const Vendor& v : d.vendors)
      if (v.baseline) baseline = &v;
    if (timing_ && baseline) run_vendor(d, *baseline, "before");
    for (const KernelEntry& e : entries_) {
      if (!runner::kernel_selected(e.name, o_.filters) || e.dtype != o_.dtype) continue;
      const std::string why = e.unsupported_reason(d.args);
      if (!why.empty()) {
        std::cerr << "skip " << e.name << " on " << s.str() << ": " << why << "\n";
        continue;
      }
      run_kernel(d, e, "");
      print_last("FAIL ");
    }
    if (timing_ && baseline) run_vendor(d, *baseline, "after");
    // Context runs (fp8: cuBLASLt with fast accumulation, cuBLAS bf16); checked in --check too.
    for (const Vendor& v : d.vendors)
      if (!v.baseline || !timing_) {
        run_vendor(d, v, "");
        print_last("note ");
      }
    if (timing_ && baseline && o_.final_rounds > 0 && first) final_rounds(d, *baseline);
  }

  int failures() const { return failures_; }
  // Sweep: per shape, cuBLAS (the faster of before/after) and the best configs; then the
  // final rounds. Both: the failure count.
  void print_summary() const;

 private:
  void prepare_bf16(ShapeData& d) {
    fill_random_bf16(d.a, d.na, ++seed_, stream_);
    fill_random_bf16(d.b, d.nb, ++seed_, stream_);
    cublas_gemm_bf16(handle_, d.s.m, d.s.n, d.s.k, d.a, d.b, d.ref, CUDA_R_32F);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    spot_check_reference(d.s, d.a, d.b, d.ref, ++seed_);
    d.tol = bf16_gemm_tolerance(d.s.k);
    d.reference = "cublas_fp32_out";
    d.vendors.push_back({"cublas", "cublasGemmEx_default", "cublas", bf16_cublas(d), d.ref,
                         "cublas_fp32_out", "bf16", d.tol, true});
  }

  void prepare_fp8(ShapeData& d) {
    const Shape& s = d.s;
    seed_ += 2;
    d.fp = make_fp8_problem(s.m, s.n, s.k, seed_, stream_);
    d.has_fp8 = true;
    cublas_gemm_f32(handle_, s, d.fp.a_deq, d.fp.b_deq, d.ref);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    spot_check_reference_fp8(s, d.fp, d.ref, ++seed_);
    // bf16 copies of the dequantized operands (cuBLAS bf16 context run), then the
    // unscaled e4m3 values and their fp32 GEMM (what per-tensor-scaled cuBLASLt computes).
    convert_f32_to_bf16(d.fp.a_deq, d.a, d.na, stream_);
    convert_f32_to_bf16(d.fp.b_deq, d.b, d.nb, stream_);
    decode_e4m3(d.fp.a, d.fp.a_deq, d.na, stream_);
    decode_e4m3(d.fp.b, d.fp.b_deq, d.nb, stream_);
    TILESIM_CUDA_CHECK(cudaMalloc(&d.ref_raw, d.nc * sizeof(float)));
    cublas_gemm_f32(handle_, s, d.fp.a_deq, d.fp.b_deq, d.ref_raw);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    TILESIM_CUDA_CHECK(cudaFree(d.fp.a_deq));
    TILESIM_CUDA_CHECK(cudaFree(d.fp.b_deq));
    d.fp.a_deq = d.fp.b_deq = nullptr;
    d.args.fp8 = d.fp.operands();
    d.tol = tolerance_for_fp8(s.k);
    d.reference = "fp32_gemm_of_dequantized";
    d.lt = std::make_unique<CublasLtFp8>(s.m, s.n, s.k, false);
    d.lt_fast = std::make_unique<CublasLtFp8>(s.m, s.n, s.k, true);
    const CublasLtFp8* lt = d.lt.get();
    const CublasLtFp8* lt_fast = d.lt_fast.get();
    const Fp8Problem* fp = &d.fp;
    __nv_bfloat16* c = d.c;
    if (lt->unsupported_reason().empty())
      d.vendors.push_back({"cublaslt_fp8_tensor_scale", "cublasLtMatmul_e4m3_tensor_scale", "cublaslt",
                           [=](cudaStream_t st) { lt->run(fp->a, fp->b, c, st); }, d.ref_raw,
                           "fp32_gemm_of_unscaled_e4m3", "fp8", d.tol, true});
    else
      std::cerr << "note: " << s.str() << ": " << lt->unsupported_reason() << "\n";
    if (lt_fast->unsupported_reason().empty())
      d.vendors.push_back({"cublaslt_fp8_tensor_scale_fast_accum",
                           "cublasLtMatmul_e4m3_tensor_scale_fast_accum", "cublaslt_fast_accum",
                           [=](cudaStream_t st) { lt_fast->run(fp->a, fp->b, c, st); }, d.ref_raw,
                           "fp32_gemm_of_unscaled_e4m3", "fp8", d.tol, false});
    d.vendors.push_back({"cublas", "cublasGemmEx_bf16_of_dequantized", "cublas_bf16", bf16_cublas(d),
                         d.ref, "fp32_gemm_of_dequantized", "bf16", d.tol, false});
  }

  // cuBLAS bf16 into C (on the stream the handle is bound to).
  std::function<void(cudaStream_t)> bf16_cublas(const ShapeData& d) const {
    return [h = handle_, s = d.s, a = d.a, b = d.b, c = d.c](cudaStream_t) {
      cublas_gemm_bf16(h, s.m, s.n, s.k, a, b, c, CUDA_R_16BF);
    };
  }

  // C against `r`: relative Frobenius error within `tolerance`, no non-finite element.
  json check_against(const ShapeData& d, const std::string& name, const float* r, double tolerance,
                     const std::string& what) {
    const ErrorStats st = compare_bf16_to_f32(d.c, r, d.nc, stream_);
    const double err = st.rel_frobenius();
    const bool ok = st.nonfinite == 0 && err <= tolerance;
    if (!ok)
      std::cerr << "FAIL " << name << " " << d.s.str() << ": rel_err " << err << " (tol " << tolerance
                << "), non-finite outputs " << st.nonfinite << "\n";
    return {{"rel_err", std::isfinite(err) ? json(err) : json(nullptr)},
            {"tolerance", tolerance},
            {"passed", ok},
            {"nonfinite", st.nonfinite},
            {"reference", what}};
  }

  // One launch on a NaN-poisoned C, synchronized.
  void launch_poisoned(const ShapeData& d, const std::function<void(cudaStream_t)>& launch) {
    fill_nan_bf16(d.c, d.nc, stream_);
    launch(stream_);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  // A library run: checked, then timed in a sweep (whatever the check said: a vendor's
  // time is context, not a claim).
  void run_vendor(const ShapeData& d, const Vendor& v, const std::string& note) {
    launch_poisoned(d, v.launch);
    const json chk = check_against(d, v.row_name, v.ref, v.tolerance, v.reference);
    record(d, v.impl, nullptr, &v, chk, note, json(), timing_ ? &v.launch : nullptr);
  }

  // A compiled kernel: checked, then timed in a sweep if the check passed.
  void run_kernel(const ShapeData& d, const KernelEntry& e, const std::string& note) {
    const Prepared prep = e.prepare(d.args);
    launch_poisoned(d, prep.launch);
    const json chk = check_against(d, e.name, d.ref, d.tol, d.reference);
    const bool ok = chk["passed"].get<bool>();
    if (!ok) ++failures_;
    record(d, "tilesim", &e, nullptr, chk, note, prep.launch_info, timing_ && ok ? &prep.launch : nullptr);
    const bool traceable = e.schedule == "gemm_sm90_ws" || e.schedule == "gemm_sm90_fp8";
    if (timing_ && ok && o_.stage_trace_steps > 0 && traceable && note.empty())
      m_.runs().back()["stage_trace"] = stage_trace(d, e, prep);
  }

  // gemm_sm90_ws's and gemm_sm90_fp8's per-stage SM timestamps on one more launch after the
  // timed ones, from an L2 flushed as for them; the timed launches record nothing (a null
  // trace).
  json stage_trace(const ShapeData& d, const KernelEntry& e, const Prepared& timed) {
    const int ctas = timed.launch_info["grid_ctas"].get<int>();
    const int steps = o_.stage_trace_steps;
    const std::size_t count = static_cast<std::size_t>(ctas) * steps * cuda::kStageMarks;
    const std::size_t span_count = static_cast<std::size_t>(ctas) * cuda::kSpanValues;
    const cuda::DevBuf<std::uint64_t> marks(count), span(span_count);
    TILESIM_CUDA_CHECK(cudaMemsetAsync(marks.ptr, 0, count * sizeof(std::uint64_t), stream_));
    TILESIM_CUDA_CHECK(cudaMemsetAsync(span.ptr, 0, span_count * sizeof(std::uint64_t), stream_));
    GemmArgs traced = d.args;
    traced.stage_trace = StageTrace{marks.ptr, span.ptr, steps};
    const Prepared p = e.prepare(traced);
    flusher_->flush(stream_);
    p.launch(stream_);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return cuda::summarize_stage_trace(cuda::download(marks.ptr, count), ctas, steps, e.tile["stages"].get<int>(),
                                       timed.launch_info["k_steps_per_item"].get<int>(),
                                       cuda::download(span.ptr, span_count));
  }

  // Appends the run (timing `launch` first when given) and its summary row.
  void record(const ShapeData& d, const std::string& impl, const KernelEntry* e, const Vendor* v,
              const json& check, const std::string& note, const json& launch_info,
              const std::function<void(cudaStream_t)>* launch) {
    json r;
    r["impl"] = impl;
    r["schedule"] = e ? json(e->schedule) : json(nullptr);
    r["config"] = e ? e->name : v->config;
    r["tile"] = e ? e->tile : json::object();
    r["problem"] = problem_json(d.s, e ? o_.dtype : v->problem_dtype);
    r["check"] = check;
    if (!note.empty()) r["note"] = note;
    if (!launch_info.is_null()) r["launch"] = launch_info;
    Row row{d.s.str(), e ? e->name : v->row_name, note};
    row.vendor = v != nullptr;
    row.baseline = v != nullptr && v->baseline;
    row.passed = check.value("passed", false);
    row.rel_err = check["rel_err"].is_null() ? INFINITY : check["rel_err"].get<double>();
    if (launch != nullptr) {
      row.median_ms = cuda::time_into(r, *launch, topt_, nvml_.get(), stream_);
      row.tflops = tflops(d.s, row.median_ms);
      row.timed = true;
      r["tflops"] = row.tflops;
      r["clocks_after_run"] = cuda::clock_snapshot();
      if (o_.sustain_ms > 0 && (note.empty() || note == "before"))  // once per config
        r["sustain"] = cuda::sustain_traces(*launch, stream_, o_.sustain_ms, flusher_.get(), nvml_.get());
    }
    m_.runs().push_back(r);
    rows_.push_back(row);
  }

  void print_last(const char* fail_word) const {
    const Row& r = rows_.back();
    std::cout << (r.passed ? "ok   " : fail_word) << r.shape << " " << r.name << " rel_err " << r.rel_err;
    if (r.timed) std::cout << " " << r.tflops << " TFLOP/s";
    std::cout << std::endl;
  }

  // Alternates the library baseline and the best configs of this shape, so that the
  // headline comparison is not skewed by clock drift over the sweep.
  void final_rounds(const ShapeData& d, const Vendor& baseline) {
    std::vector<std::pair<double, const KernelEntry*>> best;
    for (const KernelEntry& e : entries_)
      for (const Row& r : rows_)
        if (r.shape == d.s.str() && r.name == e.name && r.timed && r.passed) best.emplace_back(r.tflops, &e);
    std::sort(best.begin(), best.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    if (static_cast<int>(best.size()) > o_.final_top) best.resize(static_cast<std::size_t>(o_.final_top));
    for (int round = 0; round < o_.final_rounds; ++round) {
      const std::string note = "final_round_" + std::to_string(round);
      run_vendor(d, baseline, note);
      for (const auto& [tf, e] : best) run_kernel(d, *e, note);
    }
  }

  const Options& o_;
  runner::Measurement& m_;
  const bool timing_;
  std::vector<KernelEntry>& entries_;
  uint64_t seed_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  std::unique_ptr<cuda::L2Flusher> flusher_;
  cuda::TimingOptions topt_;
  std::unique_ptr<cuda::NvmlSampler> nvml_;
  std::vector<Row> rows_;
  int failures_ = 0;
};

void GemmPass::print_summary() const {
  if (timing_) {
    std::map<std::string, std::vector<Row>> by_shape;
    for (const Row& r : rows_)
      if (r.note.rfind("final_round_", 0) != 0) by_shape[r.shape].push_back(r);
    std::printf("\n%-18s %-40s %10s %9s %8s\n", "shape", "config", "median_ms", "TFLOP/s", "%cuBLAS");
    for (auto& [shape, rs] : by_shape) {
      double cub = 0;
      for (const Row& r : rs)
        if (r.baseline && r.timed) cub = std::max(cub, r.tflops);
      std::sort(rs.begin(), rs.end(), [](const Row& x, const Row& y) { return x.tflops > y.tflops; });
      int shown = 0;
      bool sm80_shown = false;
      for (const Row& r : rs) {
        if (!r.timed) continue;
        const bool is_sm80 = r.name.rfind("sm80", 0) == 0;
        if (r.vendor || shown < 4 || (is_sm80 && !sm80_shown)) {
          const std::string label = r.vendor && !r.note.empty() ? r.name + "_" + r.note : r.name;
          std::printf("%-18s %-40s %10.4f %9.1f %7.1f%%\n", shape.c_str(), label.c_str(), r.median_ms,
                      r.tflops, cub > 0 ? 100.0 * r.tflops / cub : 0.0);
          if (!r.vendor) ++shown;
          if (is_sm80) sm80_shown = true;
        }
      }
    }
    // Final rounds: per config, the median over rounds of the per-round medians, against
    // the baseline's median over the same rounds.
    std::map<std::string, std::vector<double>> finals;  // name -> per-round TFLOP/s
    std::string final_shape, baseline_name;
    for (const Row& r : rows_) {
      if (r.note.rfind("final_round_", 0) == 0 && r.timed) {
        if (r.baseline) baseline_name = r.name;
        finals[r.name].push_back(r.tflops);
        final_shape = r.shape;
      }
    }
    if (!finals.empty()) {
      const double cub = cuda::median(finals[baseline_name]);
      std::printf("\nfinal rounds on %s (median over %d rounds of alternating runs)\n", final_shape.c_str(),
                  o_.final_rounds);
      for (const auto& [name, v] : finals)
        std::printf("%-40s %9.1f TFLOP/s %7.1f%% of %s\n", name.c_str(), cuda::median(v),
                    cub > 0 ? 100.0 * cuda::median(v) / cub : 0.0, baseline_name.c_str());
    }
  }
  std::printf("%d failure(s) over %zu runs\n", failures_, rows_.size());
}

// The check (timing off) or the sweep into `m`; exit code 1 on any failed kernel check.
int run_pass(const Options& o, runner::Measurement& m, bool timing) {
  GemmPass pass(o, m, timing);
  const std::vector<Shape> shapes = shapes_for(o, timing);
  for (std::size_t i = 0; i < shapes.size(); ++i) pass.run_shape(shapes[i], i == 0);
  pass.print_summary();
  return pass.failures() == 0 ? 0 : 1;
}

// The compiled configs in the model's vocabulary (--list --json, no GPU needed).
std::vector<kernels::ListedInstance> instance_list() {
  std::vector<kernels::ListedInstance> list;
  for (const auto& e : registry()) list.push_back({e.name, e.schedule, e.tile, {{"dtype", e.dtype}}});
  std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return list;
}

}  // namespace
}  // namespace tilesim::gemm

int main(int argc, char** argv) {
  using namespace tilesim::gemm;
  constexpr const char* kTool = "tilesim-gemm-bench";
  if (tilesim::kernels::wants_list_json(argc, argv))
    return tilesim::kernels::print_list_json(kTool, instance_list());
  return tilesim::runner::guarded_main(
      kTool, [&] { return parse(argc, argv); },
      [&](const Options& opt) {
        if (opt.list) return tilesim::kernels::print_list_text(instance_list());
        return tilesim::cuda::check_sweep_document(
            "gemm", kTool, opt,
            {{"gemm", "C[m,n] = A[m,k] * B[n,k]^T, row-major, fp32 accumulate, bf16 C"},
             {"tflops", "2 m n k / median time"}},
            [&](tilesim::runner::Measurement& m) { return run_pass(opt, m, false); },
            [&](tilesim::runner::Measurement& m) { return run_pass(opt, m, true); });
      });
}
