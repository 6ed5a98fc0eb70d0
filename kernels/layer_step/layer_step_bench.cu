// tilesim-layer-bench: one decode layer step = a compute-bound GEMM (the layer's
// projection) followed by split-KV decode attention, with and without prefetching the
// decode's KV cache into L2 while the GEMM runs (kv_prefetch.cuh, on a second stream).
//
// Kernels reused as they are: gemm_sm90_ws (kernels/gemm) and decode_splitkv
// (kernels/attention/decode); one tile of each (kGemm*, kDecode* below).
//
// The command line, the document and the timing are the runners' shared layer
// (kernels/common/runner_cli.hpp, timed_run.hpp).
//
//   --sweep            the built-in configurations (or --config ...), each timed in every
//                      variant (below); decode output checked in every step variant.
//   --config m=..,n=..,k=..,batch=..,heads_q=..,heads_kv=..,seq_kv=..[,head_dim=128]
//                      one configuration (repeatable; --shape is the same flag).
//   --ncu (= --check)  one checked launch sequence per variant, no timing (for ncu
//                      --replay-mode application --cache-control none -k regex:decode_splitkv).
//   --quick            the first configuration only.
//   --prefetch-priority high|low   stream priority of the prefetch (default high: its CTAs
//                      are dispatched before the GEMM's, which becomes ready at the same
//                      moment; with low, a GEMM that fills every SM shuts it out until the
//                      GEMM's CTAs retire).
//   --prefetch-ctas N  CTAs of the prefetch grid (default: one per SM)
//   --gemm-reserve-sms P   the GEMM's persistent grid leaves P SMs free (default 0)
//   --prefetch-launch side|serial  side: on the second stream beside the GEMM (default);
//                      serial: on the GEMM's stream just before it (its CTAs retire once
//                      their requests are queued; the lines then arrive during the GEMM)
//   --prefetch side|in_gemm  side: the prefetch kernel above (default); in_gemm: the GEMM
//                      itself issues the prefetch from an idle producer warp
//                      (GemmArgs::l2_prefetch, evict_last), so it needs no SM of its own.
//                      Variants then: gemm, gemm_pf (in-GEMM), gemm_pf_paced, decode_cold,
//                      decode_l2, step, step_pf_last (in-GEMM, issued at once),
//                      step_pf_paced (in-GEMM, spread over the first half of the GEMM's
//                      measured time), step_pf_side (the side kernel, same machine).
//   --pace-share F, --pace-delay-share F   in_gemm paced variant: spread the prefetch over
//                      F of the GEMM's measured time (default 0.5), starting after the
//                      delay share (default 0) of it.
//   --in-gemm-policy last|normal   cache policy of the in-GEMM prefetch (default last).
//   --timeline N       after the timed variants, N untimed GEMM + side-prefetch launches with
//                      every prefetch CTA's start and end and a stamp after the GEMM on the
//                      GPU's global timer (a "timeline" record: where the prefetch runs).
//   --reps N (>= 20), --seed N (default: a fresh one, recorded), --out F
//                      (tilesim.measurement.v1, family "layer_step").
//
// Variants (the "timed" tile key; each sample starts from a flushed L2):
//   gemm              the GEMM alone
//   gemm_pf           the GEMM with the evict_last prefetch beside it (its slowdown)
//   decode_cold       the decode alone
//   decode_l2         the decode right after an evict_last prefetch and a GPU-side wait
//                     (no GEMM): the best a prefetch can do; gives the usable L2 share
//   prefetch_only     the prefetch kernel alone (how long its CTAs hold SM slots)
//   step              GEMM then decode, no prefetch
//   step_pf_normal    prefetch (evict_normal) beside the GEMM, then decode
//   step_pf_last      prefetch (evict_last) beside the GEMM, then decode
// A step's record also has the GEMM part and the decode part (events between them).
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "decode_heuristic.hpp"
#include "decode_launch.cuh"
#include "decode_testdata.cuh"
#include "device_buffer.cuh"
#include "device_report.hpp"
#include "event_timer.hpp"
#include "gemm_check.hpp"
#include "gemm_sm90_ws.cuh"
#include "kv_prefetch.cuh"
#include "nvml_sampler.hpp"
#include "runner_cli.hpp"
#include "shape_args.hpp"
#include "timed_run.hpp"

namespace tilesim::layer_step {
namespace {

using json = nlohmann::json;
using bf16 = __nv_bfloat16;

// The GEMM tile: the CI instance of gemm_sm90_ws (128x256x64, 4 stages, 2 consumers, 2-CTA
// cluster along M, raster 8), the fastest compiled tile on large bf16 shapes.
using GemmCfg = gemm::sm90::WsConfig<128, 256, 64, 4, 2, 2, 1, 8>;
gemm::KernelEntry gemm_entry() { return gemm::sm90::sm90_entry<128, 256, 64, 4, 2, 2, 1, 8>(1); }
// The decode tile: decode_splitkv's default (bn64, 3 stages, one 16-row MMA tile, contiguous
// KV, no in-kernel prefetch).
constexpr int kHeadDim = 128;
using DecodeLauncher = decode::SplitKvLauncher<kHeadDim, 64, 3, 1, false, false>;

// Prefetch grid: one CTA per SM of one warp. Issuing is fire-and-forget, so one warp per SM
// is enough to hand all chunks to the copy engines within microseconds; a warp of few
// registers also fits beside a GEMM CTA on the SM.
constexpr int kPrefetchThreads = 32;
// Bytes per cp.async.bulk.prefetch: 32 KiB = 256 lines of 128 B per request.
constexpr std::uint32_t kPrefetchChunkBytes = 32u << 10;
// Flush: read 3x the largest Hopper L2 (60 MB), so no line of the previous sample survives.
constexpr std::size_t kFlushBytes = std::size_t{180} << 20;
constexpr int kWarmup = 3;
// decode_l2: GPU-side wait between the prefetch and the decode, so the lines have arrived
// (the prefetch kernel ends when its requests are issued): 2e5 cycles = 100 us at 2 GHz,
// twice what the largest KV (134 MB) takes at HBM speed. A host-side sleep would let the GPU
// idle and clock down before the timed decode.
constexpr long long kSettleCycles = 200000;
constexpr int kMinReps = 20;
// --prefetch in_gemm, paced: the pace window is --pace-share (default 0.5) of the plain
// GEMM's measured median, after a delay of --pace-delay-share (default 0) of it; the
// correctness pass, before any timing, uses kInitialPaceNs.
constexpr unsigned kInitialPaceNs = 20000;
// bf16 output tolerance of decode (same argument as decode_bench: P and O rounded to bf16).
constexpr double kDecodeTolerance = 1e-2;
constexpr float kQAmp = 2.f, kKvAmp = 1.f;

struct Config {
  std::string name;
  int m, n, k;                                    // GEMM C[m,n] = A[m,k] B[n,k]^T
  int batch, heads_q, heads_kv, seq_kv, head_dim;  // decode, one query token per sequence
  int rows() const { return batch * heads_q; }
  int64_t kv_elems() const { return int64_t{batch} * heads_kv * seq_kv * head_dim; }
  double kv_bytes() const { return 2.0 * static_cast<double>(kv_elems()) * sizeof(bf16); }
};

const std::vector<runner::ShapeKey>& config_keys() {
  static const std::vector<runner::ShapeKey> k = {
      runner::required_key("m", 1, 1 << 20),          runner::required_key("n", 8, 1 << 20),
      runner::required_key("k", 8, 1 << 20),          runner::required_key("batch", 1, 4096),
      runner::required_key("heads_q", 1, 256),        runner::same_as_key("heads_kv", 1, 256, "heads_q"),
      runner::required_key("seq_kv", 1, 1 << 22),     runner::default_key("head_dim", 128, 128, 128)};
  return k;
}

Config config_from(const runner::ShapeValues& v) {
  Config c{"", static_cast<int>(v["m"]), static_cast<int>(v["n"]), static_cast<int>(v["k"]),
           static_cast<int>(v["batch"]), static_cast<int>(v["heads_q"]), static_cast<int>(v["heads_kv"]),
           static_cast<int>(v["seq_kv"]), static_cast<int>(v["head_dim"])};
  if (c.heads_q % c.heads_kv != 0)
    throw runner::ShapeError("config '" + v.text + "': heads_q must be a multiple of heads_kv");
  if (c.heads_q / c.heads_kv > 16)
    throw runner::ShapeError("config '" + v.text + "': heads_q / heads_kv must be <= 16 (the compiled decode tile has one 16-row MMA tile)");
  if (c.k % 8 != 0 || c.n % 8 != 0)
    throw runner::ShapeError("config '" + v.text + "': n and k must be multiples of 8 (TMA row strides)");
  char name[128];
  std::snprintf(name, sizeof name, "m%d_n%d_k%d__b%d_hq%d_hkv%d_kv%d", c.m, c.n, c.k, c.batch, c.heads_q,
                c.heads_kv, c.seq_kv);
  c.name = name;
  return c;
}

constexpr int kDefaultReps = 30;

struct Options : runner::CheckSweepOptions {
  std::string prefetch_priority = "high";
  std::string prefetch_launch = "side";
  std::string prefetch = "side";           // --prefetch side|in_gemm
  double pace_share = 0.5, delay_share = 0;  // --pace-share, --pace-delay-share
  std::string in_gemm_policy = "last";       // --in-gemm-policy last|normal
  int prefetch_ctas = 0;  // 0: one per SM
  int gemm_reserve_sms = 0;
  int timeline = 0;  // --timeline N: N untimed GEMM + side-prefetch launches with timestamps
  std::vector<Config> configs;
  bool in_gemm() const { return prefetch == "in_gemm"; }
  bool in_gemm_last() const { return in_gemm_policy == "last"; }
};

using cuda::DevBuf;
using cuda::sm_count;

constexpr int kFillBlocks = 1024, kFillThreads = 256;

// Everything one configuration needs, plus the two streams and the flush buffer.
struct Bench {
  const Config c;
  cudaStream_t main = nullptr, side = nullptr;
  DevBuf<bf16> a, b, cmat;
  DevBuf<float> cref;
  DevBuf<bf16> q, kk, vv, out;
  DevBuf<float> dref, o_part, lse_part;
  std::vector<float> dref_host;
  decode::DecodeParams prm;
  gemm::Prepared gemm_launch;
  gemm::GemmArgs gemm_args;            // without prefetch
  gemm::Prepared gemm_in_pf, gemm_in_pf_paced;  // --prefetch in_gemm: unpaced, paced
  unsigned pace_ns = 0, delay_ns = 0;
  int in_gemm_last = 1;
  PrefetchRanges ranges;
  DevBuf<int4>& flush_buf;
  DevBuf<int>& sink;
  double gemm_tol = 0;

  int prefetch_ctas = 0;
  bool serial = false;
  cudaEvent_t fork = nullptr, joined = nullptr;  // the side stream's start and end in a step

  Bench(const Config& cfg, const Options& opt, uint64_t seed, cudaStream_t m, cudaStream_t s, cublasHandle_t h,
        DevBuf<int4>& fb, DevBuf<int>& sk)
      : c(cfg), main(m), side(s),
        a(std::size_t(cfg.m) * cfg.k), b(std::size_t(cfg.n) * cfg.k), cmat(std::size_t(cfg.m) * cfg.n),
        cref(std::size_t(cfg.m) * cfg.n), q(std::size_t(cfg.rows()) * cfg.head_dim),
        kk(cfg.kv_elems()), vv(cfg.kv_elems()), out(std::size_t(cfg.rows()) * cfg.head_dim),
        dref(std::size_t(cfg.rows()) * cfg.head_dim),
        o_part(std::size_t(cfg.rows()) * cfg.head_dim * decode::kMaxSplits),
        lse_part(std::size_t(cfg.rows()) * decode::kMaxSplits), flush_buf(fb), sink(sk) {
    // GEMM inputs and the cuBLAS fp32 reference (C^T = B A^T in column-major terms).
    gemm::fill_random_bf16(a.ptr, a.n, seed * 5 + 1, main);
    gemm::fill_random_bf16(b.ptr, b.n, seed * 5 + 2, main);
    gemm::cublas_gemm_bf16(h, c.m, c.n, c.k, a.ptr, b.ptr, cref.ptr, CUDA_R_32F);
    gemm_tol = gemm::bf16_gemm_tolerance(c.k);
    gemm::GemmArgs ga;
    ga.a = a.ptr;
    ga.b = b.ptr;
    ga.c = cmat.ptr;
    ga.m = c.m;
    ga.n = c.n;
    ga.k = c.k;
    ga.reserve_sms = opt.gemm_reserve_sms;
    gemm_args = ga;
    gemm_launch = gemm_entry().prepare(ga);
    prefetch_ctas = opt.prefetch_ctas > 0 ? opt.prefetch_ctas : sm_count();
    serial = opt.prefetch_launch == "serial";
    // Decode inputs and the fp32 reference.
    decode::testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads, 0, main>>>(q.ptr, q.n, seed * 5 + 3, kQAmp);
    decode::testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads, 0, main>>>(kk.ptr, kk.n, seed * 5 + 4, kKvAmp);
    decode::testdata::fill_uniform_bf16<<<kFillBlocks, kFillThreads, 0, main>>>(vv.ptr, vv.n, seed * 5 + 5, kKvAmp);
    TILESIM_CHECK_LAUNCH("fill decode inputs");
    {
      constexpr int kRefThreads = 256;
      DevBuf<float> scratch(std::size_t(c.rows()) * c.seq_kv);
      decode::testdata::decode_reference_kernel<<<c.rows(), kRefThreads, 0, main>>>(
          q.ptr, kk.ptr, vv.ptr, scratch.ptr, dref.ptr, 1, c.heads_q, c.heads_kv, c.seq_kv, c.head_dim,
          1.f / std::sqrt(static_cast<float>(c.head_dim)));
      TILESIM_CHECK_LAUNCH("decode_reference_kernel");
      TILESIM_CUDA_CHECK(cudaStreamSynchronize(main));
    }
    dref_host = cuda::download(dref.ptr, dref.n);
    // Decode launch parameters; split count from decode_splitkv's heuristic.
    int splits = decode::choose_splits(c.batch, c.heads_kv, c.seq_kv, 64, sm_count(), DecodeLauncher::ctas_per_sm()).splits;
    prm.q = q.ptr;
    prm.k = kk.ptr;
    prm.v = vv.ptr;
    prm.out = out.ptr;
    prm.o_part = o_part.ptr;
    prm.lse_part = lse_part.ptr;
    prm.batch = c.batch;
    prm.heads_q = c.heads_q;
    prm.heads_kv = c.heads_kv;
    prm.group = c.heads_q / c.heads_kv;
    prm.q_per_seq = 1;
    prm.seq_kv = c.seq_kv;
    prm.blocks_per_split = decode::blocks_per_split(c.seq_kv, 64, splits);
    prm.splits = splits;
    prm.scale_log2 = static_cast<float>(1.0 / std::sqrt(double(c.head_dim)) * std::numbers::log2e);
    // Prefetch ranges: all of K and all of V (contiguous layout).
    ranges.ptr[0] = reinterpret_cast<const char*>(kk.ptr);
    ranges.ptr[1] = reinterpret_cast<const char*>(vv.ptr);
    ranges.bytes[0] = ranges.bytes[1] = static_cast<std::uint64_t>(c.kv_elems()) * sizeof(bf16);
    ranges.count = 2;
    ranges.chunk_bytes = kPrefetchChunkBytes;
    if (ranges.bytes[0] % 16 != 0) throw std::invalid_argument(c.name + ": K/V bytes must be a multiple of 16");
    if (opt.in_gemm()) {
      in_gemm_last = opt.in_gemm_last() ? 1 : 0;
      gemm_in_pf = prepare_in_gemm(0);
      gemm_in_pf_paced = prepare_in_gemm(kInitialPaceNs);
    }
    TILESIM_CUDA_CHECK(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    TILESIM_CUDA_CHECK(cudaEventCreateWithFlags(&joined, cudaEventDisableTiming));
  }
  ~Bench() {
    cudaEventDestroy(fork);
    cudaEventDestroy(joined);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;
  // The GEMM with the decode's K and V in its L2 prefetch list (evict_last).
  gemm::Prepared prepare_in_gemm(unsigned pace, unsigned delay = 0) {
    gemm::GemmArgs g = gemm_args;
    for (int i = 0; i < ranges.count; ++i) {
      g.l2_prefetch.ptr[i] = ranges.ptr[i];
      g.l2_prefetch.bytes[i] = ranges.bytes[i];
    }
    g.l2_prefetch.count = ranges.count;
    g.l2_prefetch.evict_last = in_gemm_last;
    g.l2_prefetch.chunk_bytes = ranges.chunk_bytes;
    g.l2_prefetch.pace_ns = pace;
    g.l2_prefetch.delay_ns = delay;
    pace_ns = pace;
    delay_ns = delay;
    return gemm_entry().prepare(g);
  }
  void gemm_pf_in() { gemm_in_pf.launch(main); }
  void gemm_pf_paced() { gemm_in_pf_paced.launch(main); }

  void flush() {
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(main));
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(side));
    // Demote evict_last lines of the previous sample to normal, then read them out of L2.
    TILESIM_CUDA_CHECK(cudaCtxResetPersistingL2Cache());
    l2_read_flush_kernel<<<sm_count() * 4, 256, 0, main>>>(flush_buf.ptr, flush_buf.n, sink.ptr);
    TILESIM_CHECK_LAUNCH("l2_read_flush_kernel");
  }
  void gemm() { gemm_launch.launch(main); }
  void decode() { DecodeLauncher::launch(prm, main); }
  // The prefetch on the side stream, ordered after everything already on `main` (serial:
  // on `main` itself); `stamps`: its CTAs' start and end times (--timeline), else none.
  void prefetch(PrefetchPolicy pol, std::uint64_t* stamps = nullptr) {
    PrefetchRanges r = ranges;
    r.stamps = stamps;
    if (serial) {
      launch_kv_prefetch(r, pol, prefetch_ctas, kPrefetchThreads, main);
      TILESIM_CHECK_LAUNCH("kv_prefetch_kernel");
      return;
    }
    TILESIM_CUDA_CHECK(cudaEventRecord(fork, main));
    TILESIM_CUDA_CHECK(cudaStreamWaitEvent(side, fork));
    launch_kv_prefetch(r, pol, prefetch_ctas, kPrefetchThreads, side);
    TILESIM_CHECK_LAUNCH("kv_prefetch_kernel");
  }
  void join() {
    if (serial) return;
    TILESIM_CUDA_CHECK(cudaEventRecord(joined, side));
    TILESIM_CUDA_CHECK(cudaStreamWaitEvent(main, joined));
  }
  void poison() {
    decode::testdata::fill_nan_bf16<<<kFillBlocks, kFillThreads, 0, main>>>(out.ptr, out.n);
    decode::testdata::fill_nan_f32<<<kFillBlocks, kFillThreads, 0, main>>>(o_part.ptr, o_part.n);
    gemm::fill_nan_bf16(cmat.ptr, cmat.n, main);
    TILESIM_CHECK_LAUNCH("poison outputs");
  }
  // Decode output vs the fp32 reference (and, if given, bitwise vs an earlier output).
  json check_decode(std::vector<bf16>* keep, const std::vector<bf16>* same_as) {
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(main));
    std::vector<bf16> h = cuda::download(out.ptr, out.n);
    double num = 0, den = 0;
    bool finite = true;
    for (std::size_t i = 0; i < h.size(); ++i) {
      const double x = __bfloat162float(h[i]);
      if (!std::isfinite(x)) finite = false;
      num += (x - dref_host[i]) * (x - dref_host[i]);
      den += double(dref_host[i]) * dref_host[i];
    }
    const double err = std::sqrt(num / std::max(den, 1e-300));
    bool identical = true;
    if (same_as != nullptr)
      for (std::size_t i = 0; i < h.size(); ++i)
        identical = identical && std::memcmp(&h[i], &(*same_as)[i], sizeof(bf16)) == 0;
    json j = {{"rel_err", finite ? json(err) : json("nan")},
              {"tolerance", kDecodeTolerance},
              {"all_written_finite", finite},
              {"reference", "gpu_fp32"},
              {"passed", finite && err <= kDecodeTolerance && identical}};
    if (same_as != nullptr) j["bitwise_equal_to_no_prefetch_step"] = identical;
    if (keep != nullptr) *keep = std::move(h);
    return j;
  }
  json check_gemm() {
    const gemm::ErrorStats st = gemm::compare_bf16_to_f32(cmat.ptr, cref.ptr, cmat.n, main);
    const double err = st.rel_frobenius();
    return {{"rel_err", std::isfinite(err) ? json(err) : json(nullptr)},
            {"tolerance", gemm_tol},
            {"nonfinite", st.nonfinite},
            {"reference", "cublas_fp32_out"},
            {"passed", st.nonfinite == 0 && err <= gemm_tol}};
  }
};

// One variant's samples: `body` issues the launches between the start/mid/stop events (mid:
// after the GEMM part; a body without one leaves it unused); `prep` runs untimed after the
// flush that starts every sample.
cuda::PartSamples sample(Bench& bn, int reps, const std::function<void()>& prep,
                         const std::function<void(cudaEvent_t mid)>& body, bool has_mid) {
  const auto before_each = [&] {
    bn.flush();
    if (prep) prep();
  };
  return cuda::time_parts_ms(body, before_each, bn.main, kWarmup, reps, has_mid);
}

json gemm_tile_json() {
  const gemm::KernelEntry e = gemm_entry();
  return e.tile;
}

json decode_tile_json(const Bench& bn) {
  return {{"block_n", 64}, {"stages", 3}, {"l2_prefetch", 0}, {"splits", bn.prm.splits}};
}

json layer_problem(const Config& c) {
  return {{"kind", "layer_step"}, {"m", c.m},           {"n", c.n},
          {"k", c.k},             {"batch", c.batch},   {"heads_q", c.heads_q},
          {"heads_kv", c.heads_kv}, {"q_per_seq", 1},   {"seq_kv", c.seq_kv},
          {"head_dim", c.head_dim}, {"page_size", 0},   {"dtype", "bf16"}};
}

std::string prefetch_of(const std::string& variant) {
  if (variant == "step_pf_normal") return "evict_normal";
  if (variant == "step_pf_last" || variant == "gemm_pf" || variant == "decode_l2" || variant == "prefetch_only" ||
      variant == "step_pf_paced" || variant == "gemm_pf_paced" || variant == "step_pf_side")
    return "evict_last";
  return "none";
}

// The checks of every launch sequence, each on poisoned outputs; the decode output must be
// bitwise equal across them (the prefetch is a hint and must not change a bit).
struct StepChecks {
  json step, normal, last, gemm_base, gemm_pf;  // no prefetch; the side kernel's
  json in, in_paced, gemm_in, gemm_in_paced;    // --prefetch in_gemm: unpaced, paced
  int failures = 0;
};

StepChecks check_sequences(Bench& bn, const Options& opt) {
  StepChecks k;
  std::vector<bf16> base_out;
  bn.flush();
  bn.poison();
  bn.gemm();
  bn.decode();
  k.step = bn.check_decode(&base_out, nullptr);
  k.gemm_base = bn.check_gemm();
  for (PrefetchPolicy pol : {PrefetchPolicy::kEvictNormal, PrefetchPolicy::kEvictLast}) {
    bn.flush();
    bn.poison();
    bn.prefetch(pol);
    bn.gemm();
    bn.join();
    bn.decode();
    json& dst = pol == PrefetchPolicy::kEvictLast ? k.last : k.normal;
    dst = bn.check_decode(nullptr, &base_out);
    if (pol == PrefetchPolicy::kEvictLast) k.gemm_pf = bn.check_gemm();
  }
  std::vector<const json*> all = {&k.step, &k.normal, &k.last, &k.gemm_base, &k.gemm_pf};
  if (opt.in_gemm()) {
    for (int paced = 0; paced < 2; ++paced) {
      bn.flush();
      bn.poison();
      paced ? bn.gemm_pf_paced() : bn.gemm_pf_in();
      bn.decode();
      (paced ? k.in_paced : k.in) = bn.check_decode(nullptr, &base_out);
      (paced ? k.gemm_in_paced : k.gemm_in) = bn.check_gemm();
    }
    all.insert(all.end(), {&k.in, &k.in_paced, &k.gemm_in, &k.gemm_in_paced});
  }
  for (const json* j : all)
    if (!(*j)["passed"].get<bool>()) ++k.failures;
  return k;
}

// One timed variant: `body` issues the launches between the start/mid/stop events, `prep`
// runs untimed after the flush; `check` is the check of the same launch sequence.
struct Variant {
  std::string name;
  std::function<void()> prep;
  std::function<void(cudaEvent_t)> body;
  bool has_mid;
  const json* check;
};

// GEMM then decode, the prefetch beside the GEMM on the side stream (`mid`: the GEMM's end).
std::function<void(cudaEvent_t)> side_prefetch_step(Bench& bn, PrefetchPolicy pol) {
  return [&bn, pol](cudaEvent_t mid) {
    bn.prefetch(pol);
    bn.gemm();
    TILESIM_CUDA_CHECK(cudaEventRecord(mid, bn.main));
    bn.join();
    bn.decode();
  };
}

// GEMM (issuing the prefetch itself, paced or not) then decode.
std::function<void(cudaEvent_t)> in_gemm_prefetch_step(Bench& bn, bool paced) {
  return [&bn, paced](cudaEvent_t mid) {
    paced ? bn.gemm_pf_paced() : bn.gemm_pf_in();
    TILESIM_CUDA_CHECK(cudaEventRecord(mid, bn.main));
    bn.decode();
  };
}

// The variants of the side-kernel prefetch (the table at the top of this file).
std::vector<Variant> side_variants(Bench& bn, const StepChecks& k) {
  return {
      {"gemm", nullptr, [&bn](cudaEvent_t) { bn.gemm(); }, false, &k.gemm_base},
      {"gemm_pf", nullptr,
       [&bn](cudaEvent_t) {
         bn.prefetch(PrefetchPolicy::kEvictLast);
         bn.gemm();
         bn.join();
       },
       false, &k.gemm_pf},
      {"decode_cold", nullptr, [&bn](cudaEvent_t) { bn.decode(); }, false, &k.step},
      {"decode_l2",
       [&bn] {
         bn.prefetch(PrefetchPolicy::kEvictLast);
         bn.join();
         gpu_spin_kernel<<<1, 32, 0, bn.main>>>(kSettleCycles);
         TILESIM_CHECK_LAUNCH("gpu_spin_kernel");
       },
       [&bn](cudaEvent_t) { bn.decode(); }, false, &k.last},
      {"prefetch_only", nullptr,
       [&bn](cudaEvent_t) {
         bn.prefetch(PrefetchPolicy::kEvictLast);
         bn.join();
       },
       false, &k.last},
      {"step", nullptr,
       [&bn](cudaEvent_t mid) {
         bn.gemm();
         TILESIM_CUDA_CHECK(cudaEventRecord(mid, bn.main));
         bn.decode();
       },
       true, &k.step},
      {"step_pf_normal", nullptr, side_prefetch_step(bn, PrefetchPolicy::kEvictNormal), true, &k.normal},
      {"step_pf_last", nullptr, side_prefetch_step(bn, PrefetchPolicy::kEvictLast), true, &k.last},
  };
}

// The same sequence with the in-GEMM prefetch; the side kernel's evict_last step stays as
// step_pf_side for a comparison on the same machine.
std::vector<Variant> in_gemm_variants(Bench& bn, const StepChecks& k) {
  const std::vector<Variant> side = side_variants(bn, k);
  const auto of = [&](const std::string& name) {
    return *std::find_if(side.begin(), side.end(), [&](const Variant& v) { return v.name == name; });
  };
  return {
      of("gemm"),
      {"gemm_pf", nullptr, [&bn](cudaEvent_t) { bn.gemm_pf_in(); }, false, &k.gemm_in},
      {"gemm_pf_paced", nullptr, [&bn](cudaEvent_t) { bn.gemm_pf_paced(); }, false, &k.gemm_in_paced},
      of("decode_cold"),
      of("decode_l2"),
      of("step"),
      {"step_pf_last", nullptr, in_gemm_prefetch_step(bn, false), true, &k.in},
      {"step_pf_paced", nullptr, in_gemm_prefetch_step(bn, true), true, &k.in_paced},
      {"step_pf_side", nullptr, of("step_pf_last").body, true, &k.last},
  };
}

// What a variant's record says about its run (schedule, tile, problem and labels).
json variant_record(const Variant& v, const Config& c, const Options& opt, const Bench& bn) {
  json r;
  // A GEMM on a reduced grid is no longer the plain gemm_sm90_ws run the model predicts.
  const bool is_gemm = v.name == "gemm" && opt.gemm_reserve_sms == 0;
  const bool is_decode = v.name == "decode_cold";
  // The GEMM alone and the cold decode alone are ordinary runs of their own schedules, so
  // the model predicts them as it predicts any gemm / decode run; the rest are layer steps.
  if (is_gemm) {
    r["schedule"] = "gemm_sm90_ws";
    r["tile"] = gemm_tile_json();
    r["problem"] = {{"kind", "gemm"}, {"m", c.m}, {"n", c.n}, {"k", c.k}, {"dtype", "bf16"}};
  } else if (is_decode) {
    r["schedule"] = "decode_splitkv";
    r["tile"] = decode_tile_json(bn);
    r["problem"] = {{"kind", "decode"},        {"batch", c.batch},   {"heads_q", c.heads_q},
                    {"heads_kv", c.heads_kv},  {"q_per_seq", 1},     {"seq_kv", c.seq_kv},
                    {"head_dim", c.head_dim},  {"page_size", 0},     {"dtype", "bf16"}};
  } else {
    r["schedule"] = "layer_step";
    // in_gemm: every prefetching variant but the side kernel's is issued by the GEMM.
    const bool by_gemm = opt.in_gemm() && v.name != "step_pf_side" && v.name != "decode_l2";
    const bool paced = v.name == "gemm_pf_paced" || v.name == "step_pf_paced";
    r["tile"] = {{"timed", v.name == "step_pf_side" ? std::string("step_pf_last") : v.name == "step_pf_paced" ? std::string("step_pf_last") : v.name == "gemm_pf_paced" ? std::string("gemm_pf") : v.name},
                 {"prefetch", by_gemm && !opt.in_gemm_last() ? std::string("evict_normal") : prefetch_of(v.name)},
                 {"prefetch_ctas", by_gemm ? static_cast<int>(bn.gemm_launch.launch_info["grid_ctas"].get<unsigned>()) : bn.prefetch_ctas},
                 {"prefetch_launch", by_gemm ? std::string("in_gemm") : opt.prefetch_launch},
                 {"prefetch_pace_ns", by_gemm && paced ? bn.pace_ns : 0u},
                 {"prefetch_delay_ns", by_gemm && paced ? bn.delay_ns : 0u},
                 {"gemm_reserve_sms", opt.gemm_reserve_sms},
                 {"prefetch_threads", kPrefetchThreads},
                 {"prefetch_chunk_bytes", kPrefetchChunkBytes},
                 {"prefetch_stream_priority", opt.prefetch_priority},
                 {"gemm", gemm_tile_json()},
                 {"decode", decode_tile_json(bn)}};
    r["problem"] = layer_problem(c);
  }
  r["impl"] = "tilesim";
  r["variant"] = v.name;
  r["config_name"] = c.name;
  r["kv_bytes"] = c.kv_bytes();
  r["gemm_launch"] = bn.gemm_launch.launch_info;
  r["check"] = *v.check;
  return r;
}

// Samples the variant into its record (the whole and, for a step, the GEMM and decode
// parts); returns the median (ms).
double time_variant(json& r, Bench& bn, const Variant& v, int reps, cuda::NvmlSampler* nvml) {
  if (nvml != nullptr) nvml->arm();
  const cuda::PartSamples s = sample(bn, reps, v.prep, v.body, v.has_mid);
  if (nvml != nullptr) r["nvml"] = nvml->disarm();
  const double med = cuda::record_samples(r, s.total_ms);
  if (v.has_mid) {
    r["gemm_part_median_ms"] = cuda::median(s.first_ms);
    r["decode_part_median_ms"] = cuda::median(s.second_ms);
    r["gemm_part_samples_ms"] = s.first_ms;
    r["decode_part_samples_ms"] = s.second_ms;
  }
  return med;
}

// The configuration's line of the summary table (times in us; `med`: variant -> median ms,
// "<variant>.decode" -> its decode part).
std::string summary_line(const Config& c, const Options& opt, const std::map<std::string, double>& med) {
  auto us = [&](const std::string& k) { return med.count(k) ? med.at(k) * 1e3 : NAN; };
  char line[400];
  if (opt.in_gemm())
    std::snprintf(line, sizeof line,
                  "%-40s %6.1fMB gemm %6.1f +pf %6.1f paced %6.1f | dec cold %5.1f l2 %5.1f | step %6.1f in %6.1f paced %6.1f "
                  "side %6.1f (dec %5.1f/%5.1f/%5.1f/%5.1f) gain in %+5.1f%% paced %+5.1f%% side %+5.1f%%",
                  c.name.c_str(), c.kv_bytes() / 1e6, us("gemm"), us("gemm_pf"), us("gemm_pf_paced"), us("decode_cold"),
                  us("decode_l2"), us("step"), us("step_pf_last"), us("step_pf_paced"), us("step_pf_side"), us("step.decode"),
                  us("step_pf_last.decode"), us("step_pf_paced.decode"), us("step_pf_side.decode"),
                  100.0 * (us("step") - us("step_pf_last")) / us("step"),
                  100.0 * (us("step") - us("step_pf_paced")) / us("step"),
                  100.0 * (us("step") - us("step_pf_side")) / us("step"));
  else
    std::snprintf(line, sizeof line,
                  "%-40s %6.1fMB gemm %7.1f +pf %7.1f | dec cold %6.1f l2 %6.1f | step %7.1f pf_n %7.1f pf_l %7.1f "
                  "(dec %5.1f/%5.1f/%5.1f) gain_l %+5.1f%%",
                  c.name.c_str(), c.kv_bytes() / 1e6, us("gemm"), us("gemm_pf"), us("decode_cold"), us("decode_l2"),
                  us("step"), us("step_pf_normal"), us("step_pf_last"), us("step.decode"), us("step_pf_normal.decode"),
                  us("step_pf_last.decode"), 100.0 * (us("step") - us("step_pf_last")) / us("step"));
  return line;
}

// --timeline: where the side prefetch's CTAs run against the GEMM beside them. Each of N
// launches (after the usual flush): a stamp on the GEMM's stream, the evict_last prefetch on
// the side stream with per-CTA stamps, the GEMM, a stamp after it. Times in us from the first
// stamp; untimed otherwise (the stamp kernels add a launch each).
json timeline_record(Bench& bn, const Config& c, const Options& opt) {
  const int ctas = bn.prefetch_ctas;
  DevBuf<std::uint64_t> marks(2), stamps(std::size_t(2) * ctas);
  json reps = json::array();
  for (int i = 0; i < opt.timeline; ++i) {
    bn.flush();
    stamp_kernel<<<1, 1, 0, bn.main>>>(marks.ptr);
    TILESIM_CHECK_LAUNCH("stamp_kernel");
    bn.prefetch(PrefetchPolicy::kEvictLast, stamps.ptr);
    bn.gemm();
    stamp_kernel<<<1, 1, 0, bn.main>>>(marks.ptr + 1);
    TILESIM_CHECK_LAUNCH("stamp_kernel");
    bn.join();
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(bn.main));
    const std::vector<std::uint64_t> m = cuda::download(marks.ptr, marks.n), s = cuda::download(stamps.ptr, stamps.n);
    auto us = [&](std::uint64_t t) { return (static_cast<double>(t) - static_cast<double>(m[0])) * 1e-3; };
    json start = json::array(), end = json::array();
    for (int k = 0; k < ctas; ++k) {
      start.push_back(us(s[2 * k]));
      end.push_back(us(s[2 * k + 1]));
    }
    reps.push_back({{"gemm_stamp_after_us", us(m[1])}, {"prefetch_cta_start_us", start}, {"prefetch_cta_end_us", end}});
  }
  return {{"impl", "tilesim"},
          {"variant", "timeline"},
          {"config_name", c.name},
          {"kv_bytes", c.kv_bytes()},
          {"prefetch_ctas", ctas},
          {"prefetch_stream_priority", opt.prefetch_priority},
          {"gemm_reserve_sms", opt.gemm_reserve_sms},
          {"gemm_launch", bn.gemm_launch.launch_info},
          {"note", "untimed: stamps on the GPU's global timer, us from a stamp kernel just before the side prefetch and "
                   "the GEMM; gemm_stamp_after_us: a stamp kernel after the GEMM on its stream"},
          {"timeline", reps}};
}

// Runs every variant of one configuration (timed: sampled too, else only the checked
// launch sequences); appends records to `runs` and a line to `table`; returns failures.
int run_config(const Config& c, const Options& opt, bool timed, cudaStream_t main, cudaStream_t side, cublasHandle_t h,
               DevBuf<int4>& fb, DevBuf<int>& sink, cuda::NvmlSampler* nvml, json& runs, std::vector<std::string>& table) {
  Bench bn(c, opt, opt.seed + runs.size() + 1, main, side, h, fb, sink);
  const StepChecks checks = check_sequences(bn, opt);
  int failures = checks.failures;
  if (!timed) {  // --ncu / --check: the launch sequences above are what ncu profiles
    std::printf("%-40s ncu pass done (decode checks %s)\n", c.name.c_str(), failures ? "FAILED" : "ok");
    return failures;
  }
  std::map<std::string, double> med;
  for (const Variant& v : opt.in_gemm() ? in_gemm_variants(bn, checks) : side_variants(bn, checks)) {
    json r = variant_record(v, c, opt, bn);
    if (!(*v.check)["passed"].get<bool>()) {
      ++failures;
      runs.push_back(r);
      continue;
    }
    med[v.name] = time_variant(r, bn, v, opt.reps, nvml);
    if (v.has_mid) med[v.name + ".decode"] = r["decode_part_median_ms"].get<double>();
    // The paced in-GEMM prefetch spreads over a share of the plain GEMM's measured time.
    if (opt.in_gemm() && v.name == "gemm")
      bn.gemm_in_pf_paced = bn.prepare_in_gemm(static_cast<unsigned>(opt.pace_share * med["gemm"] * 1e6),
                                               static_cast<unsigned>(opt.delay_share * med["gemm"] * 1e6));
    runs.push_back(r);
  }
  if (opt.timeline > 0 && !opt.in_gemm()) runs.push_back(timeline_record(bn, c, opt));
  table.push_back(summary_line(c, opt, med));
  std::printf("%s\n", table.back().c_str());
  std::fflush(stdout);
  return failures;
}

std::vector<Config> builtin_configs() {
  // GEMMs: Llama-3-8B QKV projection (N = (32 + 2*8) * 128 = 6144, K = 4096) and a square
  // 4096 projection, at 512-4096 tokens; decode: 32 sequences, 32 query / 8 KV heads (one
  // with 64 / 8), KV 17-134 MB (one layer's K + V), below and above the usable L2.
  // The first five (m = 1024, n = k = 4096) are the model's training set; the rest are
  // held out (kernels/layer_step/README.md).
  std::vector<std::string> texts = {
      "m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=128",
      "m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256",
      "m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=384",
      "m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=512",
      "m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=1024",
      "m=2048,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256",
      "m=2048,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=512",
      "m=512,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=512",
      "m=4096,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=384",
      "m=1024,n=6144,k=4096,batch=16,heads_q=64,heads_kv=8,seq_kv=512",
      "m=1536,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=320",
      // Llama-3-8B MLP up/gate projection (N = 14336): a long full-grid GEMM, KV at and
      // above the persisting set-aside.
      "m=1024,n=14336,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256",
      "m=2048,n=14336,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=512",
  };
  std::vector<Config> out;
  for (const auto& t : texts) out.push_back(config_from(runner::parse_shape(t, config_keys())));
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  runner::CheckSweepSpec spec{
      "layer_step", config_keys(), kDefaultReps, kMinReps,
      runner::any_flag({runner::choice_flag("--prefetch-priority", &o.prefetch_priority, {"high", "low"}),
                        runner::choice_flag("--prefetch-launch", &o.prefetch_launch, {"side", "serial"}),
                        runner::choice_flag("--prefetch", &o.prefetch, {"side", "in_gemm"}),
                        runner::real_flag("--pace-share", &o.pace_share, 0, 1),
                        runner::real_flag("--pace-delay-share", &o.delay_share, 0, 1),
                        runner::choice_flag("--in-gemm-policy", &o.in_gemm_policy, {"last", "normal"}),
                        runner::integer_flag("--prefetch-ctas", &o.prefetch_ctas, 1, 65535),
                        runner::integer_flag("--gemm-reserve-sms", &o.gemm_reserve_sms, 0, 64),
                        runner::integer_flag("--timeline", &o.timeline, 1, 100)}),
      "--ncu, --config SPEC, --prefetch-priority high|low, --prefetch-launch side|serial, --prefetch side|in_gemm, "
      "--pace-share F, --pace-delay-share F, --in-gemm-policy last|normal, --prefetch-ctas N, --gemm-reserve-sms P, "
      "--timeline N"};
  spec.shapes_with_check = true;  // ncu profiles given configurations
  spec.aliases = {{"--config", "--shape"}, {"--ncu", "--check"}};
  static_cast<runner::CheckSweepOptions&>(o) = runner::parse_check_sweep(argc, argv, spec);
  if (o.in_gemm() && o.prefetch_launch == "serial")
    throw std::invalid_argument("--prefetch in_gemm and --prefetch-launch serial exclude each other");
  for (const auto& v : o.shapes) o.configs.push_back(config_from(v));
  if (o.configs.empty()) o.configs = builtin_configs();
  if (o.quick) o.configs.resize(1);
  return o;
}

// evict_last lines live in the persisting set-aside of L2: gives it the device's maximum (a
// per-process limit, reset when the process ends; no clock or device setting). Returns the
// sizes the document records.
json reserve_persisting_l2() {
  cudaDeviceProp prop{};
  TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  TILESIM_CUDA_CHECK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, prop.persistingL2CacheMaxSize));
  std::size_t persisting = 0;
  TILESIM_CUDA_CHECK(cudaDeviceGetLimit(&persisting, cudaLimitPersistingL2CacheSize));
  return {{"l2_bytes", prop.l2CacheSize},
          {"persisting_l2_max_bytes", prop.persistingL2CacheMaxSize},
          {"persisting_l2_limit_bytes", persisting}};
}

// The two streams of a step. The GEMM CTA (225 KiB of shared memory, 384 threads x 168
// registers) leaves room for at most one small warp beside it on its SM, and the prefetch
// and the GEMM become ready at the same moment: the priority decides which is dispatched
// first (--prefetch-priority).
struct Streams {
  cudaStream_t main = nullptr, side = nullptr;
  explicit Streams(bool prefetch_high) {
    int least = 0, greatest = 0;  // CUDA: a lower number is a higher priority
    TILESIM_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
    TILESIM_CUDA_CHECK(cudaStreamCreateWithPriority(&main, cudaStreamNonBlocking, prefetch_high ? least : greatest));
    TILESIM_CUDA_CHECK(cudaStreamCreateWithPriority(&side, cudaStreamNonBlocking, prefetch_high ? greatest : least));
  }
  ~Streams() {
    cudaStreamDestroy(main);
    cudaStreamDestroy(side);
  }
  Streams(const Streams&) = delete;
  Streams& operator=(const Streams&) = delete;
};

// Every configuration, timed (--sweep) or only checked (--ncu / --check); returns the exit code.
int run_configs(const Options& opt, runner::Measurement& m, bool timed) {
  m["l2"] = reserve_persisting_l2();
  const Streams streams(opt.prefetch_priority == "high");
  cublasHandle_t handle;
  gemm::cublas_check(cublasCreate(&handle), "cublasCreate");
  const std::unique_ptr<cublasContext, cublasStatus_t (*)(cublasHandle_t)> handle_owner(handle, cublasDestroy);
  gemm::cublas_check(cublasSetStream(handle, streams.main), "cublasSetStream");
  DevBuf<int4> flush_buf(kFlushBytes / sizeof(int4));
  DevBuf<int> sink(1);
  TILESIM_CUDA_CHECK(cudaMemset(flush_buf.ptr, 0x5a, kFlushBytes));
  const std::unique_ptr<cuda::NvmlSampler> nvml = cuda::open_nvml_sampler();
  std::vector<std::string> table;
  int failures = 0;
  for (const Config& c : opt.configs)
    failures += run_config(c, opt, timed, streams.main, streams.side, handle, flush_buf, sink,
                           nvml->available() ? nvml.get() : nullptr, m.runs(), table);
  cudaDeviceProp prop{};
  TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("\n%s: %d check failures; times in us (median of %d)\n", prop.name, failures, opt.reps);
  for (const auto& l : table) std::printf("%s\n", l.c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tilesim::layer_step

int main(int argc, char** argv) {
  using namespace tilesim::layer_step;
  constexpr const char* kTool = "tilesim-layer-bench";
  return tilesim::runner::guarded_main(
      kTool, [&] { return parse(argc, argv); },
      [&](const Options& opt) {
        return tilesim::cuda::check_sweep_document(
            "layer_step", kTool, opt,
            {{"gemm", "C[m,n] = A[m,k] * B[n,k]^T, bf16 row-major, fp32 accumulate"},
             {"decode_kv", "[batch, heads_kv, seq_kv, head_dim] contiguous, bf16"},
             {"timing", "CUDA events; L2 read-flushed and persisting lines reset before each sample"}},
            [&](tilesim::runner::Measurement& m) { return run_configs(opt, m, false); },
            [&](tilesim::runner::Measurement& m) { return run_configs(opt, m, true); });
      });
}
