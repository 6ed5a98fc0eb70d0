// What-if scaling of a profile (--scale unit=factor).
#include <cmath>
#include <sstream>

#include "tilesim/model/model.hpp"

namespace tilesim::model {

namespace {
struct ScaleUnit {
  const char* name;
  std::vector<const char*> paths;  // profile field paths multiplied by the factor
};
const std::vector<ScaleUnit>& scale_table() {
  static const std::vector<ScaleUnit> t = {
      {"tensor",
       {"per_sm_per_clk.tensor_bf16", "per_sm_per_clk.tensor_fp16", "per_sm_per_clk.tensor_fp8",
        "per_sm_per_clk.tensor_tf32", "per_sm_per_clk.mma_sync_bf16"}},
      {"mufu", {"per_sm_per_clk.mufu_ex2"}},
      {"fma", {"per_sm_per_clk.fp32_fma"}},
      {"alu", {"per_sm_per_clk.alu"}},
      {"cvt", {"per_sm_per_clk.cvt_bf16x2"}},
      {"smem", {"per_sm_per_clk.smem"}},
      {"l2", {"chip.l2_bandwidth"}},
      {"hbm", {"chip.hbm_bandwidth"}},
      {"sms", {"sm_count"}},
      {"clock", {"clocks.tensor_spec", "clocks.max_boost", "clocks.sustained"}},
  };
  return t;
}
}  // namespace

std::vector<std::string> scale_units() {
  std::vector<std::string> n;
  for (const auto& u : scale_table()) n.emplace_back(u.name);
  return n;
}

void apply_scale(Profile& p, const std::string& spec) {
  std::istringstream is(spec);
  std::string item;
  bool any = false;
  while (std::getline(is, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw ModelError("--scale: malformed entry '" + item + "' (expected unit=factor, e.g. mufu=2)");
    const std::string name = item.substr(0, eq), val = item.substr(eq + 1);
    const ScaleUnit* unit = nullptr;
    for (const auto& u : scale_table())
      if (name == u.name) unit = &u;
    if (unit == nullptr) {
      std::string valid;
      for (const auto& u : scale_units()) valid += (valid.empty() ? "" : ", ") + u;
      throw ModelError("--scale: unknown unit '" + name + "' (valid: " + valid + ")");
    }
    double f = 0.0;
    try {
      size_t used = 0;
      f = std::stod(val, &used);
      if (used != val.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ModelError("--scale: factor of '" + name + "' is not a number: '" + val + "'");
    }
    if (!(f > 0.0) || !std::isfinite(f))
      throw ModelError("--scale: factor of '" + name + "' must be > 0, got " + val);
    for (const char* path : unit->paths) {
      auto& q = profiles::field(p, path);
      if (!q.present) continue;
      q.value *= f;
      if (std::string(name) == "sms") q.value = std::max(1.0, std::round(q.value));
      q.note = "scaled x" + val + " (what-if)" + (q.note.empty() ? "" : "; " + q.note);
    }
    any = true;
  }
  if (!any) throw ModelError("--scale: empty (expected unit=factor,...)");
}

}  // namespace tilesim::model
