// ModelConstants: strict loader of data/model/constants.json (embedded at build time).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "embedded_constants.hpp"
#include "tilesim/input_file.hpp"
#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"

namespace tilesim::model {

namespace {
struct ConstantField {
  const char* name;
  const char* unit;
  double ModelConstants::*member;
};
constexpr ConstantField kFields[] = {
    {"iteration_overhead_cycles", "cycles", &ModelConstants::iteration_overhead_cycles},
    {"item_setup_cycles", "cycles", &ModelConstants::item_setup_cycles},
    {"cta_launch_cycles", "cycles", &ModelConstants::cta_launch_cycles},
    {"epilogue_efficiency", "ratio", &ModelConstants::epilogue_efficiency},
    {"hbm_efficiency", "ratio", &ModelConstants::hbm_efficiency},
    {"gemm_operand_hbm_efficiency", "ratio", &ModelConstants::gemm_operand_hbm_efficiency},
    {"decode_prefetch_refetch_fraction", "ratio", &ModelConstants::decode_prefetch_refetch_fraction},
    {"l2_efficiency", "ratio", &ModelConstants::l2_efficiency},
    {"l2_usable_fraction", "ratio", &ModelConstants::l2_usable_fraction},
    {"smem_write_weight", "ratio", &ModelConstants::smem_write_weight},
    {"rescale_fraction_thresholded", "ratio", &ModelConstants::rescale_fraction_thresholded},
    {"page_lookup_cycles", "cycles", &ModelConstants::page_lookup_cycles},
    {"register_overhead_per_thread", "reg", &ModelConstants::register_overhead_per_thread},
    {"consumer_cycles_per_instruction", "cycles/instruction", &ModelConstants::consumer_cycles_per_instruction},
    {"wgmma_inflight_share", "ratio", &ModelConstants::wgmma_inflight_share},
    {"mma_sync_warp_cycles_per_instruction", "cycles/instruction", &ModelConstants::mma_sync_warp_cycles_per_instruction},
    {"sm80_gemm_cycles_per_instruction", "cycles/instruction", &ModelConstants::sm80_gemm_cycles_per_instruction},
    {"decode_warp_cycles_per_instruction", "cycles/instruction", &ModelConstants::decode_warp_cycles_per_instruction},
    {"fa3_item_chain_cycles", "cycles", &ModelConstants::fa3_item_chain_cycles},
};
// Largest plausible value of a constant, by unit: a ratio is a fraction of a peak; no
// per-iteration or per-item overhead reaches a million cycles (~0.6 ms at 1.6 GHz); a
// thread has at most 255 registers; a warp waits no more than 64 cycles on average per
// dependent instruction (the longest fixed latencies, MUFU and shared memory, are ~20-30).
double max_plausible(const char* unit) {
  const std::string u = unit;
  if (u == "ratio") return 1.0;
  if (u == "cycles") return 1e6;
  if (u == "reg") return 255.0;
  if (u == "cycles/instruction") return 64.0;
  return 1e6;
}
// Smallest plausible value: a warp scheduler issues at most one instruction per cycle.
double min_plausible(const char* unit) { return std::string(unit) == "cycles/instruction" ? 1.0 : 0.0; }
}  // namespace

std::vector<std::string> constant_names() {
  std::vector<std::string> n;
  for (const auto& f : kFields) n.emplace_back(f.name);
  return n;
}

double& constant_ref(ModelConstants& c, const std::string& name) {
  for (const auto& f : kFields)
    if (name == f.name) return c.*(f.member);
  throw ModelError("model constant: unknown name '" + name + "'");
}

ModelConstants parse_constants(const std::string& json_text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = parse_json_strict(json_text, origin);
  } catch (const InputFileError& e) {
    throw ModelError(e.what());
  }
  if (!j.is_object() || !j.contains("constants") || !j.at("constants").is_object())
    throw ModelError(origin + ": expected an object with a 'constants' object");
  ModelConstants c;
  c.origin = origin;
  const auto& cs = j.at("constants");
  for (const auto& [key, v] : cs.items()) {
    bool known = false;
    for (const auto& f : kFields) known = known || key == f.name;
    if (!known) throw ModelError(origin + ": unknown constant '" + key + "'");
  }
  for (const auto& f : kFields) {
    if (!cs.contains(f.name)) throw ModelError(origin + ": missing constant '" + std::string(f.name) + "'");
    const auto& e = cs.at(f.name);
    if (!e.is_object() || !e.contains("value") || !e.at("value").is_number() || !e.contains("unit") ||
        !e.at("unit").is_string() || !e.contains("source") || !e.at("source").is_string() ||
        (e.contains("note") && !e.at("note").is_string()))
      throw ModelError(origin + ": constant '" + std::string(f.name) + "' needs value (number), unit, source");
    ConstantInfo info;
    info.value = e.at("value").get<double>();
    info.unit = e.at("unit").get<std::string>();
    info.source = e.at("source").get<std::string>();
    if (e.contains("note")) info.note = e.at("note").get<std::string>();
    if (info.unit != f.unit)
      throw ModelError(origin + ": constant '" + std::string(f.name) + "' must be in " + f.unit + ", got " + info.unit);
    const double lo = min_plausible(f.unit), hi = max_plausible(f.unit);
    if (!(info.value >= lo) || !(info.value <= hi))
      throw ModelError(origin + ": constant '" + std::string(f.name) + "' = " + short_number(info.value) + " " +
                       f.unit + " is out of range (plausible range [" + short_number(lo) + ", " + short_number(hi) + "] " +
                       f.unit + ")");
    c.*(f.member) = info.value;
    c.info[f.name] = info;
  }
  for (const char* positive : {"epilogue_efficiency", "hbm_efficiency", "gemm_operand_hbm_efficiency", "l2_efficiency"})
    if (!(c.info[positive].value > 0.0))
      throw ModelError(origin + ": constant '" + std::string(positive) + "' must be > 0");
  return c;
}

ModelConstants load_constants_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path);
  } catch (const InputFileError& e) {
    throw ModelError(std::string("model constants: ") + e.what());
  }
  return parse_constants(text, path);
}

const ModelConstants& default_constants() {
  static const ModelConstants c = parse_constants(kEmbeddedConstantsJson, "built-in:data/model/constants.json");
  return c;
}

}  // namespace tilesim::model
