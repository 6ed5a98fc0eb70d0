#include "tilesim/sim/report.hpp"

#include <cmath>
#include <cstdio>
#include <type_traits>

namespace tilesim::sim {

namespace {
double finite(double v) { return std::isfinite(v) ? v : 0.0; }
}  // namespace

std::vector<StatInfo> statistics(const Result& r) {
  int sms = 0;
  for (const auto& g : r.groups) sms += g.sms;
  return {
      {"total_time_us", "double", r.total_us, "", "us",
       "kernel makespan + launch overhead + post pass"},
      {"kernel_time_us", "double", r.kernel_us, "", "us",
       "grid makespan: last CTA done (simulated)"},
      {"kernel_cycles", "double", r.kernel_cycles, "", "cycles",
       "grid makespan at the model clock"},
      {"launch_us", "double", r.launch_us, "", "us", "kernel launch overhead (profile)"},
      {"post_us", "double", r.post_us, "", "us",
       "post pass (split-KV combine): launch + HBM bytes at the achievable rate"},
      {"clock_mhz", "double", r.clock_mhz, "", "MHz", "the profile's model clock"},
      {"steady_iteration_cycles", "double", r.steady_iteration_cycles, "", "cycles",
       "steady-state main-loop iteration of one CTA: start-to-start of the last loop op over the "
       "middle half of "
       "the longest item's iterations"},
      {"steady_op", "string", 0.0, r.steady_op, "",
       "loop op whose starts measure the steady state"},
      {"steady_first_iter", "int", static_cast<double>(r.steady_first_iter), "", "iteration",
       "first iteration of the steady-state window"},
      {"steady_last_iter", "int", static_cast<double>(r.steady_last_iter), "", "iteration",
       "last iteration of the steady-state window"},
      {"longest_item_cycles", "double", r.first_item_cycles, "", "cycles",
       "duration of that item from its start gate to its last epilogue op (fill and drain "
       "included)"},
      {"work_items", "int", static_cast<double>(r.work_items), "", "item",
       "work items (output tiles) in the grid"},
      {"ctas_per_sm", "int", static_cast<double>(r.ctas_per_sm), "", "CTA",
       "resident CTAs per SM (occupancy)"},
      {"scheduler", "string", 0.0, r.scheduler, "", "how items reach CTA slots"},
      {"sm_groups", "int", static_cast<double>(r.groups.size()), "", "group",
       "distinct SM groups simulated (one representative SM each)"},
      {"sms_with_work", "int", static_cast<double>(sms), "", "SM",
       "SMs that receive at least one item"},
      {"op_instances", "int", static_cast<double>(r.op_instances), "", "instance",
       "op instances executed on the representative SMs"},
      {"events", "int", static_cast<double>(r.events), "", "event",
       "events processed (queue pops + same-time actions, incl. the per-class pre-pass)"},
      {"sim_wall_ms", "double", r.wall_ms, "", "ms", "simulator run time on this machine"},
      {"extrapolated", "int", r.extrapolated ? 1.0 : 0.0, "", "flag",
       "1 = periodic steady state: time extrapolated from reduced grids simulated whole "
       "(fewer iterations per item, fewer waves); 0 = the whole grid simulated"},
      {"error_bound_us", "double", r.error_bound_us, "", "us",
       "bound on |extrapolated - whole-grid simulation| of the kernel time (0 when not "
       "extrapolated)"},
      {"extrapolation", "string", 0.0, r.extrapolation, "",
       "the reduced grids and windows behind an extrapolated result"},
      {"simulations", "int", static_cast<double>(r.simulations), "", "run",
       "engine runs behind this result"},
      {"trace_records", "int", static_cast<double>(r.trace.size()), "", "record",
       "timeline records kept"},
      {"trace_truncated", "int", r.trace_truncated ? 1.0 : 0.0, "", "flag",
       "1 = max_trace_records reached, later records dropped"},
  };
}

nlohmann::json to_json(const Result& r) {
  nlohmann::json j;
  j["schema"] = "tilesim.sim.v1";
  auto& params = j["parameters"] = nlohmann::json::array();
  fields::for_each(kOptionFields, [&](const auto& f) {
    using Value = std::remove_cvref_t<decltype(f.of(r.options))>;
    params.push_back({{"name", f.name},
                      {"type", fields::type_name<Value>()},
                      {"value", finite(static_cast<double>(f.of(r.options)))},
                      {"unit", f.unit.symbol},
                      {"description", f.doc}});
  });
  auto& stats = j["statistics"] = nlohmann::json::array();
  for (const auto& s : statistics(r)) {
    nlohmann::json o = {
        {"name", s.name}, {"type", s.type}, {"unit", s.unit}, {"description", s.description}};
    if (s.type == "string")
      o["value"] = s.text;
    else
      o["value"] = finite(s.value);
    stats.push_back(o);
  }
  auto& units = j["units"] = nlohmann::json::array();
  for (const auto& u : r.units) {
    const bool chip = model::unit_is_chip_wide(u.unit);
    units.push_back({{"unit", model::unit_name(u.unit)},
                     {"work",
                      {{"value", finite(u.work)},
                       {"unit", model::unit_currency(u.unit)},
                       {"description", "whole kernel, all SMs"}}},
                     {"busy_cycles",
                      {{"value", finite(u.busy_cycles)},
                       {"unit", chip ? "cycles" : "SM-cycles"},
                       {"description", chip ? "bytes / achievable chip rate"
                                            : "cycles the unit was held, summed over SMs"}}},
                     {"busy_fraction",
                      {{"value", finite(u.busy_fraction)},
                       {"unit", "ratio"},
                       {"description", chip ? "bytes / (achievable chip rate x kernel cycles)"
                                            : "busy / (SMs x kernel cycles)"}}}});
  }
  auto& roles = j["roles"] = nlohmann::json::array();
  for (const auto& rs : r.roles) {
    nlohmann::json sh = nlohmann::json::array();
    for (const auto& s : rs.shares)
      sh.push_back({{"reason", s.reason}, {"share", finite(s.share)}});
    roles.push_back(
        {{"role", rs.role},
         {"stalls", sh},
         {"stalls_unit", "ratio"},
         {"stalls_description",
          "share of the role's time (all its CTAs, whole kernel): executing, waiting on a barrier "
          "or "
          "dependency (the last one satisfied), waiting for a busy unit, or no work left"}});
  }
  auto& groups = j["grid"]["groups"] = nlohmann::json::array();
  for (const auto& g : r.groups) {
    nlohmann::json slots = nlohmann::json::array();
    for (const auto& s : g.slot_classes) {
      // run-length: [{"class": "kv_blocks=64", "items": 31}, ...] in the order the slot runs them
      nlohmann::json runs = nlohmann::json::array();
      for (size_t i = 0; i < s.size();) {
        size_t k = i;
        while (k < s.size() && s[k] == s[i]) ++k;
        runs.push_back({{"class", r.class_names[static_cast<size_t>(s[i])]}, {"items", k - i}});
        i = k;
      }
      slots.push_back(runs);
    }
    groups.push_back(
        {{"sms", g.sms},
         {"end_us", finite(g.end_cycles / r.clock_mhz)},
         {"slot_items", slots},
         {"description",
          "SMs that run the same item sequence on each CTA slot; one representative is "
          "simulated"}});
  }
  return j;
}

std::string to_text(const Result& r) {
  std::string o;
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "simulated time   %.2f us  (kernel %.2f us = %.0f cycles at %.0f MHz, launch %.2f us",
      r.total_us, r.kernel_us, r.kernel_cycles, r.clock_mhz, r.launch_us);
  o += buf;
  if (r.post_us > 0.0) {
    std::snprintf(buf, sizeof buf, ", post pass %.2f us", r.post_us);
    o += buf;
  }
  o += ")\n";
  if (r.extrapolated) {
    std::snprintf(buf, sizeof buf, "error bound      +- %.3g us (%.2g%% of the kernel)\n", r.error_bound_us,
                  r.kernel_us > 0.0 ? 100.0 * r.error_bound_us / r.kernel_us : 0.0);
    o += buf;
    o += "extrapolated     " + r.extrapolation +
         "; stalls, groups and trace are the largest reduced grid's\n";
  }
  std::snprintf(buf, sizeof buf,
                "steady iteration %.1f cycles/iter (%s, iterations %lld..%lld of the longest item; "
                "item %.0f cycles)\n",
                r.steady_iteration_cycles, r.steady_op.c_str(),
                static_cast<long long>(r.steady_first_iter),
                static_cast<long long>(r.steady_last_iter), r.first_item_cycles);
  o += buf;
  int sms = 0;
  for (const auto& g : r.groups) sms += g.sms;
  std::snprintf(
      buf, sizeof buf,
      "grid             %lld items, %s, %d CTA/SM, %zu SM group(s) simulated for %d SMs\n",
      static_cast<long long>(r.work_items), r.scheduler.c_str(), r.ctas_per_sm, r.groups.size(),
      sms);
  o += buf;
  std::snprintf(buf, sizeof buf, "engine           %lld events, %lld op instances, %.1f ms\n",
                static_cast<long long>(r.events), static_cast<long long>(r.op_instances),
                r.wall_ms);
  o += buf;
  o += "\nunit    busy   (whole kernel; SM units over all SMs, l2/hbm vs achievable rate)\n";
  for (const auto& u : r.units) {
    std::snprintf(buf, sizeof buf, "%-7s %5.1f%%\n", model::unit_name(u.unit),
                  100.0 * u.busy_fraction);
    o += buf;
  }
  o += "\nrole stalls (share of the role's time)\n";
  for (const auto& rs : r.roles) {
    std::snprintf(buf, sizeof buf, "  %-12s", rs.role.c_str());
    o += buf;
    size_t shown = 0;
    for (const auto& s : rs.shares) {
      if (shown == 5 || s.share < 0.005) break;
      std::snprintf(buf, sizeof buf, "%s%s %.0f%%", shown ? ", " : " ", s.reason.c_str(),
                    100.0 * s.share);
      o += buf;
      ++shown;
    }
    o += "\n";
  }
  return o;
}

}  // namespace tilesim::sim
