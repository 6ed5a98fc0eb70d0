// ModelConstants: the few numbers the model needs that no datasheet or microbenchmark
// gives directly (per-iteration overhead, epilogue efficiency, achievable fraction of
// HBM bandwidth...). They are data, not code: data/model/constants.json, embedded at
// build time, every value with a unit and a source. `tilesim validate --calibrate` fits them by least squares
// and writes a new file; `--constants file.json` (CLI) or load_constants() uses it.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tilesim/fields.hpp"

namespace tilesim::model {

struct ConstantInfo {
  double value = 0.0;
  std::string unit;
  std::string source;  // "assumed" | "measured: ..." | "fitted: ..." | a citation
  std::string note;
};

struct ModelConstants {
  // One member per row of kConstantFields (below), which says what each one means.
  double iteration_overhead_cycles = 0.0;
  double item_setup_cycles = 0.0;
  double cta_launch_cycles = 0.0;
  double epilogue_efficiency = 0.0;
  double hbm_efficiency = 0.0;
  double gemm_operand_hbm_efficiency = 0.0;
  double gemm_operand_hbm_latency_cycles = 0.0;
  double tma_issue_cycles_per_row = 0.0;
  double sm_store_bytes_per_clk = 0.0;
  double tma_zero_fill_latency_cycles = 0.0;
  double cluster_barrier_cycles = 0.0;
  double clock_fp8_tensor_power_ratio = 0.0;
  double decode_prefetch_refetch_fraction = 0.0;
  double l2_efficiency = 0.0;
  double l2_usable_fraction = 0.0;
  double l2_flush_dirty_share = 0.0;
  double l2_dirty_evict_l2_multiple = 0.0;
  double smem_write_weight = 0.0;
  double rescale_fraction_thresholded = 0.0;
  double page_lookup_cycles = 0.0;
  double register_overhead_per_thread = 0.0;
  double consumer_cycles_per_instruction = 0.0;
  double mla_cycles_per_instruction = 0.0;
  double mla_kv_on_m_cycles_per_instruction = 0.0;
  double wgmma_inflight_share = 0.0;
  double mma_sync_warp_cycles_per_instruction = 0.0;
  double sm80_gemm_cycles_per_instruction = 0.0;
  double decode_warp_cycles_per_instruction = 0.0;
  double decode_cpi_share_per_co_resident_warp = 0.0;
  double decode_l2_prefetch_issue_cycles = 0.0;
  double fa3_item_chain_cycles = 0.0;
  double mla_item_chain_cycles = 0.0;
  double decode_item_chain_cycles = 0.0;
  double fa3_loop_barrier_cycles = 0.0;
  double clock_tensor_active_drop_mhz = 0.0;
  double clock_tensor_active_knee_share = 0.0;
  double energy_tensor_pj_per_flop = 0.0;
  double energy_smem_pj_per_byte = 0.0;
  double energy_l2_pj_per_byte = 0.0;
  double energy_hbm_pj_per_byte = 0.0;
  double energy_issue_pj_per_op = 0.0;

  // Not a constant but the state a kernel is predicted from: false (default) is how every
  // runner times, each sample after a memset flush whose dirty lines stay in the L2
  // (l2_flush_dirty_share of it); true is a clean L2 (tilesim predict --l2-start clean,
  // validate for runs timed with --l2-flush clean, ncu's own cache flush).
  bool l2_clean_at_start = false;
  // Also state, not a constant: true when the kernel was launched right after an identical
  // launch with no flush between them (back-to-back timing loops): the operands the previous
  // launch read are still in the L2 wherever they fit in its usable part
  // (l2_usable_fraction), and the kernel reads them from there, not from HBM.
  bool l2_operands_warm = false;

  std::string origin;                        // file or "built-in:data/model/constants.json"
  std::map<std::string, ConstantInfo> info;  // by name, as in the JSON
};

namespace constants_schema {
using fields::field;
using fields::member;
using fields::Rule;
using fields::Unit;

// Plausible values of a constant, by unit: a ratio is a fraction of a peak; no
// per-iteration or per-item overhead reaches a million cycles (~0.6 ms at 1.6 GHz); a
// thread has at most 255 registers; a warp scheduler issues at most one instruction per
// cycle, and a warp waits no more than 64 cycles on average per dependent instruction
// (the longest fixed latencies, MUFU and shared memory, are ~20-30).
inline constexpr Unit kRatio{"ratio", 0, 1};
inline constexpr Unit kCycles{"cycles", 0, 1e6};
inline constexpr Unit kRegisters{"reg", 0, 255};
inline constexpr Unit kCyclesPerInstruction{"cycles/instruction", 1, 64};
// A clock offset: DVFS moves these cards' SM clock by a few hundred MHz at most.
inline constexpr Unit kMegahertz{"MHz", 0, 1000};
// Power relative to a reference: a datapath's busy cycle draws between half and four times
// another's.
inline constexpr Unit kRelativePower{"x", 0.5, 4};
// One SM's share of a memory path: its L1 moves at most 128 B per cycle.
inline constexpr Unit kBytesPerClk{"B/clk", 0, 128};
// Bytes streamed relative to the L2 capacity: evicting a full L2 takes at least one L2 of new
// lines and, with a replacement policy that is not strict LRU, a few.
inline constexpr Unit kL2Multiple{"x L2", 1, 8};
// Energy per unit of work: tens of pJ per byte moved on chip, ~1 pJ per FLOP; a thousand
// pJ per byte or a hundred per FLOP is a unit slip.
inline constexpr Unit kPicojoulesPerFlop{"pJ/FLOP", 0, 100};
inline constexpr Unit kPicojoulesPerByte{"pJ/B", 0, 1000};
inline constexpr Unit kPicojoulesPerOp{"pJ/op", 0, 1000};

// Every constant: its name in constants.json, unit, rule and meaning. The loader, the
// calibration and the writer read it; a new constant is a member above and a row here.
inline constexpr std::array kConstantFields{
    field("iteration_overhead_cycles", member<&ModelConstants::iteration_overhead_cycles>, kCycles,
          Rule::kAny,
          "cycles added to every steady-state main-loop iteration on the critical chain: loop "
          "control, mbarrier try_wait/arrive, wgmma fence/commit not hidden by overlap"),
    field("item_setup_cycles", member<&ModelConstants::item_setup_cycles>, kCycles, Rule::kAny,
          "cycles per work item before its main loop (tile scheduler fetch, barrier init, "
          "descriptor prefetch) that the model does not express as ops"),
    field("cta_launch_cycles", member<&ModelConstants::cta_launch_cycles>, kCycles, Rule::kAny,
          "cycles to launch one CTA of a plain (non-persistent) grid onto a freed SM slot"),
    field("epilogue_efficiency", member<&ModelConstants::epilogue_efficiency>, kRatio,
          Rule::kPositive,
          "achieved / peak rate of the epilogue's stores (register -> smem -> TMA store)"),
    field("hbm_efficiency", member<&ModelConstants::hbm_efficiency>, kRatio, Rule::kPositive,
          "achievable / datasheet HBM bandwidth (streaming reads)"),
    field("gemm_operand_hbm_efficiency", member<&ModelConstants::gemm_operand_hbm_efficiency>, kRatio,
          Rule::kPositive,
          "share of that streaming rate a GEMM's K-major operand tiles reach from HBM: each box row reads "
          "block_k x element bytes (128 B) of a row K x element bytes away from the next, so DRAM pages "
          "are visited in short runs (cuBLAS shows the same on weight-streaming GEMMs)"),
    field("gemm_operand_hbm_latency_cycles", member<&ModelConstants::gemm_operand_hbm_latency_cycles>,
          kCycles, Rule::kPositive,
          "cycles from the TMA load of a Hopper GEMM stage's K-major operand boxes (after its rows are "
          "issued: tma_issue_cycles_per_row) to its full barrier when a box comes from HBM while the grid "
          "streams its operands (loaded latency: each box row opens "
          "another DRAM page and the rows of all SMs' boxes queue at the DRAM banks)"),
    field("tma_issue_cycles_per_row", member<&ModelConstants::tma_issue_cycles_per_row>, kCycles, Rule::kNonNegative,
          "SM cycles the SM's TMA unit spends per box row of a GEMM stage's loads: its stages are issued one "
          "after the other, so a CTA's stage loads cannot come faster than their rows allow"),
    field("sm_store_bytes_per_clk", member<&ModelConstants::sm_store_bytes_per_clk>, kBytesPerClk, Rule::kPositive,
          "bytes per SM cycle that one SM's stores to global memory leave it at (st.global or TMA store, "
          "through L2): an epilogue's stores are a chain on its SM, whatever the chip-wide rates leave"),
    field("cluster_barrier_cycles", member<&ModelConstants::cluster_barrier_cycles>, kCycles, Rule::kNonNegative,
          "SM cycles one cluster-wide barrier (barrier.cluster arrive + wait) holds a CTA of a clustered kernel: "
          "a multicasting Hopper GEMM passes one after its barrier init (a peer's multicast may target them) "
          "and one before it exits (a peer may still write into its shared memory), once per CTA"),
    field("tma_zero_fill_latency_cycles", member<&ModelConstants::tma_zero_fill_latency_cycles>, kCycles,
          Rule::kNonNegative,
          "cycles a Hopper GEMM stage's load takes longer per CTA streaming at once and per square of its box's "
          "zero-filled (out-of-bounds) rows: TMA fills them without reading memory, yet they slow every stream"),
    field("decode_prefetch_refetch_fraction", member<&ModelConstants::decode_prefetch_refetch_fraction>, kRatio,
          Rule::kAny,
          "decode_splitkv with l2_prefetch: the share of the prefetched KV bytes HBM delivers a second time "
          "(the kernel measured slower with the prefetch; a prefetched line that L2 evicts before its load is "
          "one candidate cause, not established)"),
    field("l2_efficiency", member<&ModelConstants::l2_efficiency>, kRatio, Rule::kPositive,
          "achievable / profile L2 bandwidth"),
    field("l2_usable_fraction", member<&ModelConstants::l2_usable_fraction>, kRatio, Rule::kAny,
          "share of L2 capacity that holds reusable data (H100's L2 is two halves; data may be "
          "duplicated in both; streaming traffic evicts)"),
    field("l2_flush_dirty_share", member<&ModelConstants::l2_flush_dirty_share>, kRatio, Rule::kNonNegative,
          "share of the L2 capacity that a runner's memset flush leaves as dirty lines: the timed kernel "
          "writes them back to HBM as its own traffic evicts them"),
    field("l2_dirty_evict_l2_multiple", member<&ModelConstants::l2_dirty_evict_l2_multiple>, kL2Multiple,
          Rule::kPositive,
          "bytes a kernel moves through HBM before it has evicted every dirty line it found in the L2, as a "
          "multiple of the L2 capacity; below it, the write-back is that share of the dirty lines"),
    field("smem_write_weight", member<&ModelConstants::smem_write_weight>, kRatio, Rule::kAny,
          "weight of TMA / cp.async SMEM writes on the SMEM unit (0 = separate write path)"),
    field("rescale_fraction_thresholded", member<&ModelConstants::rescale_fraction_thresholded>,
          kRatio, Rule::kAny,
          "fraction of main-loop iterations that still rescale O when rescale_threshold > 0"),
    field("page_lookup_cycles", member<&ModelConstants::page_lookup_cycles>, kCycles, Rule::kAny,
          "cycles of extra load latency per KV page touched in one iteration (page-table "
          "indirection, per-page address generation)"),
    field("register_overhead_per_thread", member<&ModelConstants::register_overhead_per_thread>,
          kRegisters, Rule::kAny,
          "registers per thread beyond accumulators and operand fragments (addresses, loop "
          "counters, softmax row state, predicates)"),
    field("consumer_cycles_per_instruction",
          member<&ModelConstants::consumer_cycles_per_instruction>, kCyclesPerInstruction,
          Rule::kAny,
          "average cycles between two instructions of one attention consumer warp issuing its own"
          " dependent stream (softmax, rescale, loop control) while its partner warpgroup shares "
          "the SM sub-partition: the per-warp chain is instructions x this"),
    field("mla_cycles_per_instruction", member<&ModelConstants::mla_cycles_per_instruction>,
          kCyclesPerInstruction, Rule::kAny,
          "the same for mla_decode's first consumer warpgroup (S issue, softmax, O rescale, P hand-off, "
          "PV issue): its own fit, the MLA kernels' streams differ from FA3's"),
    field("mla_kv_on_m_cycles_per_instruction", member<&ModelConstants::mla_kv_on_m_cycles_per_instruction>,
          kCyclesPerInstruction, Rule::kAny,
          "the same for mla_decode with KV rows on M (kv_on_m = 1): its column softmax waits on "
          "shuffles, cross-warp SMEM exchanges and named barriers where the heads-on-M stream is "
          "mostly wgmma descriptor setup"),
    field("wgmma_inflight_share", member<&ModelConstants::wgmma_inflight_share>, kRatio, Rule::kAny,
          "share of the partner warpgroup's in-flight wgmma block that a warpgroup's S = QK^T "
          "waits behind on the shared tensor pipe (0: strict issue order; 1: the whole block)"),
    field("mma_sync_warp_cycles_per_instruction",
          member<&ModelConstants::mma_sync_warp_cycles_per_instruction>, kCyclesPerInstruction,
          Rule::kAny,
          "average cycles between two non-MUFU instructions of one mma.sync attention warp (FA2: "
          "the warp issues its GEMMs, softmax and address arithmetic itself)"),
    field("sm80_gemm_cycles_per_instruction",
          member<&ModelConstants::sm80_gemm_cycles_per_instruction>, kCyclesPerInstruction,
          Rule::kAny,
          "average cycles between two instructions of one mma.sync GEMM warp (independent address"
          " arithmetic: more ILP than the attention warps)"),
    field("decode_warp_cycles_per_instruction",
          member<&ModelConstants::decode_warp_cycles_per_instruction>, kCyclesPerInstruction,
          Rule::kAny,
          "average cycles between two non-MUFU instructions of one decode_splitkv warp alone on its "
          "sub-partition (one warp per sub-partition per CTA; its loads, softmax, rescale and mma.sync in one stream)"),
    field("decode_cpi_share_per_co_resident_warp",
          member<&ModelConstants::decode_cpi_share_per_co_resident_warp>, kRatio, Rule::kNonNegative,
          "how much longer a decode_splitkv warp's per-instruction spacing gets per other CTA's warp on its "
          "sub-partition (they take the issue slot and the dependent pipes when both are ready)"),
    field("decode_l2_prefetch_issue_cycles", member<&ModelConstants::decode_l2_prefetch_issue_cycles>, kCycles,
          Rule::kNonNegative,
          "cycles per main-loop iteration that decode_splitkv's prefetching warps spend issuing their "
          "cp.async.bulk.prefetch.L2 beyond its counted instructions (a bulk request handed to the "
          "copy engine; the CTA's warps meet every iteration, so the slowest stream binds)"),
    field("fa3_item_chain_cycles", member<&ModelConstants::fa3_item_chain_cycles>, kCycles,
          Rule::kAny,
          "cycles of an FA3 consumer warp's own stream per work item outside the steady loop "
          "(peeled first block, last PV, normalisation, O stores)"),
    field("mla_item_chain_cycles", member<&ModelConstants::mla_item_chain_cycles>, kCycles,
          Rule::kNonNegative,
          "cycles per mla_decode work item outside the steady loop beyond the ops the model describes "
          "(first block's wait, final normalisation, the partial O stores' issue): fitted, the short "
          "training items show it and the long ones hide it"),
    field("decode_item_chain_cycles", member<&ModelConstants::decode_item_chain_cycles>, kCycles,
          Rule::kNonNegative,
          "cycles per decode_splitkv work item outside the steady loop beyond the ops the model "
          "describes: fitted, as mla_item_chain_cycles"),
    field("fa3_loop_barrier_cycles", member<&ModelConstants::fa3_loop_barrier_cycles>, kCycles,
          Rule::kNonNegative,
          "cycles per main-loop iteration an FA3 consumer warp spends beyond its measured op costs: "
          "the K/V full-barrier waits, empty-barrier arrives and ring arithmetic that the on-chip op "
          "benchmarks (no producer) leave out"),
    field("clock_fp8_tensor_power_ratio", member<&ModelConstants::clock_fp8_tensor_power_ratio>, kRelativePower,
          Rule::kPositive,
          "power of an 8-bit (e4m3) wgmma busy cycle relative to the bf16 ones the clock line was measured with: "
          "the clock follows this x the tensor busy share, so a busy fp8 pipe runs below the bf16 line's end"),
    field("clock_tensor_active_drop_mhz", member<&ModelConstants::clock_tensor_active_drop_mhz>, kMegahertz,
          Rule::kNonNegative,
          "how far below the maximum boost clock a kernel that keeps the tensor pipe busy runs even at a "
          "low busy share (ncu: GEMM and attention at 10-40 % tensor share ran at ~1780-1810 MHz, not "
          "the 1980 of memory-bound kernels and the ALU/HBM microbenchmarks)"),
    field("clock_tensor_active_knee_share", member<&ModelConstants::clock_tensor_active_knee_share>, kRatio,
          Rule::kPositive,
          "the tensor busy share at which that drop is complete (below it the drop grows linearly from 0)"),
    field("energy_tensor_pj_per_flop", member<&ModelConstants::energy_tensor_pj_per_flop>, kPicojoulesPerFlop,
          Rule::kNonNegative,
          "energy of one tensor-core FLOP (the energy bound: a kernel's work x these energies over the power "
          "the board limit leaves above idle)"),
    field("energy_smem_pj_per_byte", member<&ModelConstants::energy_smem_pj_per_byte>, kPicojoulesPerByte,
          Rule::kNonNegative, "energy of one byte through the SMEM unit (the model's SMEM work)"),
    field("energy_l2_pj_per_byte", member<&ModelConstants::energy_l2_pj_per_byte>, kPicojoulesPerByte,
          Rule::kNonNegative, "energy of one byte served by L2 (the model's L2 work)"),
    field("energy_hbm_pj_per_byte", member<&ModelConstants::energy_hbm_pj_per_byte>, kPicojoulesPerByte,
          Rule::kNonNegative, "energy of one byte to or from HBM (the model's HBM work)"),
    field("energy_issue_pj_per_op", member<&ModelConstants::energy_issue_pj_per_op>, kPicojoulesPerOp,
          Rule::kNonNegative,
          "energy of one issued thread-instruction (the model's issue work: one warp instruction is 32), its "
          "register reads and writes and the pipe it runs on"),
};

// l2_clean_at_start, l2_operands_warm, origin and info are the four members of ModelConstants that are not
// constants.
static_assert(fields::rows_distinct(kConstantFields),
              "one row per constant, each with its own name");
static_assert(fields::row_count<decltype(kConstantFields)> + 4 ==
                  fields::member_count<ModelConstants>(),
              "every constant member of ModelConstants has a row in kConstantFields");
}  // namespace constants_schema

using constants_schema::kConstantFields;

// `k` for a kernel that starts from a clean L2 (ModelConstants::l2_clean_at_start).
inline ModelConstants with_clean_l2(ModelConstants k) {
  k.l2_clean_at_start = true;
  return k;
}

// The L2 a kernel starts from, by name (predict --l2-start, a published source's
// timing.l2_start): "memset" (a runner's flush: its dirty lines stay), "clean", or "warm"
// (clean, and the operands of an identical launch just before still there). Sets the two
// flags of `k`; false, `k` unchanged, for any other name (the caller says where it came from).
inline bool set_l2_start(ModelConstants& k, const std::string& start) {
  if (start != "memset" && start != "clean" && start != "warm") return false;
  k.l2_clean_at_start = start != "memset";
  k.l2_operands_warm = start == "warm";
  return true;
}

// The built-in constants (embedded from data/model/constants.json).
const ModelConstants& default_constants();
// Parse JSON text; strict: every constant present with the declared unit, no unknown key.
ModelConstants parse_constants(const std::string& json_text, const std::string& origin);
ModelConstants load_constants_file(const std::string& path);
// Names of the constants (for calibration code): "iteration_overhead_cycles", ...
std::vector<std::string> constant_names();
// The constants file (schema, one entry per constant: value, unit, source, note) that
// parse_constants reads back to an equal ModelConstants.
nlohmann::json to_json(const ModelConstants& c);
// Mutable access by name (calibration). Throws ModelError on unknown name.
double& constant_ref(ModelConstants& c, const std::string& name);

}  // namespace tilesim::model
