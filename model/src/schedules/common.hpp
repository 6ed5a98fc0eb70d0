// Shared pieces of the schedule builders: the build context, rates from the profile,
// an op-graph builder, occupancy, the L2 reuse models and the softmax op counts.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tilesim/model/model.hpp"
#include "tilesim/model/schedule_spec.hpp"

namespace tilesim::model::detail {

// --- Structural op counts (what the instruction stream does per element; not fitted) --
// Online softmax (FlashAttention-2 algorithm), per score element:
constexpr double kSoftmaxMaxAluOps = 1.0;   // FMNMX into the row max (ALU pipe)
constexpr double kSoftmaxScaleFmaOps = 1.0; // FFMA s*log2e/sqrt(d) - m*log2e/sqrt(d)
constexpr double kExp2MufuOps = 1.0;        // MUFU.EX2 (ex2.approx.ftz.f32)
constexpr double kSoftmaxSumFmaOps = 1.0;   // FADD into the row sum
constexpr double kCvtPerElement = 0.5;      // F2FP.BF16.F32.PACK_AB converts two values
// exp2 emulated on the FMA pipe (FlashAttention-4, arXiv 2603.05451: Cody-Waite range
// reduction + degree-3 polynomial), as the compiled FA3 kernels issue it (SASS of the
// main loop, scripts/sass_counts.py: 7 more instructions per emulated element than the
// MUFU path): 3 FADD + 3 FFMA on the FMA pipe; the input clamp (FMNMX) and the
// exponent add (LEA/IADD3) on the ALU.
constexpr double kPolyExp2FmaOps = 6.0;
constexpr double kPolyExp2AluOps = 2.0;
// Per row and iteration, on every thread that holds the row: the row max across the
// quad (2 SHFL + 2 FMNMX) and its validity tests (2 FSETP) on the ALU; the scaled max
// (FFMA), the correction exp2(m_old - m_new) (FADD + MUFU), the sum's rescale and update
// (FMUL + FADD) on the FMA pipe. SASS of the FA3 main loop: 11 instructions per row.
constexpr double kRowAluOps = 6.0;
constexpr double kRowFmaOps = 4.0;
constexpr double kRowMufuOps = 1.0;
// Threads that hold one accumulator row: wgmma and mma.sync give each row to a quad of
// 4 threads (m16n8 fragment layout), which all do the row's work; tcgen05.ld gives a
// thread a whole row.
constexpr double kThreadsPerRowQuad = 4.0;
constexpr double kThreadsPerRowTmem = 1.0;
// Causal mask on a diagonal block: compare + select per element.
constexpr double kMaskAluOps = 2.0;
// CUDA reserves 1 KiB of shared memory per CTA for system use (CUDA C++ Programming
// Guide, "Shared Memory" of compute capability 8.x/9.x/10.x).
constexpr double kSmemReservedPerCtaBytes = 1024.0;
// Registers are allocated per warp in units of 256 (8 per thread) (CUDA occupancy
// calculator, compute capability 9.0/10.0).
constexpr int kRegisterGranularity = 8;
// A TMA producer warpgroup after setmaxnreg.dec: CUTLASS sm90 warp-specialized kernels
// use 40 (LoadRegisterRequirement), FA3 24-32. We use 40 for GEMM and 24 for attention,
// what our kernels set (kernels/attention/fwd/fa3_kernel.cuh kProducerRegs).
constexpr int kGemmProducerRegisters = 40;
// A clustered Hopper GEMM (kernels/gemm/gemm_sm90_ws.cuh, gemm_sm90_fp8.cuh) passes two
// cluster-wide barriers per CTA: after its mbarrier init, before a peer's multicast may
// complete on them, and before it exits, while a peer may still write into its SMEM.
constexpr int kClusterBarriersPerCta = 2;
constexpr int kAttnProducerRegisters = 24;
constexpr int kWarpgroupThreads = 128;
constexpr int kWarpThreads = 32;
// Warp schedulers (sub-partitions) per SM on Hopper and Blackwell: each owns a quarter of
// the SM's MUFU, FMA and ALU lanes (CUDA C++ Programming Guide, compute capability 9.0).
constexpr int kSubPartitionsPerSm = 4;
// Instruction issue: each warp scheduler issues one warp instruction per clock (CUDA C++
// Programming Guide, SM description of compute capability 9.0 and 10.0), so a warp's mutually
// independent instructions leave it at most one per clock and the SM issues 4 x 32 thread
// instructions per clock. Not a profile field yet: the same on all four chips.
constexpr double kWarpIssueCyclesPerInstruction = 1.0;
constexpr double kIssueThreadOpsPerClkPerSm = kSubPartitionsPerSm * kWarpThreads / kWarpIssueCyclesPerInstruction;
// Instruction shapes.
constexpr int kWgmmaM = 64;        // wgmma.mma_async M per warpgroup (PTX ISA)
constexpr int kWgmmaMaxN = 256;    // N multiple of 8, 8..256
constexpr int kMmaSyncM = 16;      // mma.sync.m16n8k16
constexpr int kMmaSyncN = 8;
constexpr int kMmaSyncK = 16;     // bf16/fp16
constexpr int kTcgenMaxN = 256;    // tcgen05.mma N multiple of 16 (M=128) up to 256

enum class TensorPath { kWgmma, kTcgen05, kMmaSync };
const char* tensor_path_name(TensorPath t);

// Everything a builder needs.
struct Ctx {
  const Profile& p;
  const Problem& prob;
  const Tile& t;
  const ModelConstants& k;
  bool detailed = true;  // false in tune: skip the `what`/`note` strings
  // tune: occupancy failures are reported here (key) instead of thrown (exceptions are
  // the slowest part of rejecting a tile); builders return early when it is set.
  std::string* reject = nullptr;
  double clock_hz() const { return p.model_clock_mhz() * 1e6; }
  double ebytes() const { return dtype_bytes(prob.dtype); }
  double obytes() const { return output_bytes(prob.dtype); }
  int sm_count() const { return static_cast<int>(p.sm_count.value); }
  int i(const char* key) const { return t.geti(key); }
  double d(const char* key) const { return t.get(key); }
};

// Per-SM tensor FLOP/clk for a dtype and path. mma.sync: the profile's bf16 mma.sync
// rate scaled by the dtype's wgmma ratio (assumption noted in the README).
double tensor_rate(const Ctx& c, TensorPath path);
// The profile's tensor_mma latency is a dependent chain of wgmma m64n256k16 bf16
// (microbench wgmma/bf16/ss/n256/latency: 200 cycles on H100): each link is the
// instruction's own execution (2 x 64 x 256 x 16 FLOP at the SM's bf16 rate, 128 cycles)
// plus the pipe's drain before its result is visible. The n64 and n128 chains (93.5, 125.5
// cycles) leave the same ~62-72 cycles beyond their execution. An op whose occupancy
// already counts its wgmmas' execution waits the drain only.
inline constexpr double kWgmmaLatencyProbeFlops = 2.0 * 64 * 256 * 16;
// That probe instruction's execution at the profile's bf16 rate (SM cycles).
inline double wgmma_probe_cycles(const Profile& p) { return kWgmmaLatencyProbeFlops / p.per_sm.tensor_bf16.value; }
double wgmma_drain_cycles(const Ctx& c);
// A wgmma consumer's K-step loop per thread (SASS of gemm_sm90_ws's compiled consumers,
// scripts/sass_counts.py: least squares over the 26 bf16 instances, within 7 % of each): a
// fixed part (full-barrier wait, empty-barrier arrive, wgmma fence/commit/wait, loop
// control), per wgmma instruction (its descriptor arithmetic in the uniform datapath) and
// per 64 columns of block_n. They take issue slots only. gemm_sm90_fp8's K-group loop has
// the same structure around its promotion and takes them too (its SASS is not counted).
inline constexpr double kWgmmaLoopFixedInstructions = 35.7;
inline constexpr double kWgmmaLoopInstructionsPerWgmma = 11.4;
inline constexpr double kWgmmaLoopInstructionsPer64Columns = 3.7;
inline double wgmma_k_step_instructions(double wgmmas, double block_n) {
  return kWgmmaLoopFixedInstructions + kWgmmaLoopInstructionsPerWgmma * wgmmas +
         kWgmmaLoopInstructionsPer64Columns * block_n / 64.0;
}
// How long a consumer warpgroup waits for its wgmmas of one K step when `consumers`
// warpgroups each issue `consumer_tensor_cycles` of work at once: the warpgroups' in-flight
// wgmmas interleave on the SM's one tensor pipe, so each one's results arrive only when the
// others' concurrent work is done too (the MMA latency plus the other consumers' cycles).
// A ring stage is released after that wait.
double shared_pipe_wgmma_wait_cycles(const Ctx& c, int consumers, double consumer_tensor_cycles);
// Bytes a warpgroup's wgmmas read from SMEM (A and B both in SMEM) for its `rows` x `cols`
// accumulator over `k` of the reduction: each m64 instruction reads its 64 rows of A and all
// `cols` rows of B, so B is read once per 64 rows the warpgroup owns.
double wgmma_ss_smem_bytes(double rows, double cols, double k, double elem_bytes);
// Chip rates in bytes per SM clock, with the achievable-fraction constants applied.
double l2_bytes_per_clk(const Ctx& c);
double hbm_bytes_per_clk(const Ctx& c);
// Latency of a load whose bytes come from HBM with probability hbm_fraction, else L2.
double load_latency_cycles(const Ctx& c, double hbm_fraction);

struct GemmTraffic;  // below: a GEMM's operand traffic

// Builds ops and deps with short names.
class Builder {
 public:
  Builder(const Ctx& c, ScheduleDesc& d) : c_(c), d_(d) {}
  int role(const std::string& name, RoleKind kind, int threads, int regs);
  // list: &d.loop, &d.prologue or &d.epilogue
  int op(std::vector<Op>* list, const std::string& name, int role, double latency_cycles = 0.0);
  // Adds a use; `what` (a callable returning the explanation) is only called for
  // detailed builds (a template, not std::function: no allocation on tune's hot path).
  void use(std::vector<Op>* list, int op, Unit u, double work, double rate) { add_use(list, op, u, work, rate); }
  template <typename F>
  void use(std::vector<Op>* list, int op, Unit u, double work, double rate, F&& what) {
    if (Use* x = add_use(list, op, u, work, rate); x != nullptr && c_.detailed) x->what = what();
  }
  void dep(std::vector<Op>* list, int op, int on, int distance, DepKind kind, const char* barrier = "");
  template <typename F>
  void note(std::vector<Op>* list, int op, F&& text) {
    if (c_.detailed) (*list)[op].note = text();
  }
  template <typename F>
  void desc_note(F&& text) {
    if (c_.detailed) d_.notes.push_back(text());
  }
  // A TMA / cp.async load of `bytes` through L2 (l2 use), with `hbm_fraction` of them
  // from HBM (hbm use, at `hbm_efficiency` of the streaming rate), latency from the mix;
  // SMEM write charged per smem_write_weight.
  int load(std::vector<Op>* list, const std::string& name, int role, double bytes, double hbm_fraction,
           double extra_latency = 0.0, double hbm_efficiency = 1.0);
  // A GEMM's TMA load of K-major operand tiles: `rows` box rows (A's and B's, after
  // multicast) of `row_bytes`, rows K x element bytes apart. The load above with g's HBM
  // share at gemm_operand_hbm_efficiency, and the TMA requests of its rows.
  int gemm_operand_load(std::vector<Op>* list, const std::string& name, int role, double bytes,
                        const GemmTraffic& g, double rows, double row_bytes);
  // The loaded latency of that load's stage (Hopper TMA GEMMs: fitted on their runs): a
  // stage that waits for HBM (g.stage_hbm_share of them) takes gemm_operand_hbm_latency_cycles,
  // the others the L2 latency; the grid's first stage waits for HBM (a prologue op).
  void gemm_stage_latency(std::vector<Op>* list, int load_op, const GemmTraffic& g);
  // A clustered kernel's cluster-wide barriers (kClusterBarriersPerCta of
  // cluster_barrier_cycles each): a prologue op on `role` before the CTA's first load,
  // paid once per CTA of a persistent grid. Nothing for a cluster of one CTA. Call it
  // before gemm_stage_latency, whose cold first stage waits for it.
  void cluster_barriers(int cluster_size, int role);
  // A store of `bytes` to global memory (through L2 to HBM). The store also leaves its SM
  // at sm_store_bytes_per_clk, shared by the `sm_writers` ops of the phase that store at
  // the same time on that SM: a chain on the op (schedules whose fitted or measured
  // per-item chain covers their stores, FA3, decode and MLA, replace it with that).
  void store_uses(std::vector<Op>* list, int op, double bytes, double efficiency, int sm_writers = 1);
  // The TMA engine's share of a load op: `rows` box rows of `row_bytes` each, consecutive
  // rows `stride_bytes` apart in global memory (no use where the profile has no TMA rates).
  void tma_rows(std::vector<Op>* list, int op, double rows, double row_bytes, double stride_bytes);

 private:
  Use* add_use(std::vector<Op>* list, int op, Unit u, double work, double rate);
  const Ctx& c_;
  ScheduleDesc& d_;
};

// L2 requests and 32-byte sectors one TMA box row costs, averaged over the rows of a box
// whose global rows are `stride_bytes` apart (the box starts on a 128-byte line). Measured on
// H100 (ncu): a request never crosses a 128-byte line, a partly covered sector is a request
// of its own, and the fully covered sectors of a line go in one request. A 128-byte row on a
// line is 1 request of 4 sectors; rows 16 B off alternate with others to 2.6 requests.
struct TmaRowCost {
  double requests = 0.0;
  double sectors = 0.0;
};
TmaRowCost tma_row_cost(double row_bytes, double stride_bytes);

// Hands d's ops to this thread's pool for the next build (tune; d's op lists end empty).
void recycle_ops(ScheduleDesc& d);

// Resident CTAs per SM from the CTA's resources; throws Infeasible naming the resource,
// or, with c.reject set, stores the key there and returns false.
[[nodiscard]] bool fill_occupancy(const Ctx& c, ScheduleDesc& d);

// The work of a Hopper TMA GEMM's persistent grid (gemm_sm90_ws.cuh, gemm_sm90_fp8.cuh):
// the kernels hand out whole clusters of tiles, and a cluster past M's or N's last tile still
// runs, on zero-filled boxes (its stores are clipped). One work class of the tile grid rounded
// up to the cluster shape (x `splits` K splits, `iterations` each); the padding items move no
// bytes (Grid::streaming_share). Returns the real tiles that stream at once.
int64_t add_cluster_tile_grid(ScheduleDesc& d, int64_t tiles_m, int64_t tiles_n, int cluster_m, int cluster_n,
                              int64_t splits, int64_t iterations);

// GEMM HBM traffic of A and B with L2 reuse across the tiles of a wave (tiles visited
// in swizzle groups of `raster` tile-rows; raster 1 = row-major over N).
struct GemmTraffic {
  double hbm_ab_bytes = 0.0;
  double l2_ab_bytes = 0.0;  // SM <- L2 (after multicast)
  // Share of the main loop's stages that wait for HBM: a stage is complete when both of its
  // boxes are, so it waits when the A or the B box misses L2 (each operand's misses are its
  // HBM reads over its strip reads; the two taken as independent).
  double stage_hbm_share = 0.0;
  // Zero-filled box rows (M or N below the tile grid): the mean over tiles of each CTA's
  // out-of-bounds rows per stage, squared, A's and B's added; and the CTAs streaming at once.
  double zero_fill_rows_sq = 0.0;
  double concurrent_ctas = 0.0;
  // Both operands are in the L2 from an identical launch just before (ModelConstants::
  // l2_operands_warm, and they fit in its usable part): no HBM reads, no cold first stage.
  bool warm = false;
  std::string model;         // how it was computed
};
// Split-K of a GEMM's K steps (gemm_sm90_ws, gemm_sm90_fp8): each split of an output tile
// writes an fp32 partial tile; a reduce pass then reads the split_k partials and writes C
// once (the post pass this sets; no pass with one split). Returns the bytes per C element
// a work item stores.
constexpr double kSplitKPartialBytes = 4.0;
double add_split_k_reduce(const Ctx& c, ScheduleDesc& d, double mn, int split_k);
// The splits a kernel runs for `split_k` over `k_steps` (kernels/gemm SplitK::make): every
// split gets ceil(k_steps / split_k) K steps, so fewer splits remain where that rounds up
// (9 steps asked for 4 splits run as 3 of 3; 4 steps asked for 8 run as 4 of 1).
int effective_split_k(int64_t k_steps, int split_k);

GemmTraffic gemm_traffic(const Ctx& c, int64_t tiles_m, int64_t tiles_n, int block_m, int block_n,
                         int64_t concurrent_tiles, int raster, int mcast_a, int mcast_b);

// Attention work classes (one per distinct KV-iteration count) and K/V reuse.
struct AttnGrid {
  int64_t m_blocks = 0;      // per (batch, head)
  std::vector<WorkClass> classes;
  double kv_block_iters_total = 0.0;  // sum over items of iterations
  int64_t items = 0;
  double diag_blocks_per_item = 0.0;  // KV blocks that need the causal mask
  std::vector<int> class_of_m_block;   // classes' index of each Q block, ascending m
};
AttnGrid attention_grid(const Problem& prob, int block_m, int block_n);
// How many times each (batch, kv head)'s K/V is read from HBM, given the CTAs that run
// at once (sharers of a head are adjacent in launch order).
double kv_reads_per_head(const Ctx& c, int64_t sharers_per_head, int64_t concurrent, double kv_bytes_per_head);

// The instruction forms the softmax's count depends on (profile features). Hopper: one
// fp32 lane per FMA-pipe instruction, two-input max. Blackwell: fma/add.f32x2 take two
// lanes (FA4 packs its scale, its sum and the polynomial's FADD/FFMA), and a three-input
// max folds two elements into the row maximum per instruction.
struct SoftmaxIsa {
  double fp32_lanes_per_instruction = 1.0;
  double max_inputs = 2.0;
};
SoftmaxIsa softmax_isa(const Profile& p);
// Online-softmax work of `rows` x `cols` scores with `exp_emu_fraction` of the exp2
// done by the polynomial (counts per element and per row: the k* constants above). The
// FMA-pipe work is in lanes (what the pipe executes); `issue` counts thread instructions.
struct SoftmaxWork {
  double mufu = 0, fma = 0, alu = 0, cvt = 0;
  double issue = 0;
  double instructions() const { return issue; }  // thread instructions
};
SoftmaxWork softmax_work(double rows, double cols, double exp_emu_fraction, double threads_per_row,
                         const SoftmaxIsa& isa = {});
// Share of the main-loop iterations after a peeled first block in which some running row
// maximum of a warp's `rows_per_warp` rows grows (the online softmax then rescales O), for
// `blocks` KV blocks of exchangeable scores (random inputs, as the validation data use):
// block i holds a row's running maximum with probability 1/i, so the share is the mean over
// i = 2..blocks of 1 - (1 - 1/i)^rows_per_warp. Real data with a stable maximum rescale less.
double running_max_growth_share(double blocks, int rows_per_warp);
// Rows of a wgmma accumulator one warp holds (m64 over a warpgroup's 4 warps).
constexpr int kWgmmaRowsPerWarp = kWgmmaM / 4;
// Cycles one warp's MUFU instruction holds its sub-partition's MUFU lanes (32 threads over
// a quarter of the SM's ex2 rate: 8 cycles on Hopper).
double mufu_warp_instruction_cycles(const Ctx& c);
// Adds the softmax's units; returns its work (for the per-warp chain).
SoftmaxWork add_softmax_uses(Builder& b, const Ctx& c, std::vector<Op>* list, int op, double rows, double cols,
                        double exp_emu_fraction, double threads_per_row);
// An elementwise FP32 pass (e.g. O *= correction): `ops` FMA-pipe thread ops, also issued.
template <typename F>
void add_fma_pass(Builder& b, const Ctx& c, std::vector<Op>* list, int op, double ops, double rate_factor, F&& what) {
  b.use(list, op, Unit::kFma, ops, c.p.per_sm.fp32_fma.value * rate_factor, what);
  b.use(list, op, Unit::kIssue, ops, kIssueThreadOpsPerClkPerSm * rate_factor);
}

// Attention HBM/L2 totals with K/V reuse across the q-blocks (and GQA heads) of a kv head.
struct AttnTraffic {
  double kv_hbm_fraction = 1.0;  // share of the loop's K/V loads that come from HBM
  double total_hbm = 0.0;
  double total_l2 = 0.0;
  double kv_reads = 1.0;         // times each kv head's K/V is read from HBM
  std::string model;
};
// kv_load_share: share of a K/V tile one CTA loads (0.5 for a 2-CTA pair).
AttnTraffic attention_traffic(const Ctx& c, const AttnGrid& g, int block_n, int64_t concurrent, double kv_load_share);
// Interleave classes in launch order for a plain grid whose blockIdx.x runs over the
// m-blocks of one head: the per-head sequence repeats (up to `reps` times here).
std::vector<WorkClass> interleave_heads(const std::vector<WorkClass>& classes, int64_t heads_total, int64_t reps);

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }
// A K tile of `k` elements fills whole 32-byte MMA K steps and a 64..256-byte TMA row.
inline bool row_bytes_ok(int64_t k, double elem_bytes) {
  const double bytes = static_cast<double>(k) * elem_bytes;
  return std::fmod(bytes, 64.0) == 0.0 && bytes >= 64.0 && bytes <= 256.0;
}
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
std::string kib(double bytes);  // "227.0 KiB"
std::string num(double v);      // compact number for explanations

// Each schedule file declares its spec (parameters, constraints, features, kernel
// rules, builder); schedule_spec.cpp lists them.

// Kernel rules several attention kernels share: instantiated for head dims 64 and 128
// (head_dim_v == head_dim) and for bf16.
extern const Constraint kHeadDim64Or128Rule;
extern const Constraint kBf16Rule;
// The representative problem of the attention forward schedules (tests, --help-schedule).
Problem attention_representative();
ScheduleSpec spec_gemm_sm90_ws();
ScheduleSpec spec_gemm_sm90_fp8();
ScheduleSpec spec_gemm_sm80_mma();
ScheduleSpec spec_gemm_sm100();
ScheduleSpec spec_attn_fa2();
ScheduleSpec spec_attn_fa3();
ScheduleSpec spec_attn_fa4();
ScheduleSpec spec_decode_splitkv();
ScheduleSpec spec_mla_decode();

// Builders (one per schedule file).
void build_gemm_sm90_ws(const Ctx& c, ScheduleDesc& d);
void build_gemm_sm90_fp8(const Ctx& c, ScheduleDesc& d);
void build_gemm_sm80_mma(const Ctx& c, ScheduleDesc& d);
void build_gemm_sm100(const Ctx& c, ScheduleDesc& d);
void build_attn_fa2(const Ctx& c, ScheduleDesc& d);
void build_attn_fa3(const Ctx& c, ScheduleDesc& d);
void build_attn_fa4(const Ctx& c, ScheduleDesc& d);
void build_decode_splitkv(const Ctx& c, ScheduleDesc& d);
void build_mla_decode(const Ctx& c, ScheduleDesc& d);

}  // namespace tilesim::model::detail
