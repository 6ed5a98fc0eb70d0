// --explain text and --json output of a prediction.
#include <cmath>
#include <sstream>

#include "schedules/common.hpp"

namespace tilesim::model {

namespace {
using detail::num;
double fin(double v) { return std::isfinite(v) ? v : 0.0; }

std::string rate_text(const Use& u, double active) {
  std::ostringstream os;
  if (unit_is_chip_wide(u.unit))
    os << num(u.rate_per_clk / std::max(1.0, active)) << " " << unit_currency(u.unit) << "/clk (chip "
       << num(u.rate_per_clk) << " shared by " << num(active) << " CTAs)";
  else
    os << num(u.rate_per_clk) << " " << unit_currency(u.unit) << "/clk/SM";
  return os.str();
}

void explain_ops(std::ostringstream& os, const ScheduleDesc& d, const std::vector<Op>& ops, double active,
                 bool loop) {
  for (const auto& op : ops) {
    os << "  " << op.name << " [" << d.roles[op.role].name << "]";
    if (op.latency_cycles > 0) os << ", latency " << num(op.latency_cycles) << " cycles";
    os << ": occupancy " << num(op_occupancy_cycles(op, active)) << " cycles";
    if (!op.note.empty()) os << "  -- " << op.note;
    os << "\n";
    for (const auto& u : op.uses) {
      const double rate = unit_is_chip_wide(u.unit) ? u.rate_per_clk / std::max(1.0, active) : u.rate_per_clk;
      os << "      " << unit_name(u.unit) << ": " << num(u.work) << " " << unit_currency(u.unit) << " / "
         << rate_text(u, active) << " = " << num(u.work / rate) << " cycles";
      if (!u.what.empty()) os << "   (" << u.what << ")";
      os << "\n";
    }
    if (op.chain_cycles > 0.0) {
      os << "      per-warp chain: " << num(op.chain_cycles) << " cycles";
      if (!op.chain_what.empty()) os << "   (" << op.chain_what << ")";
      os << "\n";
    }
    if (!op.deps.empty()) {
      os << "      waits for:";
      bool first = true;
      for (const auto& dep : op.deps) {
        os << (first ? " " : ", ") << ops[dep.op].name;
        if (loop && dep.distance > 0) os << "[i-" << dep.distance << "]";
        os << " (" << dep_kind_name(dep.kind);
        if (!dep.barrier.empty()) os << ", barrier " << dep.barrier;
        os << ")";
        first = false;
      }
      os << "\n";
    }
  }
}

// The energy bound's lines: the kernel's energy, the power it would draw, and what a
// back-to-back run comes to under the board limit.
std::string power_text(const Prediction& pr) {
  std::ostringstream os;
  const ChipTerms& k = pr.desc.chip;
  if (!pr.power_known) return "energy: no measured board power for this GPU: no energy bound on the sustained time\n";
  os << "energy: " << num(pr.energy_j * 1e3) << " mJ per launch (work x the model's energies per FLOP, byte, "
     << "instruction) -> " << num(pr.power_w) << " W at " << num(pr.clock_mhz) << " MHz (idle " << num(k.power_idle_w)
     << " W, limit " << num(k.power_limit_w) << " W)\n";
  if (pr.sustained_time_us > pr.time_us)
    os << "sustained (back to back, after the power limiter reacts): energy / (limit - idle) = "
       << num(pr.sustained_time_us) << " us, as at " << num(pr.sustained_clock_mhz) << " MHz\n";
  else
    os << "sustained (back to back): under the power limit, " << num(pr.sustained_time_us) << " us\n";
  return os.str();
}
}  // namespace

std::string explain(const Prediction& pr, const Profile& p) {
  const ScheduleDesc& d = pr.desc;
  std::ostringstream os;
  os << "gpu " << p.id << " (" << p.name << "): " << num(p.sm_count.value) << " SMs, predicted clock " << num(pr.clock_mhz)
     << " MHz = " << pr.clock_model << "\n";
  os << "problem: " << describe(pr.problem) << ", useful work " << num(d.useful_flops) << " FLOP\n";
  os << "schedule " << pr.schedule << ": " << d.summary << "\n";
  os << "tile: " << pr.tile.to_string();
  if (!pr.defaulted.empty()) {
    os << "   (defaults: ";
    for (size_t i = 0; i < pr.defaulted.size(); ++i)
      os << (i ? ", " : "") << pr.defaulted[i] << "=" << num(pr.tile.get(pr.defaulted[i]));
    os << ")";
  }
  os << "\n\n";
  os << "CTA: " << d.cta.threads << " threads, " << detail::kib(d.cta.smem_bytes) << " SMEM (+1 KiB reserved), "
     << num(d.cta.registers_total) << " registers";
  if (d.cta.tmem_columns > 0) os << ", " << d.cta.tmem_columns << " TMEM columns";
  os << " -> " << pr.ctas_per_sm << " CTA(s)/SM, limited by " << pr.occupancy_limit << "\n";
  for (const auto& r : d.roles)
    os << "  role " << r.name << " (" << role_kind_name(r.kind) << "): " << r.threads << " threads, ~"
       << r.registers_per_thread << " registers/thread\n";
  const double active = pr.active_ctas;
  if (!d.prologue.empty()) {
    os << "\nPrologue, once per work item:\n";
    explain_ops(os, d, d.prologue, active, false);
  }
  os << "\nMain loop, per CTA and iteration (op alone on its SM; chip-wide units shared by " << num(active)
     << " streaming CTAs):\n";
  explain_ops(os, d, d.loop, active, true);
  for (const auto& r : d.rings)
    os << "  ring '" << r.name << "': " << r.stages << " stages of " << detail::kib(r.bytes_per_stage) << "\n";
  if (!d.epilogue.empty()) {
    os << "\nEpilogue, once per work item:\n";
    explain_ops(os, d, d.epilogue, active, false);
  }
  os << "\nPer-unit cycles per iteration (sum of the loop's uses):\n";
  for (const auto& u : pr.units) {
    if (u.cycles_per_iter <= 0) continue;
    os << "  " << unit_name(u.unit) << ": " << num(u.cycles_per_iter);
    if (!unit_is_chip_wide(u.unit) && pr.share_sm > 1) os << " x " << pr.share_sm << " CTAs/SM = " << num(u.cycles_per_iter * pr.share_sm);
    os << "\n";
  }
  os << "resource bound: " << num(pr.resource_bound_cycles) << " cycles/iter\n";
  os << "dependency bound: " << (pr.binding_cycle.empty() ? "(no loop-carried chain)" : pr.binding_cycle) << " = "
     << num(pr.dependency_bound_cycles) << " cycles/iter (incl. iteration_overhead_cycles)\n";
  os << "iteration = max(resource, dependency) = " << num(pr.iteration_cycles) << " cycles\n";
  os << "\nWork item: item_setup + prologue " << num(pr.prologue_cycles) << " + fill " << num(pr.fill_cycles)
     << " + iterations x " << num(pr.iteration_cycles) << " + epilogue " << num(pr.epilogue_cycles) << " cycles";
  if (pr.hidden_cycles > 0) os << "; " << num(pr.hidden_cycles) << " hidden per item by the persistent grid";
  os << "\n";
  os << "Grid (" << scheduler_name(d.grid.scheduler) << ", cluster " << d.grid.cluster_size << "): ";
  for (size_t i = 0; i < d.grid.classes.size() && i < 6; ++i)
    os << (i ? ", " : "") << d.grid.classes[i].items << " items x " << d.grid.classes[i].iterations << " iter";
  if (d.grid.classes.size() > 6) os << ", ... (" << d.grid.classes.size() << " classes)";
  os << "\n  on " << d.grid.resident_ctas() << " slots (" << d.grid.sm_count << " SMs x " << pr.ctas_per_sm
     << "): " << num(pr.waves) << " waves, tail efficiency " << num(100.0 * pr.tail_efficiency)
     << "%, makespan " << num(pr.makespan_cycles) << " cycles\n";
  os << "\nWhole-kernel unit bounds (total work at the achievable rate; utilization vs peak):\n";
  for (const auto& u : pr.units)
    os << "  " << unit_name(u.unit) << ": " << num(u.work_total) << " " << unit_currency(u.unit) << " -> "
       << num(u.bound_us) << " us, utilization " << num(100.0 * u.utilization) << "%\n";
  os << "\ntime = max(makespan, unit bounds, a chip-wide unit's full rounds + the partial last round) / " << num(pr.clock_mhz) << " MHz = " << num(pr.makespan_us)
     << " us + launch " << num(pr.launch_us) << " us";
  if (pr.post_us > 0) os << " + " << d.post.name << " " << num(pr.post_us) << " us";
  os << " = " << num(pr.time_us) << " us\n";
  os << "=> " << num(pr.tflops) << " TFLOP/s, " << num(pr.hbm_gbps) << " GB/s HBM (" << num(pr.bytes_hbm)
     << " B)\n";
  if (pr.l2_writeback_bytes > 0)
    os << "   of which " << num(pr.l2_writeback_bytes)
       << " B write back dirty lines the L2 held at the start (after a runner's memset flush: l2_flush_dirty_share "
          "of the L2, evicted in proportion to the bytes moved up to l2_dirty_evict_l2_multiple L2s; "
          "--l2-start clean for none)\n";
  os << "bottleneck: " << pr.bottleneck << " (" << pr.bound_kind << "): " << pr.why << "\n";
  os << power_text(pr);
  if (!d.notes.empty()) {
    os << "\nnotes:\n";
    for (const auto& n : d.notes) os << "  - " << n << "\n";
  }
  return os.str();
}

nlohmann::json to_json(const Prediction& pr) {
  nlohmann::json j;
  j["gpu"] = pr.gpu;
  j["schedule"] = pr.schedule;
  j["problem"] = to_json(pr.problem);
  j["tile"] = to_json(pr.tile);
  j["defaults"] = pr.defaulted;
  j["time_us"] = fin(pr.time_us);
  j["tflops"] = fin(pr.tflops);
  j["bytes_hbm"] = fin(pr.bytes_hbm);
  j["l2_writeback_bytes"] = fin(pr.l2_writeback_bytes);
  j["bytes_l2"] = fin(pr.bytes_l2);
  j["hbm_gbps"] = fin(pr.hbm_gbps);
  j["bottleneck"] = pr.bottleneck;
  j["bound_kind"] = pr.bound_kind;
  j["why"] = pr.why;
  nlohmann::json units = nlohmann::json::object();
  for (const auto& u : pr.units) {
    units[unit_name(u.unit)] = {{"cycles_per_iter", fin(u.cycles_per_iter)},
                                {"utilization", fin(u.utilization)},
                                {"utilization_active", fin(u.utilization_active)},
                                {"work", fin(u.work_total)},
                                {"currency", unit_currency(u.unit)},
                                {"bound_us", fin(u.bound_us)}};
  }
  j["units"] = units;
  j["iteration"] = {{"cycles", fin(pr.iteration_cycles)},
                    {"resource_bound_cycles", fin(pr.resource_bound_cycles)},
                    {"dependency_bound_cycles", fin(pr.dependency_bound_cycles)},
                    {"binding_cycle", pr.binding_cycle},
                    {"prologue_cycles", fin(pr.prologue_cycles)},
                    {"fill_cycles", fin(pr.fill_cycles)},
                    {"epilogue_cycles", fin(pr.epilogue_cycles)}};
  j["waves"] = fin(pr.waves);
  j["tail_efficiency"] = fin(pr.tail_efficiency);
  j["ctas_per_sm"] = pr.ctas_per_sm;
  j["occupancy_limit"] = pr.occupancy_limit;
  j["work_items"] = pr.work_items;
  j["scheduler"] = scheduler_name(pr.desc.grid.scheduler);
  j["makespan_us"] = fin(pr.makespan_us);
  j["launch_us"] = fin(pr.launch_us);
  j["post_us"] = fin(pr.post_us);
  j["clock_mhz"] = fin(pr.clock_mhz);
  j["clock_model"] = pr.clock_model;
  j["power_known"] = pr.power_known;
  if (pr.power_known) {  // without a power block no energy is computed
    j["energy_j"] = fin(pr.energy_j);
    j["power_w"] = fin(pr.power_w);
    j["sustained_time_us"] = fin(pr.sustained_time_us);
    j["sustained_clock_mhz"] = fin(pr.sustained_clock_mhz);
  }
  return j;
}

nlohmann::json to_json(const Ranked& r) {
  return {{"schedule", r.schedule},
          {"tile", to_json(r.tile)},
          {"time_us", fin(r.time_us)},
          {"sustained_time_us", fin(r.sustained_time_us)},
          {"tflops", fin(r.tflops)},
          {"hbm_gbps", fin(r.hbm_gbps)},
          {"bottleneck", r.bottleneck},
          {"bound_kind", r.bound_kind},
          {"bottleneck_utilization", fin(r.bottleneck_utilization)},
          {"tensor_utilization", fin(r.tensor_utilization)},
          {"second_utilization", fin(r.second_utilization)},
          {"waves", fin(r.waves)},
          {"ctas_per_sm", r.ctas_per_sm},
          {"has_kernel", r.has_kernel}};
}

nlohmann::json to_json(const ScheduleDesc& d) {
  auto ops_json = [&](const std::vector<Op>& ops) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& op : ops) {
      nlohmann::json o;
      o["name"] = op.name;
      o["role"] = d.roles[op.role].name;
      o["latency_cycles"] = fin(op.latency_cycles);
      o["chain_cycles"] = fin(op.chain_cycles);
      if (!op.chain_what.empty()) o["chain_what"] = op.chain_what;
      o["uses"] = nlohmann::json::array();
      for (const auto& u : op.uses)
        o["uses"].push_back({{"unit", unit_name(u.unit)},
                             {"work", fin(u.work)},
                             {"currency", unit_currency(u.unit)},
                             {"rate_per_clk", fin(u.rate_per_clk)},
                             {"chip_wide", unit_is_chip_wide(u.unit)},
                             {"what", u.what}});
      o["deps"] = nlohmann::json::array();
      for (const auto& dep : op.deps)
        o["deps"].push_back({{"op", ops[dep.op].name},
                             {"index", dep.op},
                             {"distance", dep.distance},
                             {"kind", dep_kind_name(dep.kind)},
                             {"barrier", dep.barrier}});
      o["note"] = op.note;
      a.push_back(o);
    }
    return a;
  };
  nlohmann::json j;
  j["schedule"] = d.schedule;
  j["summary"] = d.summary;
  j["roles"] = nlohmann::json::array();
  for (const auto& r : d.roles)
    j["roles"].push_back({{"name", r.name},
                          {"kind", role_kind_name(r.kind)},
                          {"threads", r.threads},
                          {"registers_per_thread", r.registers_per_thread}});
  j["prologue"] = ops_json(d.prologue);
  j["loop"] = ops_json(d.loop);
  j["epilogue"] = ops_json(d.epilogue);
  j["rings"] = nlohmann::json::array();
  for (const auto& r : d.rings) {
    nlohmann::json pn = nlohmann::json::array(), cn = nlohmann::json::array();
    for (int i : r.producers) pn.push_back(d.loop[i].name);
    for (int i : r.consumers) cn.push_back(d.loop[i].name);
    j["rings"].push_back({{"name", r.name}, {"stages", r.stages}, {"producers", pn}, {"consumers", cn},
                          {"bytes_per_stage", fin(r.bytes_per_stage)}});
  }
  j["prologue_overlaps_previous"] = d.prologue_overlaps_previous;
  j["epilogue_overlaps_next"] = d.epilogue_overlaps_next;
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : d.grid.classes)
    classes.push_back({{"name", c.name}, {"items", c.items}, {"iterations", c.iterations}});
  j["grid"] = {{"scheduler", scheduler_name(d.grid.scheduler)}, {"cluster_size", d.grid.cluster_size},
               {"ctas_per_sm", d.grid.ctas_per_sm},          {"occupancy_limit", d.grid.occupancy_limit},
               {"sm_count", d.grid.sm_count},                {"classes", classes}};
  j["cta"] = {{"threads", d.cta.threads}, {"smem_bytes", fin(d.cta.smem_bytes)},
              {"registers_total", fin(d.cta.registers_total)}, {"tmem_columns", d.cta.tmem_columns}};
  j["post"] = {{"name", d.post.name},
               {"hbm_bytes", fin(d.post.hbm_bytes)},
               {"launch_us", fin(d.post.launch_us)},
               {"chain_us", fin(d.post.chain_us)}};
  j["useful_flops"] = fin(d.useful_flops);
  j["total_hbm_bytes"] = fin(d.total_hbm_bytes);
  j["total_l2_bytes"] = fin(d.total_l2_bytes);
  j["clock_mhz"] = fin(d.chip.clock_mhz);
  j["launch_us"] = fin(d.chip.launch_us);
  j["notes"] = d.notes;
  return j;
}

}  // namespace tilesim::model
