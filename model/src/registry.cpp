// The schedules: names, tile parameters (with the values tune tries), chip support, and
// dispatch to the builders.
#include <algorithm>

#include "schedules/common.hpp"

namespace tilesim::model {

namespace {
ParamSpec req(const char* name, const char* desc, std::vector<double> tune_values) {
  return ParamSpec{name, desc, false, 0.0, std::move(tune_values)};
}
ParamSpec opt(const char* name, const char* desc, double dflt, std::vector<double> tune_values) {
  return ParamSpec{name, desc, true, dflt, std::move(tune_values)};
}

std::vector<ScheduleInfo> make_schedules() {
  std::vector<ScheduleInfo> s;
  s.push_back({"gemm_sm90_ws",
               "Hopper TMA producer + wgmma consumer warpgroups, K-stage ring, persistent, clusters with multicast",
               ProblemKind::kGemm,
               {req("block_m", "CTA tile rows (64 x consumers multiple)", {64, 128, 192, 256}),
                req("block_n", "CTA tile columns (wgmma N, multiple of 8, <= 256)", {64, 128, 192, 256}),
                req("block_k", "K per stage", {64, 128}),
                req("stages", "SMEM ring slots (A+B tiles)", {3, 4, 5, 6, 7}),
                req("consumers", "consumer warpgroups (1..3), each block_m/consumers rows", {1, 2, 3}),
                req("cluster_m", "CTAs per cluster along M (B multicast)", {1, 2}),
                req("cluster_n", "CTAs per cluster along N (A multicast)", {1, 2}),
                opt("raster", "swizzle group (tile-rows) of the tile scheduler; 1 = row-major", 1, {1, 8}),
                opt("split_k", "K split across CTAs into fp32 partials, summed by a reduce pass; 1 = none", 1, {1, 4})}});
  s.push_back({"gemm_sm80_mma", "Ampere-style mma.sync m16n8k16 + cp.async multistage GEMM (contrast case)",
               ProblemKind::kGemm,
               {req("block_m", "CTA tile rows", {64, 128, 256}), req("block_n", "CTA tile columns", {64, 128, 256}),
                req("block_k", "K per stage", {32, 64}), req("stages", "cp.async pipeline stages", {2, 3, 4, 5}),
                req("warps_m", "warps along M", {1, 2, 4}), req("warps_n", "warps along N", {1, 2, 4})}});
  s.push_back({"gemm_sm100", "Blackwell tcgen05 MMA into TMEM (1-CTA or 2-CTA pair), TMA, epilogue warps, persistent",
               ProblemKind::kGemm,
               {req("block_m", "rows per CTA (MMA M = block_m, or 2*block_m for a 2-CTA pair)", {64, 128}),
                req("block_n", "CTA tile columns (multiple of 16, <= 256)", {64, 128, 192, 256}),
                req("block_k", "K per stage", {64, 128}),
                req("stages", "SMEM ring slots", {3, 4, 5, 6, 8}),
                req("cluster_m", "2 = 2-CTA MMA pair along M (cta_group::2)", {1, 2}),
                req("cluster_n", "CTAs per cluster along N (A multicast)", {1, 2}),
                opt("raster", "swizzle group of the tile scheduler; 1 = row-major", 1, {1, 8}),
                opt("acc_stages", "TMEM accumulator buffers (2 = epilogue overlaps the next tile)", 2, {1, 2})}});
  s.push_back({"attn_fa2", "FlashAttention-2: mma.sync, no warp specialization, softmax between the GEMMs",
               ProblemKind::kAttention,
               {req("block_m", "query rows per CTA", {64, 128}), req("block_n", "KV rows per iteration", {32, 64, 128}),
                req("warps", "warps per CTA (block_m/warps rows each)", {4, 8}),
                req("stages", "K/V buffers (1 = no prefetch, 2 = double buffer)", {1, 2})}});
  s.push_back({"attn_fa3",
               "FlashAttention-3: TMA producer, wgmma consumer warpgroups, ping-pong, intra-warpgroup overlap",
               ProblemKind::kAttention,
               {req("block_m", "query rows per CTA (64 per consumer warpgroup or more)", {64, 128, 192}),
                req("block_n", "KV rows per iteration (wgmma N)", {64, 96, 128, 176, 192}),
                req("stages", "K and V ring slots each", {2}),
                req("consumers", "consumer warpgroups", {1, 2, 3}),
                req("pingpong", "0/1: warpgroups alternate GEMMs and softmax", {0, 1}),
                req("intra_overlap", "0/1: softmax overlaps the next QK^T within a warpgroup", {0, 1}),
                opt("exp_emu_fraction", "share of exp2 done by a polynomial on the FMA pipe", 0, {0, 0.5}),
                opt("rescale_threshold", "0 = always rescale O; t > 0 = only when the max grows by > t (log2)", 0,
                    {0}),
                opt("persistent", "0 = one CTA per Q block (hardware dispatch); 1 = one CTA per SM slot looping "
                    "over Q blocks", 0, {0})}});
  s.push_back({"attn_fa4",
               "FlashAttention-4: tcgen05 into TMEM, softmax + correction warpgroups, exp2 emulation, conditional "
               "rescale, 1- or 2-CTA",
               ProblemKind::kAttention,
               {req("block_m", "query rows per Q tile (tcgen05 M)", {128}),
                req("block_n", "KV rows per iteration", {64, 128, 192, 256}),
                req("stages", "K/V ring slots (shared by K and V tiles)", {2, 3, 4}),
                opt("q_tiles", "Q tiles per CTA, each with its own softmax warpgroup (ping-pong)", 2, {1, 2}),
                opt("exp_emu_fraction", "share of exp2 done by a polynomial on the FMA pipe", 0, {0, 0.25, 0.5}),
                opt("rescale_threshold", "0 = always rescale; t > 0 = only when the max grows by > t (log2)", 0, {0, 8}),
                opt("cluster_m", "2 = 2-CTA MMA pair (K/V halves per CTA)", 1, {1, 2})}});
  s.push_back({"decode_splitkv", "flash-decoding: KV split across CTAs, combine pass, optional L2 prefetch, paged KV",
               ProblemKind::kDecode,
               {req("block_n", "KV rows per iteration", {32, 64, 128, 256}),
                req("splits", "KV splits per (batch, kv head)", {1, 2, 4, 8, 16, 32, 64}),
                req("stages", "K/V buffers in flight", {2, 3, 4}),
                opt("l2_prefetch", "0/1: prefetch the next KV blocks into L2", 0, {0, 1})}});
  s.push_back({"mla_decode",
               "FlashMLA-style MLA decode: query heads on the MMA M dimension, or (kv_on_m=1) KV rows on M",
               ProblemKind::kMla,
               {req("block_n", "KV rows per iteration", {32, 64, 128}),
                req("splits", "KV splits per batch", {1, 2, 4, 8, 16, 32, 64}),
                req("stages", "KV buffers in flight", {2, 3}),
                req("kv_on_m", "0 = heads on M (padded to the MMA's minimum M), 1 = KV rows on M", {0, 1})}});
  return s;
}
}  // namespace

const std::vector<ScheduleInfo>& schedules() {
  static const std::vector<ScheduleInfo> s = make_schedules();
  return s;
}

const ScheduleInfo& schedule_info(const std::string& name) {
  for (const auto& s : schedules())
    if (s.name == name) return s;
  std::string valid;
  for (const auto& s : schedules()) valid += (valid.empty() ? "" : ", ") + s.name;
  throw ModelError("schedule: unknown '" + name + "' (valid: " + valid + ")");
}

std::string chip_support(const Profile& p, const std::string& schedule) {
  const bool needs_wgmma = schedule == "gemm_sm90_ws" || schedule == "attn_fa3";
  const bool needs_tcgen05 = schedule == "gemm_sm100" || schedule == "attn_fa4";
  if (needs_wgmma && !p.flag(p.features.wgmma))
    return schedule + " needs wgmma (features.wgmma = 0 on " + p.id +
           ": PTX wgmma.mma_async is sm_90a-only; use the tcgen05 schedules there)";
  if (needs_tcgen05 && !p.flag(p.features.tcgen05))
    return schedule + " needs tcgen05 (features.tcgen05 = 0 on " + p.id + ": tcgen05.mma is sm_100a+)";
  if ((needs_wgmma || needs_tcgen05) && !p.flag(p.features.tma)) return schedule + " needs TMA (features.tma = 0)";
  return "";
}

Tile complete_tile(const std::string& schedule, const Tile& t, std::vector<std::string>* defaulted) {
  const auto& info = schedule_info(schedule);
  for (const auto& [k, v] : t.values) {
    bool known = false;
    for (const auto& p : info.params) known = known || p.name == k;
    if (!known) {
      std::string valid;
      for (const auto& p : info.params) valid += (valid.empty() ? "" : ", ") + p.name;
      throw ModelError("tile: unknown parameter '" + k + "' for " + schedule + " (valid: " + valid + ")");
    }
  }
  Tile out = t;
  std::string missing;
  for (const auto& p : info.params) {
    if (out.has(p.name)) continue;
    if (p.has_default) {
      out.set(p.name, p.default_value);
      if (defaulted) defaulted->push_back(p.name);
    } else {
      missing += (missing.empty() ? "" : ", ") + p.name;
    }
  }
  if (!missing.empty()) throw ModelError("tile: missing " + missing + " (required by " + schedule + ")");
  return out;
}

namespace detail {
void validate_desc(const ScheduleDesc& d);  // evaluate.cpp
ScheduleDesc build_checked(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& full,
                           const ModelConstants& k, bool detailed, std::string* reject);
}  // namespace detail

ScheduleDesc build_schedule_impl(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                                 const ModelConstants& k, bool detailed) {
  const auto& info = schedule_info(schedule);
  validate(prob);
  if (info.kind != prob.kind)
    throw ModelError("schedule " + schedule + " is for " + problem_kind_name(info.kind) + " problems, not " +
                     problem_kind_name(prob.kind));
  const std::string why = chip_support(p, schedule);
  if (!why.empty()) throw ModelError(why);
  return detail::build_checked(p, prob, schedule, complete_tile(schedule, tile, nullptr), k, detailed, nullptr);
}

namespace detail {
ScheduleDesc build_checked(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& full,
                           const ModelConstants& k, bool detailed, std::string* reject) {
  detail::Ctx c{p, prob, full, k, detailed, reject};
  ScheduleDesc d;
  d.loop.reserve(16);
  d.prologue.reserve(2);
  d.epilogue.reserve(4);
  d.schedule = schedule;
  d.clock_mhz = p.model_clock_mhz();
  d.launch_us = p.latency.kernel_launch_us.value;
  d.grid.sm_count = c.sm_count();
  using Fn = void (*)(const detail::Ctx&, ScheduleDesc&);
  static const std::vector<std::pair<std::string, Fn>> fns = {
      {"gemm_sm90_ws", detail::build_gemm_sm90_ws},   {"gemm_sm80_mma", detail::build_gemm_sm80_mma},
      {"gemm_sm100", detail::build_gemm_sm100},       {"attn_fa2", detail::build_attn_fa2},
      {"attn_fa3", detail::build_attn_fa3},           {"attn_fa4", detail::build_attn_fa4},
      {"decode_splitkv", detail::build_decode_splitkv}, {"mla_decode", detail::build_mla_decode}};
  for (const auto& [name, fn] : fns)
    if (name == schedule) fn(c, d);
  if (reject != nullptr && !reject->empty()) return d;  // rejected by occupancy (tune)
  detail::validate_desc(d);
  return d;
}
}  // namespace detail

ScheduleDesc build_schedule(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                            const ModelConstants& k) {
  return build_schedule_impl(p, prob, schedule, tile, k, true);
}

}  // namespace tilesim::model
