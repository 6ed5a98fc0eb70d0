// ModelConstants: the few numbers the model needs that no datasheet or microbenchmark
// gives directly (per-iteration overhead, epilogue efficiency, achievable fraction of
// HBM bandwidth...). They are data, not code: data/model/constants.json, embedded at
// build time, every value with a unit and a source. `tilesim validate --calibrate` fits them by least squares
// and writes a new file; `--constants file.json` (CLI) or load_constants() uses it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tilesim::model {

struct ConstantInfo {
  double value = 0.0;
  std::string unit;
  std::string source;  // "assumed" | "measured: ..." | "fitted: ..." | a citation
  std::string note;
};

struct ModelConstants {
  // cycles added to every steady-state main-loop iteration on the critical chain:
  // loop control, mbarrier try_wait/arrive, wgmma fence/commit not hidden by overlap.
  double iteration_overhead_cycles = 0.0;
  // cycles per work item before its main loop (tile scheduler fetch, barrier init,
  // descriptor prefetch) that the model does not express as ops.
  double item_setup_cycles = 0.0;
  // cycles to launch one CTA of a plain (non-persistent) grid onto a freed SM slot.
  double cta_launch_cycles = 0.0;
  // achieved / peak rate of the epilogue's stores (register -> smem -> TMA store).
  double epilogue_efficiency = 0.0;
  // achievable / datasheet HBM bandwidth (streaming reads).
  double hbm_efficiency = 0.0;
  // share of that streaming rate a GEMM's K-major operand tiles reach from HBM: each box
  // row reads block_k x element bytes (128 B) of a row K x element bytes away from the next,
  // so DRAM pages are visited in short runs (cuBLAS shows the same on weight-streaming GEMMs).
  double gemm_operand_hbm_efficiency = 0.0;
  // decode_splitkv with l2_prefetch: the share of the prefetched KV bytes that HBM delivers a
  // second time (the measured kernel is slower with the prefetch; a prefetched line that L2
  // evicts before its load is one candidate, not established).
  double decode_prefetch_refetch_fraction = 0.0;
  // achievable / profile L2 bandwidth.
  double l2_efficiency = 0.0;
  // share of L2 capacity that holds reusable data (H100's L2 is two halves; data may be
  // duplicated in both; streaming traffic evicts).
  double l2_usable_fraction = 0.0;
  // weight of TMA / cp.async SMEM writes on the SMEM unit (0 = separate write path).
  double smem_write_weight = 0.0;
  // fraction of main-loop iterations that still rescale O when rescale_threshold > 0.
  double rescale_fraction_thresholded = 0.0;
  // cycles of extra load latency per KV page touched in one iteration (page-table
  // indirection, per-page address generation).
  double page_lookup_cycles = 0.0;
  // registers per thread beyond accumulators and operand fragments (addresses, loop
  // counters, softmax row state, predicates).
  double register_overhead_per_thread = 0.0;
  // average cycles between two instructions of one attention consumer warp issuing its
  // own dependent stream (softmax, rescale, loop control) while its partner warpgroup
  // shares the SM sub-partition: the per-warp chain is instructions x this.
  double consumer_cycles_per_instruction = 0.0;
  // share of the partner warpgroup's in-flight wgmma block that a warpgroup's S = QK^T
  // waits behind on the shared tensor pipe (0: strict issue order; 1: the whole block).
  double wgmma_inflight_share = 0.0;
  // average cycles between two non-MUFU instructions of one mma.sync attention warp (FA2:
  // the warp issues its GEMMs, softmax and address arithmetic itself).
  double mma_sync_warp_cycles_per_instruction = 0.0;
  // average cycles between two instructions of one mma.sync GEMM warp (independent
  // address arithmetic: more ILP than the attention warps).
  double sm80_gemm_cycles_per_instruction = 0.0;
  // average cycles between two non-MUFU instructions of one decode_splitkv warp (one warp
  // per sub-partition per CTA; its loads, softmax, rescale and mma.sync in one stream).
  double decode_warp_cycles_per_instruction = 0.0;
  // cycles of an FA3 consumer warp's own stream per work item outside the steady loop
  // (peeled first block, last PV, normalisation, O stores).
  double fa3_item_chain_cycles = 0.0;

  std::string origin;                          // file or "built-in:data/model/constants.json"
  std::map<std::string, ConstantInfo> info;    // by name, as in the JSON
};

// The built-in constants (embedded from data/model/constants.json).
const ModelConstants& default_constants();
// Parse JSON text; strict: every constant present with the declared unit, no unknown key.
ModelConstants parse_constants(const std::string& json_text, const std::string& origin);
ModelConstants load_constants_file(const std::string& path);
// Names of the constants (for calibration code): "iteration_overhead_cycles", ...
std::vector<std::string> constant_names();
// Mutable access by name (calibration). Throws ModelError on unknown name.
double& constant_ref(ModelConstants& c, const std::string& name);

}  // namespace tilesim::model
