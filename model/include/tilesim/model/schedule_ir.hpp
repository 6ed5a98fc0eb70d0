// The schedule IR: one description of a tiled kernel's schedule, executed by two
// evaluators. The analytic model (model/src/evaluate.cpp) derives a steady-state
// iteration time from it in closed form; the discrete-event simulator (sim/)
// runs the same ops event by event. A schedule builder (model/src/schedules/*.cpp) fills
// a ScheduleDesc for one (profile, problem, tile); nothing in it needs the problem or the
// profile again: every amount of work is already in its unit's currency and every rate is
// already resolved from the profile (and any --scale what-if).
//
// Vocabulary
//   CTA            one thread block. A "work item" is one output tile a CTA computes (a
//                  GEMM C tile, an attention Q block of one head, one decode split). A plain
//                  grid runs one work item per CTA; a persistent grid loops over items.
//   iteration      one trip of the main loop of one work item (a GEMM K step, an attention
//                  KV block). Ops in `loop` run once per iteration.
//   op instance    (op, iteration i). Dependencies name another op and an iteration
//                  distance d >= 0: "instance (op, i) waits for (dep.op, i - d)". Instances
//                  with i - d < 0 do not exist and impose nothing (pipeline fill).
//   unit           a hardware resource with a throughput: per SM (tensor, mufu, fma, alu,
//                  cvt, smem) or chip-wide (l2, hbm). An op uses one or more units at the
//                  same time (a wgmma uses the tensor pipe and reads SMEM; a TMA load
//                  moves bytes through L2 and, for the part that misses, through HBM).
//
// Timing semantics of one op instance (both evaluators must honour these):
//   occupancy_cycles = max( max over its uses of  work / rate,  chain_cycles )
//                      (the op alone on an idle SM; for a chip-wide unit the rate is the
//                      CTA's fair share, see below). chain_cycles is the op's own warps'
//                      dependent instruction stream (instructions per thread x cycles per
//                      instruction of a warp): it holds no shared unit, so other warps'
//                      ops use the units meanwhile, but the op is not over before it ends.
//   An op starts when all its dependencies are satisfied and (in the simulator) its units
//   are free; it holds each used unit for work/rate cycles; its result is visible
//   `latency_cycles` after its occupancy ends (pipeline latency that does not occupy
//   the unit: tensor issue-to-result, TMA/L2/HBM round trip, MUFU latency...).
//   Dependency kinds (what "satisfied" means):
//     kIssue: the predecessor instance has started (in-order issue from the same
//             instruction stream, no data needed). Weight 0 in the cycle bound.
//     kAfter: the predecessor's occupancy has ended (an in-order pipe: wgmmas of one
//             warpgroup execute in order; the next one may start when the previous one
//             leaves the pipe). Weight = occupancy.
//     kDone:  the predecessor's result is visible: occupancy + latency (a wait on a
//             barrier, wgmma.wait_group, a register dependency). Weight = occupancy+latency.
//   A load->compute ring with S stages is two sets of kDone edges: the consumer waits
//   for the load of the same iteration ("full" barrier, distance 0) and the load waits
//   for the consumer that releases the slot S iterations earlier ("empty" barrier,
//   distance S). The edges carry the barrier's name so the simulator can show it.
//
// Chip-wide units (l2, hbm): `rate_per_clk` in a Use is the whole chip's rate in bytes per
// SM clock. In the analytic model a CTA gets rate / resident_ctas_chip (all resident
// CTAs stream at once). The simulator shares the chip rate among the CTAs that are loading
// at that moment; it simulates one SM and may assume the other SMs load alike.
//
// Analytic evaluation (model/src/evaluate.cpp), for the simulator's reference:
//   resource bound per unit u  = ctas_per_sm * sum over loop ops of work_u / rate_u
//                                (the SM's units are shared by its resident CTAs)
//   dependency (cycle) bound   = max over dependency cycles C of
//                                sum_{edges in C} weight / sum_{edges in C} distance
//                                (the steady state of a loop with loop-carried deps)
//   iteration_cycles           = max(resource bound, cycle bound) (+ per-iteration
//                                overhead from ModelConstants)
//   item_cycles                = prologue critical path + iterations * iteration_cycles
//                                + epilogue critical path (+ fill, see evaluate.cpp)
//   grid                       = list scheduling of work items onto SM slots (see Grid)
//   time                       = max(grid makespan, every unit's whole-kernel bound)
//                                + launch overhead + post pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tilesim::model {

// Hardware units. Currency of each (the `work` of a Use on it):
enum class Unit : int {
  kTensor = 0,  // FLOP (2 per multiply-add), as executed: shapes padded to the instruction
  kMufu,        // MUFU ops (ex2.approx: one per element)
  kFma,         // FP32 FMA-pipe thread ops (FFMA, FADD, FMUL)
  kAlu,         // integer / logic / fp min-max thread ops
  kCvt,         // packed f32x2 -> bf16x2 conversions (one op converts two values)
  kSmem,        // bytes read from shared memory (tensor-core operand reads, ldmatrix,
                //   softmax staging); TMA/cp.async writes are not counted here (see
                //   ModelConstants::smem_write_weight)
  kL2,          // bytes moved between L2 and the SMs (loads and stores; chip-wide)
  kHbm,         // bytes moved between HBM and L2 (chip-wide)
  kIssue,       // thread instructions issued by the SM's warp schedulers (4 x 1 warp
                //   instruction x 32 threads per clock): softmax and other CUDA-core work
                //   counts here as well as on its pipe; tensor-core instructions are not
                //   counted (one wgmma/tcgen05 issue per many cycles of work)
  kTma,         // chip-wide L2 cycles of TMA tile loads: their requests and 32-byte sectors,
                //   each at the profile's rate (binds when box rows sit off 128-byte lines)
  kCount
};
constexpr int kUnitCount = static_cast<int>(Unit::kCount);

// "tensor", "mufu", "fma", "alu", "cvt", "smem", "l2", "hbm", "issue", "tma".
const char* unit_name(Unit u);
// The currency, e.g. "FLOP", "op", "B".
const char* unit_currency(Unit u);
// true for l2, hbm and tma (shared by the whole chip).
bool unit_is_chip_wide(Unit u);
// Parses a unit name; returns false if unknown.
bool parse_unit(const std::string& name, Unit* out);

// One use of one unit by an op.
struct Use {
  Unit unit = Unit::kTensor;
  double work = 0.0;          // in the unit's currency, per op instance (per CTA)
  double rate_per_clk = 0.0;  // currency per SM clock: per SM for SM units, whole chip for
                              // l2/hbm. Tensor ops carry the rate of their path and dtype
                              // (wgmma bf16 4096 FLOP/clk/SM on H100, mma.sync 2048, ...).
  std::string what;           // how the work was counted, e.g. "2*128*256*64 FLOP"
};

enum class DepKind : int { kIssue = 0, kAfter, kDone };
const char* dep_kind_name(DepKind k);

struct Dep {
  int op = -1;         // index into the same phase's op list (ScheduleDesc::loop etc.)
  int distance = 0;    // iterations back (0 = same iteration); only loop ops use > 0
  DepKind kind = DepKind::kDone;
  std::string barrier; // named barrier / mbarrier this edge stands for ("" = data or order)
};

enum class RoleKind : int { kProducer = 0, kConsumer, kMma, kSoftmax, kCorrection, kEpilogue };
const char* role_kind_name(RoleKind k);

// A group of threads with one job (a TMA producer warp, a consumer warpgroup...).
struct Role {
  std::string name;          // "producer", "consumer0", "softmax1", ...
  RoleKind kind = RoleKind::kConsumer;
  int threads = 0;           // threads in this role (per CTA)
  int registers_per_thread = 0;  // estimated (accumulators + operands + overhead)
};

struct Op {
  std::string name;         // "load_k", "qk.wg0", "softmax.wg1", ...
  int role = -1;            // index into ScheduleDesc::roles
  std::vector<Use> uses;    // units used at once; occupancy = max(work / rate)
  double latency_cycles = 0.0;  // result visible this long after occupancy ends
  // The part of latency_cycles that grows with the CTAs streaming at once (a GEMM stage's
  // zero-filled TMA rows), per CTA, and the CTAs it was taken for: the evaluator takes it
  // again for the partial last round, where fewer CTAs stream.
  double latency_per_streaming_cta = 0.0;
  double latency_streaming_ctas = 0.0;
  // The op's warps issue their own instruction stream one dependent instruction after
  // another: instructions per thread x cycles per warp instruction. A floor on the
  // occupancy that holds no unit (see the timing semantics above); 0 = not modelled.
  double chain_cycles = 0.0;
  std::string chain_what;   // how the chain was counted (for --explain)
  std::vector<Dep> deps;
  std::string note;         // one line for --explain and the trace
};

// A load -> compute ring (for the trace and for the simulator's barrier objects). The
// edges that implement it are already in the ops' deps; this names them.
struct Ring {
  std::string name;         // "kv", "k", "v", "ab"
  int stages = 0;
  std::vector<int> producers;  // loop ops that fill a slot
  std::vector<int> consumers;  // loop ops that release a slot (all must finish)
  double bytes_per_stage = 0.0;
};

// CTAs with the same work. Causal attention has one class per distinct KV-block count.
struct WorkClass {
  std::string name;
  int64_t items = 0;        // work items in this class (over the whole grid)
  int64_t iterations = 0;   // main-loop iterations per item
};

enum class Scheduler : int {
  kPlain = 0,         // one item per CTA, hardware dispatches CTAs in launch order
  kPersistent,        // ctas_per_sm * SMs CTAs loop over items in launch order (dynamic)
  kLongestFirst,      // persistent, items handed out longest first (LPT)
  kStaticStride,      // persistent, slot s takes items s, s + slots, s + 2 slots, ... of the
                      // launch order (Grid::launch_pattern), whatever they cost
};
const char* scheduler_name(Scheduler s);

struct Grid {
  Scheduler scheduler = Scheduler::kPlain;
  int cluster_size = 1;             // CTAs per cluster (co-scheduled)
  int ctas_per_sm = 1;              // resident CTAs per SM (occupancy; computed)
  std::string occupancy_limit;      // which resource limits ctas_per_sm, e.g. "smem"
  int sm_count = 0;                 // SMs of the profile
  std::vector<WorkClass> classes;   // in launch order (before any longest-first sort)
  // kStaticStride: the class of each item of one period of the launch order, which repeats
  // total_items() / launch_pattern.size() times (empty for the other schedulers).
  std::vector<int> launch_pattern;
  // Share of the items that move data through L2 and HBM. A cluster-granular GEMM
  // scheduler runs whole clusters, also those past the matrix's last tile: those items
  // compute on zero-filled boxes and share no chip-wide bandwidth.
  double streaming_share = 1.0;
  double streaming_fraction() const;  // streaming_share within [0, 1]
  int64_t total_items() const;
  int64_t resident_ctas() const;    // sm_count * ctas_per_sm
  // CTAs that run on one SM at once in the steady state: ctas_per_sm, fewer when the grid
  // has fewer items than slots (at least 1).
  int ctas_sharing_an_sm() const;
};

// Work after the main kernel that is not per-SM (split-KV combine): memory traffic and a
// launch. Empty when bytes == 0.
struct PostPass {
  std::string name;
  double hbm_bytes = 0.0;   // read + written
  double launch_us = 0.0;
  // The pass's longest dependent load chain (us): it cannot end sooner whatever the
  // bandwidth (the split-KV combine: one warp per output row walks every split's partial).
  double chain_us = 0.0;
  // launch + the longer of its traffic at `hbm_bytes_per_s` and its chain; 0 without a pass.
  double time_us(double hbm_bytes_per_s) const;
};

// CTA resources (for occupancy and feasibility).
struct CtaResources {
  int threads = 0;
  double smem_bytes = 0.0;
  int registers_per_thread = 0;  // the largest role's (setmaxnreg rebalances are folded in)
  double registers_total = 0.0;  // sum over roles of threads * registers
  int tmem_columns = 0;
};

// The SM clock as a function of the tensor pipe's busy share (power-capped DVFS, see
// model/src/clock.hpp): the lower of a line from max_mhz (idle tensor pipe) to
// tensor_saturated_mhz (saturated one) and a step of tensor_active_drop_mhz below max_mhz
// that a kernel reaches once its tensor share is tensor_active_knee_share; without a
// measured line (dvfs false) the chip runs at fixed_mhz.
struct ClockLine {
  bool dvfs = false;
  double max_mhz = 0.0;
  double tensor_saturated_mhz = 0.0;
  double tensor_active_drop_mhz = 0.0;
  double tensor_active_knee_share = 0.0;
  double fixed_mhz = 0.0;
  // What one busy tensor-pipe cycle draws relative to the bf16/fp16 wgmma cycles the line
  // was measured with (an 8-bit wgmma cycle does twice the FLOPs): the busy share is scaled
  // by it, and a kernel can fall below tensor_saturated_mhz.
  double tensor_power_ratio = 1.0;
  // True when tensor_saturated_mhz is the spec clock, not a measured one (a profile with a
  // measured light-load clock only): the clock never falls below it.
  bool loaded_end_is_spec = false;
};

// What evaluation needs from the chip and the model constants besides the ops' own rates,
// copied in when the schedule is built: the IR is self-contained.
struct ChipTerms {
  double clock_mhz = 0.0;             // the profile's model clock (the ops' rates per clock)
  ClockLine clock;                    // the clock the kernel settles at
  double launch_us = 0.0;             // kernel launch overhead
  double l2_bytes_per_s = 0.0;        // achievable: profile x l2_efficiency
  double hbm_bytes_per_s = 0.0;       // achievable: profile x hbm_efficiency
  double l2_peak_bytes_per_s = 0.0;   // the profile's figures: 100 % utilization
  double hbm_peak_bytes_per_s = 0.0;
  double iteration_overhead_cycles = 0.0;  // model constants of the same names
  double item_setup_cycles = 0.0;
  double cta_launch_cycles = 0.0;
  double hbm_latency_cycles = 0.0;  // the profile's DRAM pointer-chase latency
  // Dirty lines in the L2 when the kernel starts (bytes) and the bytes the kernel must move
  // through HBM before it has evicted (written back) all of them: its HBM stream carries
  // dirty x min(1, its bytes / evict bytes) more (0 on a clean L2).
  double l2_dirty_bytes_at_start = 0.0;
  double l2_dirty_evict_bytes = 0.0;
  // The energy bound (profile power block, model energies): absent on chips whose power
  // was never measured, where the sustained time is the time.
  bool power_known = false;
  double power_limit_w = 0.0;                  // board power limit
  double power_idle_w = 0.0;                   // drawn awake at the maximum clock, no kernel
  double energy_j_per_work[kUnitCount] = {};   // per unit of each unit's work (J)
};

struct ScheduleDesc {
  std::string schedule;      // "attn_fa3"
  std::string summary;       // one line: "FA3: producer + 2 consumer WGs, ping-pong"
  std::vector<Role> roles;
  std::vector<Op> prologue;  // once per work item before the loop (Q load, barrier init)
  std::vector<Op> loop;      // per main-loop iteration
  std::vector<Op> epilogue;  // once per work item after the loop (normalize, store C/O)
  std::vector<Ring> rings;
  // Deps inside prologue/epilogue refer to ops of the same list (distance 0). The loop's
  // first iteration waits for the whole prologue; the epilogue waits for the last
  // iteration. prologue_overlaps_previous: in a persistent kernel the producer fetches the
  // next item's prologue while consumers finish the previous item (prologue hidden except
  // for the first item per CTA). epilogue_overlaps_next: the epilogue runs on roles that
  // do not block the next item's main loop (e.g. a TMEM double-buffered accumulator).
  bool prologue_overlaps_previous = false;
  bool epilogue_overlaps_next = false;
  Grid grid;
  CtaResources cta;
  PostPass post;
  // Whole-kernel totals (for bounds, bandwidth and TFLOP/s): useful FLOPs of the problem
  // (no padding) and the HBM/L2 bytes of the whole grid with the L2 reuse model applied.
  double useful_flops = 0.0;
  double total_hbm_bytes = 0.0;
  double total_l2_bytes = 0.0;
  ChipTerms chip;
  std::vector<std::string> notes;  // modelling choices worth printing (--explain)
};

// Occupancy (op instance work / rate) of one op when it runs alone on its SM, with the
// chip-wide units shared among `resident_ctas_chip` CTAs.
double op_occupancy_cycles(const Op& op, double resident_ctas_chip);

}  // namespace tilesim::model
