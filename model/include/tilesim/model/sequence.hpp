// A sequence of kernels: one decode layer step = a compute-bound GEMM (the layer's
// projection) followed by split-KV decode attention, with the decode's KV cache optionally
// prefetched into L2 while the GEMM runs (kernels/layer_step, tilesim-layer-bench).
//
// The two kernels are predicted by their own schedules (gemm_sm90_ws, decode_splitkv); this
// file adds what happens between them:
//  * who issues the prefetch: a small kernel whose CTAs need SM slots. A persistent GEMM
//    that fills every SM shuts it out until its first CTAs retire, and it then runs at a
//    measured, much lower rate ("blocked"); SMs the GEMM leaves
//    free (fewer tiles than SMs, or SMs reserved for it) issue at a per-SM rate. Or the GEMM
//    itself (launch "in_gemm": an idle producer warp of every GEMM CTA issues 1/grid of it,
//    optionally paced over a window), which needs no free SM.
//  * how fast: min(issuing SMs x per-SM rate, the issue ceiling, the HBM bandwidth the GEMM
//    leaves idle).
//  * how much stays: evict_last lines live in the persisting set-aside of L2 (a fixed share
//    of L2), of which a measured share is kept; evict_normal lines survive only if the GEMM's
//    own traffic after them fits in the usable L2.
//  * what it buys: the decode reads the kept bytes at a measured L2-fed rate instead of the
//    HBM rate, and pays the after-GEMM penalty only on the share it still reads from HBM.
// Every constant is in PrefetchConstants below, with where it was measured.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"
#include "tilesim/model/tile.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::model {

using tilesim::profiles::Profile;

enum class PrefetchPolicy : int { kNone = 0, kEvictNormal, kEvictLast };
enum class PrefetchLaunch : int { kSide = 0, kSerial, kInGemm };
const char* prefetch_policy_name(PrefetchPolicy p);  // "none" | "evict_normal" | "evict_last"
PrefetchPolicy parse_prefetch_policy(const std::string& s);  // throws ModelError naming "prefetch"
const char* prefetch_launch_name(PrefetchLaunch l);          // "side" | "serial" | "in_gemm"
PrefetchLaunch parse_prefetch_launch(const std::string& s);  // throws ModelError naming "prefetch_launch"

// The measured facts of the KV prefetch (H100, tilesim-layer-bench, 2026-11-27, training
// configurations m=1024 n=k=4096; data/measurements/layer_step/). Hopper SMs and L2 are
// the same design on H100, H200 and H20, so the same values serve all three (an assumption
// for H200 and H20, which were not measured).
struct PrefetchConstants {
  // persisting set-aside of L2 / L2 size: cudaDeviceProp.persistingL2CacheMaxSize on H100
  // = 32,768,000 B of 52,428,800 B (recorded in every layer_step measurement file).
  double persisting_l2_fraction = 0.625;
  // share of the prefetched KV still in L2 when the decode reads it, below the set-aside
  // cap: ncu on the training configuration KV 33.6 MB: the decode read 6.0 MB of 33.85 MB
  // from DRAM (0.82 from L2). Some L2 sets fill before the set-aside as a whole does.
  double persisting_kept_fraction = 0.82;
  // bytes per second one SM's copy engine issues cp.async.bulk.prefetch requests at: the
  // training configuration KV 134 MB, prefetched by the 4 SMs its GEMM leaves free, ended
  // 152.3 us after the start (prefetch_start_us subtracted): 229 GB/s per SM.
  double prefetch_bytes_per_s_per_sm = 229e9;
  // issue ceiling of the whole chip as a multiple of the datasheet HBM bandwidth (requests
  // queue in L2 faster than HBM serves them): the prefetch kernel alone on every SM, KV 17-134
  // MB, least squares: 0.219 us/MB = 4.56 TB/s = 1.36 x 3.35 TB/s.
  double prefetch_issue_hbm_ratio = 1.36;
  // time from the prefetch kernel's launch to its first request (launch, event, first
  // issue): the intercept of the same fit, 6.05 us.
  double prefetch_start_us = 6.05;
  // extra time of a cold decode that follows the GEMM over one that follows an L2 flush
  // (dirty GEMM output written back while the decode streams HBM, and its launch waiting
  // on the GEMM): mean over the five training configurations, 9.3 us. Charged on the
  // share the decode reads from HBM (a decode reading L2 measured within 0.7 us of alone).
  double decode_after_gemm_us = 9.3;
  // decode_splitkv reads KV that is in L2 at this share of the profile's L2 bandwidth: least
  // squares over the five training configurations of (decode alone, cold) - (decode alone
  // right after an evict_last prefetch) = kept bytes x (1 / HBM rate - 1 / L2-fed rate):
  // 6.0 TB/s (H100) = 0.763 x the H100 profile's measured 7.86 TB/s (fitted as 0.60 x the
  // 10 TB/s the profile had before). The kept KV spans both L2 partitions (half of it far).
  double decode_l2_read_fraction = 0.763;
  // A side prefetch beside a GEMM that fills every SM (launch side, no free SM): its CTAs
  // become resident when the first GEMM clusters retire (those handed one work unit fewer)
  // and from then on run far slower than alone, for a reason not established (measured with
  // every prefetch CTA's start and end stamped, --timeline; candidates: the L2 set-aside
  // after the GEMM's stream, the evict_last policy, the copy engines' queues). Timed medians
  // on the training GEMMs that fill the grid (H100, 2026-11-28,
  // data/measurements/layer_step/2026-11-28_h100_full_grid_{a,b}_ctas{8,132}.json: 2048x4096,
  // 1024x8192, 3072x4096, 4096x8192, k 4096; KV 33.6 / 67.1 MB), from the first retirement
  // to the end, fit two bounds:
  //  * blocked_prefetch_delay_us + KV at the achievable HBM rate: 132 CTAs (a few KB each),
  //    mean of the 8 runs 135.1 us (128.0..137.7), KV 33.6 and 67.1 MB alike;
  //  * each CTA's share at blocked_prefetch_bytes_per_s_per_cta: 8 CTAs, 8.4 MB each, 274.5-279.3
  //    us, least squares 30.3 GB/s (the timelines: 230-240 GB/s for 8 CTAs).
  // The longer one holds. The H200's blocked runs (held out) sit within 3 % of the same law.
  double blocked_prefetch_delay_us = 135.1;
  double blocked_prefetch_bytes_per_s_per_cta = 30.26e9;
  // Prefetch issued inside the GEMM (launch in_gemm, kernels/gemm/gemm_sm90_ws.cuh): its lines
  // are kept as evict_normal ones whatever the hint. Measured on the training configuration
  // KV 33.6 MB (..._ingemm_diag_{default,normal}.json): evict_last and evict_normal gave the
  // same decode (26.9 vs 27.0 us, cold 26.8), and ncu found 0.5% read hits after it, where
  // the side kernel's evict_last prefetch, issued before the same GEMM (serial), kept 27 MB.
  // Cause not established. true would keep them in the persisting set-aside as the side
  // kernel's are.
  bool in_gemm_hint_honoured = false;
};
const PrefetchConstants& default_prefetch_constants();

struct LayerStepProblem {
  Problem gemm;    // kind gemm: the projection (C[m,n] = A[m,k] B[n,k]^T)
  Problem decode;  // kind decode: the attention that follows
};

struct LayerStepSetup {
  std::string gemm_schedule = "gemm_sm90_ws";
  Tile gemm_tile;
  std::string decode_schedule = "decode_splitkv";
  Tile decode_tile;
  PrefetchPolicy policy = PrefetchPolicy::kNone;
  PrefetchLaunch launch = PrefetchLaunch::kSide;
  int prefetch_ctas = 0;     // 0: one per SM
  int gemm_reserve_sms = 0;  // SMs the persistent GEMM grid leaves free
  // Bytes the prefetch requests (0: the whole KV). Below the KV, only what L2 can keep is
  // fetched, so the prefetch ends sooner. tilesim-layer-bench always requests the whole KV:
  // this is a model-only what-if until the runner implements it.
  double prefetch_bytes = 0;
  // in_gemm only: each GEMM CTA spreads its requests evenly over this window from its start
  // (0: all at once). The runner's paced variant uses half the GEMM's measured time.
  double prefetch_pace_us = 0;
  double prefetch_delay_us = 0;  // in_gemm only: the window starts this long after the GEMM's start
};

struct LayerStepPrediction {
  double kv_bytes = 0;
  double prefetch_bytes = 0;  // what the prefetch requests (the KV unless capped)
  // the kernels alone (cold L2)
  double gemm_us = 0;         // on the SMs left after gemm_reserve_sms
  double decode_cold_us = 0;
  double decode_l2_us = 0;    // right after a prefetch with nothing in between (decode_l2)
  double prefetch_alone_us = 0;  // the prefetch kernel alone (prefetch_only)
  // the prefetch beside the GEMM
  int gemm_ctas = 0;
  int free_sms = 0;              // SMs without a GEMM CTA
  bool prefetch_blocked = false; // side launch, no free SM: waits for GEMM CTAs to retire
  double prefetch_resident_us = 0;  // blocked: when its CTAs become resident (from the step's start)
  double prefetch_rate_bytes_per_s = 0;
  double idle_hbm_bytes_per_s = 0;  // HBM bandwidth the GEMM leaves idle
  double l2_room_bytes = 0;         // what the policy can keep in L2
  double kept_bytes = 0;            // KV in L2 when the decode starts
  double hit_fraction = 0;          // kept / KV
  double prefetch_end_us = 0;       // from the step's start
  double gemm_prefetch_us = 0;      // GEMM with the prefetch beside it, until both end (gemm_pf)
  double decode_in_step_us = 0;     // the decode part of the prefetch step
  std::string cap;                  // what limits the gain: kv | l2 | bandwidth | blocked | none
  // the step
  double step_us = 0;           // GEMM then decode, no prefetch
  double step_prefetch_us = 0;  // with the prefetch as set up
  double gain_pct = 0;          // (step - step_prefetch) / step x 100
  std::string why;
  // The time of one measured part, by the runner's "timed" name: gemm, gemm_pf,
  // decode_cold, decode_l2, prefetch_only, step, step_pf_normal, step_pf_last. Throws
  // ModelError for another name.
  double time_of(const std::string& timed) const;
};

// Throws ModelError (bad input: wrong problem kinds, policy none with a prefetch part,
// negative counts) or Infeasible (a tile the chip cannot run).
LayerStepPrediction predict_layer_step(const Profile& p, const LayerStepProblem& prob, const LayerStepSetup& setup,
                                       const ModelConstants& k = default_constants(),
                                       const PrefetchConstants& pc = default_prefetch_constants());

// A measurement run of family layer_step: problem {"kind": "layer_step", m, n, k, batch,
// heads_q, heads_kv, q_per_seq, seq_kv, head_dim, page_size, dtype}; tile {"timed",
// "prefetch", "prefetch_ctas", "prefetch_launch", "gemm_reserve_sms", "prefetch_bytes", "prefetch_pace_ns", "prefetch_delay_ns",
// "gemm": {...}, "decode": {...}}. Throws ModelError naming a missing or wrong field.
LayerStepProblem layer_step_problem_from_json(const nlohmann::json& problem);
LayerStepSetup layer_step_setup_from_json(const nlohmann::json& tile);

nlohmann::json to_json(const LayerStepPrediction& pr);

}  // namespace tilesim::model
