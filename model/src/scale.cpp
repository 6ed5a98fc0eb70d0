// What-if scaling of a profile (--scale unit=factor).
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "tilesim/input_file.hpp"
#include "schedules/common.hpp"
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
      {"l2_tma", {"chip.l2_tma_requests", "chip.l2_tma_sectors"}},
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

namespace {
// A factor: a plain finite decimal number > 0 (strtod accepts subnormals and reports
// overflow, where std::stod calls both "not a number").
double parse_factor(const std::string& name, const std::string& val) {
  if (val.empty()) throw ModelError("--scale: factor of '" + name + "' is empty");
  errno = 0;
  char* end = nullptr;
  const double f = std::strtod(val.c_str(), &end);
  if (end != val.c_str() + val.size() || std::isspace(static_cast<unsigned char>(val.front())))
    throw ModelError("--scale: factor of '" + name + "' is not a number: '" + val + "'");
  if (!std::isfinite(f) || (errno == ERANGE && std::fabs(f) > 1.0))
    throw ModelError("--scale: factor of '" + name + "' is out of range: '" + val + "'");
  if (!(f > 0.0)) throw ModelError("--scale: factor of '" + name + "' must be > 0, got " + val);
  return f;
}
}  // namespace

void apply_scale(Profile& p, const std::string& spec) {
  if (spec.empty()) throw ModelError("--scale: empty (expected unit=factor,..., e.g. mufu=2)");
  std::istringstream is(spec);
  std::string item;
  std::set<std::string> seen;
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
    if (!seen.insert(name).second) throw ModelError("--scale: unit '" + name + "' given twice");
    const double f = parse_factor(name, val);
    // The wgmma latency is a dependent chain: the probe instruction's execution at the
    // tensor rate plus the pipe's drain. A faster pipe shortens the execution part only.
    const bool wgmma_chain = name == "tensor" && p.flag(p.features.wgmma) && p.latency.tensor_mma.present &&
                             p.per_sm.tensor_bf16.present;
    const double probe_cycles = wgmma_chain ? detail::wgmma_probe_cycles(p) : 0.0;
    for (const char* path : unit->paths) {
      const profiles::ProfileField& field = profiles::field_at(path);
      auto& q = field.of(p);
      if (!q.present) continue;
      double v = q.value * f;
      if (name == "sms") {
        if (v < 0.5)
          throw ModelError("--scale: sms=" + val + " leaves " + short_number(v) + " of the " +
                           short_number(q.value) + " SMs (fewer than one)");
        v = std::round(v);
      }
      const std::string why = fields::check(field, v);
      if (!why.empty())
        throw ModelError("--scale: " + name + "=" + val + " makes " + path + " implausible: " + why);
      q.value = v;
      q.note = "scaled x" + val + " (what-if)" + (q.note.empty() ? "" : "; " + q.note);
    }
    if (wgmma_chain && probe_cycles < p.latency.tensor_mma.value) {
      auto& lat = p.latency.tensor_mma;
      lat.value = lat.value - probe_cycles + probe_cycles / f;
      lat.note = "execution part scaled x1/" + val + " with the tensor pipe (what-if); " + lat.note;
    }
  }
  if (seen.empty()) throw ModelError("--scale: empty (expected unit=factor,..., e.g. mufu=2)");
}

}  // namespace tilesim::model
