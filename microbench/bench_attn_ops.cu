// Op costs of the FA3 consumer warpgroup: the kernel's own device code (fa3_kernel.cuh's
// gemm_qk and gemm_pv, softmax.cuh's OnlineSoftmax::step, rescale_rows and pack_p) run in
// the kernel's main-loop order on on-chip data: Q, one K and one V tile sit in shared
// memory (random bf16, 128-byte swizzled as TMA leaves them), so no load, mbarrier or HBM
// is involved. What is left is what the model calls the consumer's chain and its wgmma
// blocks.
//
// One CTA per SM, two consumer warpgroups of 64 query rows (as Fa3Config compiles them),
// run in one of three modes:
//   solo      warpgroup 0 alone (warpgroup 1 idles): each op's cost with no other
//             warpgroup issuing on the SM's schedulers;
//   pingpong  both, taking turns to issue their wgmma block (the kernel's named barriers);
//   free      both, no turns (the lockstep kernels' consumers when loads never stall).
// and with the row max never growing (the same K every iteration: no O rescale, the steady
// state of a long row) or growing every iteration (the exponent base reset before each
// step: the rescale path always taken).
//
// Each launch runs work items as the kernel does (the peeled first block, the loop, the
// last PV, O's normalisation and stores to global memory): one warm-up item, then 4 timed
// items of 128 iterations. Counters, cycles per warpgroup iteration (mean over the active
// warps and SMs; see README "Attention op costs"):
//   iter_cycles       the loop without probes (clock64 at its start and end only);
//   peeled_block_cycles, last_pv_cycles, store_o_cycles: per work item, outside the loop;
//   <segment>_cycles  a second launch that reads clock64 between the loop's pieces:
//                     turn_wait, issue, s_wait, softmax, pv_wait, rescale, pack;
//   probed_iter_cycles their sum (the probes' own cost shows as its excess over iter_cycles);
//   rescale_share     the share of iterations whose warp took the rescale branch (absent
//                     when none did).
#include <benchmark/benchmark.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "fa3_kernel.cuh"
#include "harness.cuh"
#include "random_fill.cuh"

namespace tilesim::microbench {
namespace {

using attention::Fa3Config;

enum class Mode : int { kSolo = 0, kPingpong = 1, kFree = 2 };
const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kSolo: return "solo";
    case Mode::kPingpong: return "pingpong";
    case Mode::kFree: return "free";
  }
  return "?";
}

enum Segment : int { kTurnWait, kIssue, kSWait, kSoftmax, kPvWait, kRescale, kPack, kSegments };
constexpr const char* kSegmentNames[kSegments] = {"turn_wait", "issue", "s_wait", "softmax",
                                                  "pv_wait", "rescale", "pack"};

constexpr int kConsumers = 2;
constexpr int kThreads = kConsumers * 128;
constexpr int kWarps = kThreads / 32;
// Per-item pieces outside the main loop: the peeled first block (S, softmax, P), the last
// PV (intra-overlap kernels drain it after the loop), O's normalisation and stores.
enum ItemPart : int { kPeeledBlock, kLastPv, kStoreO, kItemParts };
constexpr const char* kItemPartNames[kItemParts] = {"peeled_block", "last_pv", "store_o"};

constexpr int kWarmupItems = 1;
constexpr int kTimedItems = 4;
constexpr int kItersPerItem = 128;
constexpr int kSwizzleAlignBytes = 1024;
// O's stores land in the sink past the checksum words (one 64 x d bf16 block per warpgroup).
constexpr std::size_t kOutputOffsetWords = std::size_t{1} << 20;

struct OpsArgs {
  int items;
  int iters_per_item;
  int mode;
  int probes;
  int force_rescale;
  float scale_log2;
};

// Written by lane 0 of every warp.
struct WarpRecord {
  unsigned long long segment_cycles[kSegments];
  unsigned long long item_cycles[kItemParts];
  unsigned long long loop_cycles;
  unsigned int rescales;
  unsigned int active;
};

// One main-loop iteration in the kernel's order (fa3_kernel.cuh), minus its mbarrier waits
// and arrives; mark(piece) reads the clock after each piece when probing. Returns whether
// the warp rescaled O.
template <class Cfg, class Softmax, class TurnBegin, class TurnEnd, class Mark>
__device__ __forceinline__ bool fa3_iteration(float (&s_acc)[Cfg::block_n / 2],
                                              std::uint32_t (&p_frag)[Cfg::block_n / 16][4],
                                              float (&o)[Cfg::head_dim / 2], Softmax& sm, float (&corr)[2],
                                              std::uint32_t q_base, std::uint32_t k_base, std::uint32_t v_base,
                                              float scale_log2, TurnBegin& turn_begin, TurnEnd& turn_end, Mark& mark) {
  using namespace ::tilesim::ptx;
  using namespace ::tilesim::attention;
  using namespace ::tilesim::attention::fa3_detail;
  bool rescale = false;
  if constexpr (Cfg::intra_overlap) {
    // {S(i), PV(i-1)} issued together, softmax(i) while PV(i-1) runs, then O's rescale, P(i).
    turn_begin();
    mark(kTurnWait);
    gemm_qk<Cfg>(s_acc, q_base, k_base);
    gemm_pv<Cfg>(o, p_frag, v_base);
    turn_end();
    mark(kIssue);
    wgmma_wait<1>();
    fence_operands(s_acc);
    mark(kSWait);
    rescale = sm.step(s_acc, scale_log2, corr);
    mark(kSoftmax);
    wgmma_wait<0>();
    fence_operands(o);
    fence_operands(p_frag);
    mark(kPvWait);
    if (rescale) rescale_rows(o, corr);
    mark(kRescale);
    pack_p<Cfg::block_n>(s_acc, p_frag);
    mark(kPack);
  } else {
    // S(i), softmax, rescale, P(i), then PV(i) waited for.
    turn_begin();
    mark(kTurnWait);
    gemm_qk<Cfg>(s_acc, q_base, k_base);
    turn_end();
    mark(kIssue);
    wgmma_wait<0>();
    fence_operands(s_acc);
    mark(kSWait);
    rescale = sm.step(s_acc, scale_log2, corr);
    mark(kSoftmax);
    if (rescale) rescale_rows(o, corr);
    mark(kRescale);
    pack_p<Cfg::block_n>(s_acc, p_frag);
    mark(kPack);
    gemm_pv<Cfg>(o, p_frag, v_base);
    wgmma_wait<0>();
    fence_operands(o);
    fence_operands(p_frag);
    mark(kPvWait);
  }
  return rescale;
}

template <class Cfg>
__global__ void __launch_bounds__(kThreads, 1)
    fa3_ops_kernel(const uint4* operands, OpsArgs a, WarpRecord* rec, unsigned* sink,
                   BlockClock* clk) {
  using namespace ::tilesim::ptx;
  using namespace ::tilesim::attention;
  using namespace ::tilesim::attention::fa3_detail;
  constexpr int D = Cfg::head_dim, BN = Cfg::block_n;
  clock_begin(clk);

  extern __shared__ std::uint8_t smem_raw[];
  const std::uint32_t raw = smem_u32(smem_raw);
  std::uint8_t* smem = smem_raw + ((kSwizzleAlignBytes - raw % kSwizzleAlignBytes) % kSwizzleAlignBytes);
  constexpr int kTileBytes = Cfg::kQBytes + 2 * Cfg::kKVBytes;
  for (int i = threadIdx.x; i < kTileBytes / 16; i += blockDim.x) reinterpret_cast<uint4*>(smem)[i] = operands[i];
  fence_proxy_async_shared();
  __syncthreads();

  const int cw = threadIdx.x / 128, warp = (threadIdx.x % 128) / 32, lane = threadIdx.x % 32;
  const Mode mode = static_cast<Mode>(a.mode);
  const bool pingpong = mode == Mode::kPingpong;
  const bool active = mode != Mode::kSolo || cw == 0;
  const std::uint32_t q_base = smem_u32(smem) + cw * 64 * Cfg::kPanelRowBytes;
  const std::uint32_t k_base = smem_u32(smem) + Cfg::kQBytes, v_base = k_base + Cfg::kKVBytes;

  auto turn_begin = [&]() {
    if (pingpong) named_bar_sync(kBarConsumer0 + cw, kPingpongThreads);
  };
  auto turn_end = [&]() {
    if (pingpong) named_bar_arrive(kBarConsumer0 + (1 - cw), kPingpongThreads);
  };

  float o[D / 2];
  unsigned long long seg[kSegments] = {}, item_cycles[kItemParts] = {};
  unsigned long long loop_cycles = 0;
  unsigned int rescales = 0;
  if (active) {
    if (pingpong && cw == 1) named_bar_arrive(kBarConsumer0 + 0, kPingpongThreads);  // consumer 0 first
    float s_acc[BN / 2];
    std::uint32_t p_frag[BN / 16][4];
    float corr[2];
    // This warpgroup's 64 rows of O (bf16) go to a scratch area of the sink.
    __nv_bfloat16* o_out = reinterpret_cast<__nv_bfloat16*>(sink + kOutputOffsetWords) +
                           static_cast<std::size_t>(blockIdx.x * kConsumers + cw) * 64 * D;
    const int row0 = warp * 16 + lane / 4;
    const int rows[2] = {row0, row0 + 8};
    long long last = 0;
    auto mark = [&](int s) {
      if (a.probes) {
        const long long t = clock64();
        seg[s] += static_cast<unsigned long long>(t - last);
        last = t;
      }
    };
    // Work items as the kernel runs them: the peeled first block, the loop, the last PV,
    // the normalisation and O's stores. The first item warms up and is not recorded.
    for (int item = 0; item < kWarmupItems + a.items; ++item) {
      const bool recorded = item >= kWarmupItems;
#pragma unroll
      for (int j = 0; j < D / 2; ++j) o[j] = 0.f;
      OnlineSoftmax<BN, Cfg::exp_emu_percent, Cfg::rescale_threshold> sm;
      const long long t_item = clock64();
      // The kernel's peeled first block: S, softmax, P (its PV is issued by the loop).
      turn_begin();
      gemm_qk<Cfg>(s_acc, q_base, k_base);
      turn_end();
      wgmma_wait<0>();
      fence_operands(s_acc);
      sm.step(s_acc, a.scale_log2, corr);
      pack_p<BN>(s_acc, p_frag);
      const long long t_loop = clock64();
      last = t_loop;
      for (int i = 0; i < a.iters_per_item; ++i) {
        if (a.force_rescale) sm.m[0] = sm.m[1] = -INFINITY;  // the next step moves the base
        const bool rescale = fa3_iteration<Cfg>(s_acc, p_frag, o, sm, corr, q_base, k_base, v_base, a.scale_log2,
                                                turn_begin, turn_end, mark);
        rescales += recorded && rescale ? 1u : 0u;
      }
      const long long t_drain = clock64();
      if constexpr (Cfg::intra_overlap) {  // the last PV, as the kernel drains it
        turn_begin();
        gemm_pv<Cfg>(o, p_frag, v_base);
        turn_end();
        wgmma_wait<0>();
        fence_operands(o);
      }
      const long long t_store = clock64();
      float inv[2];
      sm.finish(inv);
      store_o<D>(o, inv, rows, 64, o_out);
      const long long t_end = clock64();
      if (recorded) {
        item_cycles[kPeeledBlock] += static_cast<unsigned long long>(t_loop - t_item);
        item_cycles[kLastPv] += static_cast<unsigned long long>(t_store - t_drain);
        item_cycles[kStoreO] += static_cast<unsigned long long>(t_end - t_store);
        loop_cycles += static_cast<unsigned long long>(t_drain - t_loop);
      } else {
#pragma unroll
        for (int s = 0; s < kSegments; ++s) seg[s] = 0;
      }
    }
    // Consumer 1's last turn_end() arrives on consumer 0's barrier: take it.
    if (pingpong && cw == 0) named_bar_sync(kBarConsumer0 + 0, kPingpongThreads);
  } else {
#pragma unroll
    for (int j = 0; j < D / 2; ++j) o[j] = 0.f;
  }
  float sum = 0.f;
#pragma unroll
  for (int j = 0; j < D / 2; ++j) sum += o[j];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = __float_as_uint(sum);
  if (lane == 0) {
    WarpRecord& r = rec[blockIdx.x * kWarps + cw * 4 + warp];
#pragma unroll
    for (int s = 0; s < kSegments; ++s) r.segment_cycles[s] = seg[s];
    r.loop_cycles = loop_cycles;
#pragma unroll
    for (int p = 0; p < kItemParts; ++p) r.item_cycles[p] = item_cycles[p];
    r.rescales = rescales;
    r.active = active ? 1u : 0u;
  }
  clock_end(clk);
}

// Means over the active warps of one launch's records: per timed iteration, and the item
// pieces per timed work item.
std::map<std::string, double> summarize(const std::vector<WarpRecord>& recs, bool probes) {
  double seg[kSegments] = {}, item[kItemParts] = {}, loop = 0.0, rescales = 0.0;
  int n = 0;
  for (const auto& r : recs) {
    if (r.active == 0) continue;
    ++n;
    for (int s = 0; s < kSegments; ++s) seg[s] += static_cast<double>(r.segment_cycles[s]);
    for (int p = 0; p < kItemParts; ++p) item[p] += static_cast<double>(r.item_cycles[p]);
    loop += static_cast<double>(r.loop_cycles);
    rescales += r.rescales;
  }
  std::map<std::string, double> out;
  if (n == 0) return out;
  const double per_item = 1.0 / (static_cast<double>(n) * kTimedItems);
  const double per_iter = per_item / kItersPerItem;
  if (!probes) {
    out["iter_cycles"] = loop * per_iter;
    for (int p = 0; p < kItemParts; ++p) out[std::string(kItemPartNames[p]) + "_cycles"] = item[p] * per_item;
    // Absent when no iteration rescaled: a counter that is 0 in every repetition has an
    // undefined coefficient of variation, which Google Benchmark writes as NaN (not JSON).
    if (rescales > 0.0) out["rescale_share"] = rescales * per_iter;
    return out;
  }
  double total = 0.0;
  for (int s = 0; s < kSegments; ++s) {
    out[std::string(kSegmentNames[s]) + "_cycles"] = seg[s] * per_iter;
    total += seg[s] * per_iter;
  }
  out["probed_iter_cycles"] = total;
  return out;
}

template <class Cfg>
void bench_fa3_ops(benchmark::State& state, Mode mode, bool force_rescale) {
  const DeviceFacts& dev = device_facts();
  constexpr int kTileBytes = Cfg::kQBytes + 2 * Cfg::kKVBytes;
  const auto* operands = static_cast<const uint4*>(random_operands(DType::bf16, kTileBytes));
  const std::size_t smem = std::max<std::size_t>(kTileBytes + kSwizzleAlignBytes, one_block_per_sm_smem_bytes());
  auto* kernel = fa3_ops_kernel<Cfg>;
  TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const std::size_t n_rec = static_cast<std::size_t>(dev.sm_count) * kWarps;
  static WarpRecord* records = [] {
    WarpRecord* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, sizeof(WarpRecord) * kMaxClockRecords));
    return p;
  }();
  if (n_rec > static_cast<std::size_t>(kMaxClockRecords)) throw std::runtime_error("fa3 op bench: too many SMs");
  // O's stores (one 64 x d bf16 block per warpgroup) must fit in the sink past the checksum words.
  const std::size_t o_words = static_cast<std::size_t>(dev.sm_count) * kConsumers * 64 * Cfg::head_dim / 2;
  if (kOutputOffsetWords + o_words > kSinkWords)
    throw std::runtime_error("fa3 op bench: O stores of " + std::to_string(dev.sm_count) + " SMs do not fit the sink");
  // 1/sqrt(d) in log2 units, as the attention runner passes it.
  const float scale_log2 = static_cast<float>(M_LOG2E / std::sqrt(static_cast<double>(Cfg::head_dim)));
  OpsArgs args{kTimedItems, kItersPerItem, static_cast<int>(mode), 0, force_rescale ? 1 : 0, scale_log2};
  auto launch = [=](cudaStream_t s, BlockClock* clk, OpsArgs a) {
    kernel<<<dev.sm_count, kThreads, smem, s>>>(operands, a, records, sink_buffer(), clk);
  };
  auto read = [=](bool probes) {
    std::vector<WarpRecord> host(n_rec);
    TILESIM_CUDA_CHECK(cudaMemcpy(host.data(), records, sizeof(WarpRecord) * n_rec, cudaMemcpyDeviceToHost));
    return summarize(host, probes);
  };
  KernelSpec spec;
  spec.blocks = dev.sm_count;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) { launch(s, clk, args); };
  spec.after_launch = [=] {
    auto out = read(false);  // the timed launch: no probes
    OpsArgs probed = args;
    probed.probes = 1;
    launch(nullptr, nullptr, probed);
    TILESIM_CUDA_CHECK(cudaGetLastError());
    TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
    for (const auto& [k, v] : read(true)) out[k] = v;
    return out;
  };
  run_kernel(state, spec);
}

template <int D, int BN, int Intra, int EmuPercent, int Threshold>
void add_fa3_ops() {
  // Pingpong is a run-time mode here; the config's flag only names the kernel's variant.
  using Cfg = Fa3Config<D, BN, 2, 1, Intra, EmuPercent, Threshold>;
  for (Mode mode : {Mode::kSolo, Mode::kPingpong, Mode::kFree}) {
    for (bool force : {false, true}) {
      const std::string name = "op/fa3/d" + std::to_string(D) + "/bn" + std::to_string(BN) + "/intra" +
                               std::to_string(Intra) + "/emu" + std::to_string(EmuPercent) + "/thr" +
                               std::to_string(Threshold) + "/" + mode_name(mode) +
                               (force ? "/rescale_always" : "/rescale_never");
      register_gpu_benchmark(name, [=](benchmark::State& st) { bench_fa3_ops<Cfg>(st, mode, force); });
    }
  }
}

}  // namespace

void register_attn_op_benchmarks() {
  // The FA3 configurations the attention runner compiles (kernels/instances.json).
  add_fa3_ops<128, 128, 1, 0, 0>();
  add_fa3_ops<64, 128, 1, 0, 0>();
#ifdef TILESIM_ALL_KERNELS
  add_fa3_ops<128, 128, 0, 0, 0>();
  add_fa3_ops<128, 64, 1, 0, 0>();
  add_fa3_ops<128, 176, 1, 0, 0>();
  add_fa3_ops<64, 192, 1, 0, 0>();
  add_fa3_ops<128, 128, 1, 50, 0>();
  add_fa3_ops<128, 128, 1, 0, 8>();
  add_fa3_ops<64, 128, 1, 25, 0>();
  add_fa3_ops<64, 128, 1, 50, 0>();
  add_fa3_ops<64, 128, 1, 100, 0>();
  add_fa3_ops<64, 128, 1, 0, 8>();
#endif
}

}  // namespace tilesim::microbench
