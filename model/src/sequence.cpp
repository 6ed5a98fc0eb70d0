// The layer-step sequence model (include/tilesim/model/sequence.hpp).
#include "tilesim/model/sequence.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tilesim/model/model.hpp"

namespace tilesim::model {

namespace {

constexpr double kUsPerS = 1e6;

int tile_int(const Tile& t, const char* key, int fallback) { return t.has(key) ? t.geti(key) : fallback; }

// Output tile clusters of a gemm_sm90_ws problem (cluster_m x cluster_n tiles each).
int64_t gemm_cluster_tiles(const Problem& g, const Tile& t) {
  const int bm = t.geti("block_m"), bn = t.geti("block_n");
  const int cm = tile_int(t, "cluster_m", 1), cn = tile_int(t, "cluster_n", 1);
  const int64_t tiles_m = (g.m + bm - 1) / bm, tiles_n = (g.n + bn - 1) / bn;
  return ((tiles_m + cm - 1) / cm) * ((tiles_n + cn - 1) / cn);
}

int gemm_cluster_ctas(const Tile& t) { return tile_int(t, "cluster_m", 1) * tile_int(t, "cluster_n", 1); }

// CTAs of a persistent gemm_sm90_ws grid: one cluster per `cluster` SMs that are not reserved,
// never more clusters than output tile clusters (kernels/gemm/gemm_sm90_ws.cuh, sm90_prepare).
int gemm_grid_ctas(const Problem& g, const Tile& t, int sms) {
  const int cluster = gemm_cluster_ctas(t);
  const int64_t clusters = std::min<int64_t>(sms / cluster, gemm_cluster_tiles(g, t));
  return static_cast<int>(clusters * cluster);
}

// Work units (output tile clusters x split-K slices) the persistent grid of `grid_ctas`
// hands its clusters in turn: the fewest and the most one cluster gets. A cluster with the
// fewest retires that many units' time before the GEMM ends (its SMs free up first).
struct GemmRounds {
  int64_t fewest = 0, most = 0;
};
GemmRounds gemm_rounds(const Problem& g, const Tile& t, int grid_ctas) {
  const int64_t units = gemm_cluster_tiles(g, t) * tile_int(t, "split_k", 1);
  const int64_t clusters = std::max<int64_t>(1, grid_ctas / gemm_cluster_ctas(t));
  return {units / clusters, (units + clusters - 1) / clusters};
}

// The decode when `kept` bytes of its KV are already in L2: each kept byte is read at the
// measured L2-fed rate instead of the achievable HBM rate; never faster than reading all of
// the KV at that rate.
double decode_with_kept_us(const Profile& p, double decode_cold_us, double kv_bytes, double kept_bytes,
                           const ModelConstants& k, const PrefetchConstants& pc) {
  const double hbm_rate = p.chip.hbm_bandwidth.value * k.hbm_efficiency;
  const double l2_rate = pc.decode_l2_read_fraction * p.chip.l2_bandwidth.value;
  const double t = decode_cold_us - kept_bytes * (1.0 / hbm_rate - 1.0 / l2_rate) * kUsPerS;
  return std::max(t, kv_bytes / l2_rate * kUsPerS);
}

std::string fmt(double v, int prec = 1) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << v;
  return s.str();
}

}  // namespace

const char* prefetch_policy_name(PrefetchPolicy p) {
  switch (p) {
    case PrefetchPolicy::kNone: return "none";
    case PrefetchPolicy::kEvictNormal: return "evict_normal";
    case PrefetchPolicy::kEvictLast: return "evict_last";
  }
  return "?";
}

PrefetchPolicy parse_prefetch_policy(const std::string& s) {
  if (s == "none") return PrefetchPolicy::kNone;
  if (s == "evict_normal") return PrefetchPolicy::kEvictNormal;
  if (s == "evict_last") return PrefetchPolicy::kEvictLast;
  throw ModelError("prefetch: '" + s + "' is not one of none, evict_normal, evict_last");
}

const char* prefetch_launch_name(PrefetchLaunch l) {
  switch (l) {
    case PrefetchLaunch::kSide: return "side";
    case PrefetchLaunch::kSerial: return "serial";
    case PrefetchLaunch::kInGemm: return "in_gemm";
  }
  return "?";
}

PrefetchLaunch parse_prefetch_launch(const std::string& s) {
  if (s == "side") return PrefetchLaunch::kSide;
  if (s == "serial") return PrefetchLaunch::kSerial;
  if (s == "in_gemm") return PrefetchLaunch::kInGemm;
  throw ModelError("prefetch_launch: '" + s + "' is not one of side, serial, in_gemm");
}

const PrefetchConstants& default_prefetch_constants() {
  static const PrefetchConstants c{};
  return c;
}

LayerStepPrediction predict_layer_step(const Profile& p, const LayerStepProblem& prob, const LayerStepSetup& s,
                                       const ModelConstants& k, const PrefetchConstants& pc) {
  if (prob.gemm.kind != ProblemKind::kGemm) throw ModelError("layer step: the first kernel's problem must be a gemm");
  if (prob.decode.kind != ProblemKind::kDecode)
    throw ModelError("layer step: the second kernel's problem must be a decode");
  validate(prob.gemm);
  validate(prob.decode);
  const int sms = static_cast<int>(p.sm_count.value);
  if (s.gemm_reserve_sms < 0 || s.gemm_reserve_sms >= sms)
    throw ModelError("layer step: gemm_reserve_sms must be in [0, SMs - 1] (" + std::to_string(sms) + " SMs), got " +
                     std::to_string(s.gemm_reserve_sms));
  if (s.prefetch_ctas < 0) throw ModelError("layer step: prefetch_ctas must be >= 0 (0: one per SM)");
  if (!(s.prefetch_bytes >= 0)) throw ModelError("layer step: prefetch_bytes must be >= 0 (0: the whole KV)");
  if (!(s.prefetch_pace_us >= 0)) throw ModelError("layer step: prefetch_pace_us must be >= 0 (0: not paced)");
  if (!(s.prefetch_delay_us >= 0)) throw ModelError("layer step: prefetch_delay_us must be >= 0");
  if ((s.prefetch_pace_us > 0 || s.prefetch_delay_us > 0) && s.launch != PrefetchLaunch::kInGemm)
    throw ModelError("layer step: prefetch_pace_us / prefetch_delay_us apply to launch in_gemm only");
  if (!(pc.persisting_l2_fraction >= 0 && pc.persisting_l2_fraction <= 1 && pc.persisting_kept_fraction >= 0 &&
        pc.persisting_kept_fraction <= 1 && pc.prefetch_bytes_per_s_per_sm > 0 && pc.prefetch_issue_hbm_ratio > 0 &&
        pc.prefetch_start_us >= 0 && pc.decode_after_gemm_us >= 0 && pc.decode_l2_read_fraction > 0 &&
        pc.blocked_prefetch_delay_us >= 0 && pc.blocked_prefetch_bytes_per_s_per_cta > 0))
    throw ModelError("layer step: prefetch constants out of range (fractions in [0, 1], rates > 0, times >= 0)");

  LayerStepPrediction r;
  const Problem& d = prob.decode;
  r.kv_bytes = static_cast<double>(d.batch * d.heads_kv * d.seq_kv * (d.head_dim + d.head_dim_v)) * dtype_bytes(d.dtype);
  // What the prefetch requests: the whole KV, or the first prefetch_bytes of it.
  r.prefetch_bytes = s.prefetch_bytes > 0 ? std::min(s.prefetch_bytes, r.kv_bytes) : r.kv_bytes;

  // The kernels alone, each from a clean L2 as tilesim-layer-bench times them (it flushes by
  // reading); what the GEMM leaves dirty for the decode is in decode_after_gemm_us.
  const ModelConstants kc = with_clean_l2(k);
  Profile pg = p;
  pg.sm_count.value = sms - s.gemm_reserve_sms;
  const Prediction gemm = predict(pg, prob.gemm, s.gemm_schedule, s.gemm_tile, kc);
  r.gemm_us = gemm.time_us;
  r.gemm_ctas = gemm_grid_ctas(prob.gemm, s.gemm_tile, sms - s.gemm_reserve_sms);
  r.free_sms = sms - r.gemm_ctas;
  r.decode_cold_us = predict(p, d, s.decode_schedule, s.decode_tile, kc).time_us;
  r.step_us = r.gemm_us + r.decode_cold_us + pc.decode_after_gemm_us;

  const double hbm_rate = p.chip.hbm_bandwidth.value * k.hbm_efficiency;  // B/s, achievable
  const double gemm_hbm_rate = gemm.bytes_hbm / (r.gemm_us / kUsPerS);
  r.idle_hbm_bytes_per_s = std::max(0.0, hbm_rate - gemm_hbm_rate);
  const int ctas = s.prefetch_ctas > 0 ? s.prefetch_ctas : sms;
  const double issue_ceiling = pc.prefetch_issue_hbm_ratio * p.chip.hbm_bandwidth.value;
  r.prefetch_alone_us =
      pc.prefetch_start_us + r.prefetch_bytes / std::min(std::min(ctas, sms) * pc.prefetch_bytes_per_s_per_sm, issue_ceiling) * kUsPerS;

  // What the policy can keep: evict_last within the persisting set-aside (a measured share
  // of it); evict_normal only what the GEMM's own streamed bytes leave of the usable L2.
  const double l2 = p.capacity.l2.value;
  const double persisting = pc.persisting_l2_fraction * l2;
  const double kept_last = std::min(pc.persisting_kept_fraction * r.prefetch_bytes, persisting);
  r.decode_l2_us = decode_with_kept_us(p, r.decode_cold_us, r.kv_bytes, kept_last, k, pc);

  if (s.policy == PrefetchPolicy::kNone) {
    r.cap = "none";
    r.step_prefetch_us = r.step_us;
    r.gemm_prefetch_us = r.gemm_us;
    r.decode_in_step_us = r.decode_cold_us + pc.decode_after_gemm_us;
    r.why = "no prefetch: GEMM " + fmt(r.gemm_us) + " us then decode " + fmt(r.decode_cold_us) + " us";
    return r;
  }
  const bool last = s.policy == PrefetchPolicy::kEvictLast;

  // Who issues, how fast, when it ends.
  if (s.launch == PrefetchLaunch::kSerial) {
    // On the GEMM's stream, before it: alone on the chip; its lines arrive during the GEMM.
    r.prefetch_rate_bytes_per_s = std::min(std::min(ctas, sms) * pc.prefetch_bytes_per_s_per_sm, issue_ceiling);
    r.prefetch_end_us = r.prefetch_alone_us;
    r.l2_room_bytes = last ? persisting : std::max(0.0, k.l2_usable_fraction * l2 - gemm.bytes_hbm);
    r.gemm_prefetch_us = r.prefetch_end_us + r.gemm_us;
  } else if (s.launch == PrefetchLaunch::kInGemm) {
    // Issued by one warp of every GEMM CTA: no SM slot needed, so never blocked. The requests
    // drain at the chip's issue ceiling (the GEMM's CTAs far exceed the per-SM rate), and the
    // GEMM ends later by the same time: measured +3.6 / 6.0 / 11.0 / 13.9 / 32.4 us for KV
    // 17-134 MB on the training GEMM, i.e. KV / 4.3 TB/s, the issue ceiling's 4.56 TB/s
    // within 6% (same fact, no new constant). Pacing over a window (after a delay) moves the
    // end; it reduced the slowdown by up to half for KV <= 50 MB (not modelled).
    const double issue_us = r.prefetch_bytes / issue_ceiling * kUsPerS;
    r.prefetch_rate_bytes_per_s = r.prefetch_bytes / (std::max(s.prefetch_pace_us, issue_us) / kUsPerS);
    r.prefetch_end_us = pc.prefetch_start_us + s.prefetch_delay_us + std::max(s.prefetch_pace_us, issue_us);
    r.gemm_prefetch_us = std::max(r.gemm_us + issue_us, r.prefetch_end_us);
    if (last && pc.in_gemm_hint_honoured) {
      r.l2_room_bytes = persisting;
    } else {
      // Kept as normal lines: the usable L2 less what the GEMM streams after they land.
      const double after_share =
          std::clamp((r.gemm_prefetch_us - r.prefetch_end_us) / r.gemm_prefetch_us, 0.0, 1.0);
      r.l2_room_bytes = std::max(0.0, k.l2_usable_fraction * l2 - gemm.bytes_hbm * after_share);
    }
  } else if (r.free_sms == 0) {
    // Beside a GEMM that fills every SM: a prefetch warp needs registers no GEMM CTA leaves,
    // so its CTAs become resident only as GEMM CTAs retire.
    r.prefetch_blocked = true;
    const GemmRounds rounds = gemm_rounds(prob.gemm, s.gemm_tile, r.gemm_ctas);
    if (rounds.fewest > 0 && rounds.fewest < rounds.most) {
      // The clusters with the fewest units retire first, and the prefetch CTAs that land
      // there run slowly from then on (PrefetchConstants::blocked_*): a fixed delay plus
      // the KV at the HBM rate, or each CTA's share at its blocked rate if that is longer.
      r.prefetch_resident_us = r.gemm_us * static_cast<double>(rounds.fewest) / static_cast<double>(rounds.most);
      const double delay_bound_us = pc.blocked_prefetch_delay_us + r.prefetch_bytes / hbm_rate * kUsPerS;
      const double cta_bound_us =
          r.prefetch_bytes / std::min(ctas, sms) / pc.blocked_prefetch_bytes_per_s_per_cta * kUsPerS;
      const double blocked_us = std::max(delay_bound_us, cta_bound_us);
      r.prefetch_rate_bytes_per_s = r.prefetch_bytes / (blocked_us / kUsPerS);
      r.prefetch_end_us = std::max(r.gemm_us, r.prefetch_resident_us + blocked_us);
    } else {
      // Every cluster has as many units: no SM frees up before the GEMM ends, and the
      // prefetch then runs alone (the early-resident slowdown above was measured only).
      r.prefetch_resident_us = r.gemm_us;
      r.prefetch_rate_bytes_per_s = std::min(std::min(ctas, sms) * pc.prefetch_bytes_per_s_per_sm, issue_ceiling);
      r.prefetch_end_us = r.gemm_us + r.prefetch_alone_us;
    }
    r.l2_room_bytes = last ? persisting : k.l2_usable_fraction * l2;
    r.gemm_prefetch_us = r.prefetch_end_us;
  } else {
    // Beside the GEMM on the SMs it leaves free, within the HBM bandwidth it leaves idle.
    const int issuers = std::min(ctas, r.free_sms);
    r.prefetch_rate_bytes_per_s =
        std::min({issuers * pc.prefetch_bytes_per_s_per_sm, issue_ceiling, r.idle_hbm_bytes_per_s});
    if (!(r.prefetch_rate_bytes_per_s > 0)) {
      r.prefetch_blocked = true;  // a memory-bound GEMM leaves no HBM bandwidth idle
      r.prefetch_resident_us = r.gemm_us;
      r.prefetch_rate_bytes_per_s = std::min(issuers * pc.prefetch_bytes_per_s_per_sm, issue_ceiling);
      r.prefetch_end_us = r.gemm_us + r.prefetch_alone_us;
    } else {
      r.prefetch_end_us = pc.prefetch_start_us + r.prefetch_bytes / r.prefetch_rate_bytes_per_s * kUsPerS;
    }
    // evict_normal lines meet the GEMM's whole stream after them.
    r.l2_room_bytes = last ? persisting : std::max(0.0, k.l2_usable_fraction * l2 - gemm.bytes_hbm);
    r.gemm_prefetch_us = std::max(r.gemm_us, r.prefetch_end_us);
  }
  const bool kept_as_last = last && (s.launch != PrefetchLaunch::kInGemm || pc.in_gemm_hint_honoured);
  r.kept_bytes = kept_as_last ? std::min(kept_last, r.l2_room_bytes) : std::min(r.prefetch_bytes, r.l2_room_bytes);
  r.hit_fraction = r.kept_bytes / r.kv_bytes;

  // The step: the decode starts when the GEMM and the prefetch have both ended.
  const double decode_us = decode_with_kept_us(p, r.decode_cold_us, r.kv_bytes, r.kept_bytes, k, pc);
  r.decode_in_step_us = decode_us + (1.0 - r.hit_fraction) * pc.decode_after_gemm_us;
  r.step_prefetch_us = r.gemm_prefetch_us + r.decode_in_step_us;
  r.gain_pct = (r.step_us - r.step_prefetch_us) / r.step_us * 100.0;

  const bool late = s.launch != PrefetchLaunch::kSerial && r.prefetch_end_us > r.gemm_us;
  if (r.prefetch_blocked)
    r.cap = "blocked";
  else if (late)
    r.cap = "bandwidth";
  else if (r.kept_bytes < (kept_as_last ? pc.persisting_kept_fraction : 1.0) * r.prefetch_bytes)
    r.cap = "l2";
  else
    r.cap = "kv";
  std::ostringstream why;
  why << "prefetch " << prefetch_policy_name(s.policy) << " (" << prefetch_launch_name(s.launch) << "): "
      << fmt(r.kv_bytes / 1e6) << " MB KV, " << fmt(r.kept_bytes / 1e6) << " MB kept in L2 ("
      << fmt(100 * r.hit_fraction, 0) << "%); ";
  if (r.prefetch_blocked && r.prefetch_resident_us < r.gemm_us)
    why << "the GEMM leaves no SM to the prefetch: its CTAs land as the first GEMM CTAs retire, at "
        << fmt(r.prefetch_resident_us) << " us, and run at the blocked rate (" << fmt(r.prefetch_rate_bytes_per_s / 1e9, 0)
        << " GB/s) until " << fmt(r.prefetch_end_us) << " us vs GEMM " << fmt(r.gemm_us) << " us; ";
  else if (r.prefetch_blocked)
    why << "the GEMM leaves no SM (or no HBM bandwidth) to the prefetch: it runs after the GEMM; ";
  else if (s.launch == PrefetchLaunch::kInGemm)
    why << r.gemm_ctas << " GEMM CTAs issue at " << fmt(r.prefetch_rate_bytes_per_s / 1e12, 2) << " TB/s"
        << (kept_as_last ? "" : ", kept as normal lines")
        << (s.prefetch_pace_us > 0 ? " (paced over " + fmt(s.prefetch_pace_us) + " us)" : std::string()) << ", done at "
        << fmt(r.prefetch_end_us) << " us vs GEMM " << fmt(r.gemm_us) << " us; ";
  else if (s.launch == PrefetchLaunch::kSide)
    why << std::min(ctas, r.free_sms) << " free SMs issue at " << fmt(r.prefetch_rate_bytes_per_s / 1e12, 2)
        << " TB/s, done at " << fmt(r.prefetch_end_us) << " us vs GEMM " << fmt(r.gemm_us) << " us; ";
  why << "decode " << fmt(r.decode_cold_us + pc.decode_after_gemm_us) << " -> " << fmt(r.decode_in_step_us)
      << " us; step " << fmt(r.step_us) << " -> " << fmt(r.step_prefetch_us) << " us (" << (r.gain_pct >= 0 ? "+" : "")
      << fmt(r.gain_pct) << "%)";
  r.why = why.str();
  return r;
}

double LayerStepPrediction::time_of(const std::string& timed) const {
  if (timed == "gemm") return gemm_us;
  if (timed == "gemm_pf") return gemm_prefetch_us;
  if (timed == "decode_cold") return decode_cold_us;
  if (timed == "decode_l2") return decode_l2_us;
  if (timed == "prefetch_only") return prefetch_alone_us;
  if (timed == "step") return step_us;
  if (timed == "step_pf_normal" || timed == "step_pf_last") return step_prefetch_us;
  throw ModelError("layer step: unknown timed part '" + timed +
                   "' (gemm, gemm_pf, decode_cold, decode_l2, prefetch_only, step, step_pf_normal, step_pf_last)");
}

namespace {
const nlohmann::json& field(const nlohmann::json& j, const char* key, const char* what) {
  if (!j.is_object() || !j.contains(key)) throw ModelError(std::string(what) + ": missing field '" + key + "'");
  return j.at(key);
}
}  // namespace

LayerStepProblem layer_step_problem_from_json(const nlohmann::json& j) {
  if (!j.is_object() || field(j, "kind", "layer_step problem") != "layer_step")
    throw ModelError("layer_step problem: 'kind' must be \"layer_step\"");
  LayerStepProblem p;
  nlohmann::json g = {{"kind", "gemm"}, {"m", field(j, "m", "layer_step problem")},
                      {"n", field(j, "n", "layer_step problem")}, {"k", field(j, "k", "layer_step problem")}};
  nlohmann::json d = {{"kind", "decode"}};
  for (const char* key : {"batch", "heads_q", "heads_kv", "seq_kv", "head_dim"}) d[key] = field(j, key, "layer_step problem");
  for (const char* key : {"q_per_seq", "page_size"})
    if (j.contains(key)) d[key] = j.at(key);
  if (j.contains("dtype")) g["dtype"] = d["dtype"] = j.at("dtype");
  for (const auto& item : j.items()) {
    static const char* kKnown[] = {"kind", "m", "n", "k", "batch", "heads_q", "heads_kv", "q_per_seq",
                                   "seq_kv", "head_dim", "page_size", "dtype"};
    const std::string key = item.key();
    if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* x) { return key == x; }) == std::end(kKnown))
      throw ModelError("layer_step problem: unknown field '" + key + "'");
  }
  p.gemm = problem_from_json(g);
  p.decode = problem_from_json(d);
  return p;
}

LayerStepSetup layer_step_setup_from_json(const nlohmann::json& t) {
  if (!t.is_object()) throw ModelError("layer_step tile: expected a JSON object");
  // The keys tilesim-layer-bench records; the runner-only ones (timed part, priority,
  // threads, chunk size) are accepted and do not change the prediction.
  static const char* kKnown[] = {"timed", "prefetch", "prefetch_ctas", "prefetch_threads", "prefetch_chunk_bytes",
                                 "prefetch_launch", "prefetch_stream_priority", "prefetch_bytes", "prefetch_pace_ns", "prefetch_delay_ns",
                                 "gemm_reserve_sms", "gemm", "decode"};
  for (const auto& item : t.items()) {
    const std::string key = item.key();
    if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* x) { return key == x; }) == std::end(kKnown))
      throw ModelError("layer_step tile: unknown field '" + key + "'");
  }
  LayerStepSetup s;
  s.gemm_tile = tile_from_json(field(t, "gemm", "layer_step tile"));
  s.decode_tile = tile_from_json(field(t, "decode", "layer_step tile"));
  const nlohmann::json& pf = field(t, "prefetch", "layer_step tile");
  if (!pf.is_string()) throw ModelError("layer_step tile: 'prefetch' must be a string");
  s.policy = parse_prefetch_policy(pf.get<std::string>());
  if (t.contains("prefetch_launch")) s.launch = parse_prefetch_launch(t.at("prefetch_launch").get<std::string>());
  auto count = [&](const char* key) {
    if (!t.contains(key)) return 0;
    const nlohmann::json& v = t.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1 << 20)
      throw ModelError(std::string("layer_step tile: '") + key + "' must be an integer >= 0");
    return static_cast<int>(v.get<int64_t>());
  };
  s.prefetch_ctas = count("prefetch_ctas");
  if (t.contains("prefetch_bytes")) {
    const nlohmann::json& v = t.at("prefetch_bytes");
    if (!v.is_number() || !(v.get<double>() >= 0)) throw ModelError("layer_step tile: 'prefetch_bytes' must be a number >= 0");
    s.prefetch_bytes = v.get<double>();
  }
  s.gemm_reserve_sms = count("gemm_reserve_sms");
  if (t.contains("prefetch_pace_ns")) {
    const nlohmann::json& v = t.at("prefetch_pace_ns");
    if (!v.is_number() || !(v.get<double>() >= 0)) throw ModelError("layer_step tile: 'prefetch_pace_ns' must be a number >= 0");
    s.prefetch_pace_us = v.get<double>() / 1e3;
  }
  if (t.contains("prefetch_delay_ns")) {
    const nlohmann::json& v = t.at("prefetch_delay_ns");
    if (!v.is_number() || !(v.get<double>() >= 0)) throw ModelError("layer_step tile: 'prefetch_delay_ns' must be a number >= 0");
    s.prefetch_delay_us = v.get<double>() / 1e3;
  }
  if ((s.prefetch_pace_us > 0 || s.prefetch_delay_us > 0) && s.launch != PrefetchLaunch::kInGemm)
    throw ModelError("layer_step tile: 'prefetch_pace_ns' / 'prefetch_delay_ns' > 0 need prefetch_launch \"in_gemm\"");
  return s;
}

nlohmann::json to_json(const LayerStepPrediction& r) {
  return {{"kv_bytes", r.kv_bytes},
          {"prefetch_bytes", r.prefetch_bytes},
          {"gemm_us", r.gemm_us},
          {"decode_cold_us", r.decode_cold_us},
          {"decode_l2_us", r.decode_l2_us},
          {"prefetch_alone_us", r.prefetch_alone_us},
          {"gemm_ctas", r.gemm_ctas},
          {"free_sms", r.free_sms},
          {"prefetch_blocked", r.prefetch_blocked},
          {"prefetch_resident_us", r.prefetch_resident_us},
          {"prefetch_rate_bytes_per_s", r.prefetch_rate_bytes_per_s},
          {"idle_hbm_bytes_per_s", r.idle_hbm_bytes_per_s},
          {"l2_room_bytes", r.l2_room_bytes},
          {"kept_bytes", r.kept_bytes},
          {"hit_fraction", r.hit_fraction},
          {"prefetch_end_us", r.prefetch_end_us},
          {"gemm_prefetch_us", r.gemm_prefetch_us},
          {"decode_in_step_us", r.decode_in_step_us},
          {"cap", r.cap},
          {"step_us", r.step_us},
          {"step_prefetch_us", r.step_prefetch_us},
          {"gain_pct", r.gain_pct},
          {"why", r.why}};
}

}  // namespace tilesim::model
