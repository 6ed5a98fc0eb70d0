// Checks a kernel runner against the model: runs `<runner> --list --json` (no GPU needed)
// and verifies that
//   1. the runner lists exactly the instances kernels/instances.json declares for it (the
//      "ci" ones or all, as built): the generated registrations say what the list says;
//   2. every instance is a tile of its schedule's spec (known parameters, each in its
//      domain), feasible in the model on the spec's representative problem (with the
//      instance's requirements applied) on H100 unless its entry explains why not
//      (model_disagrees), and meets the spec's kernel rules;
//   3. the model marks it has_kernel there.
// Usage: tilesim_check_instances --runner PATH --set ci|all [--groups "g1;g2"] (the groups a
// TILESIM_KERNEL_GROUPS build compiles beside the CI subset). Exit 0 ok, 1 mismatch, 2 usage.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "tilesim/model/model.hpp"
#include "tilesim/profile.hpp"

namespace {

namespace tsm = tilesim::model;  // not "tm": that is <ctime>'s struct tm

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *status = pclose(f);
  return out;
}

// (schedule, tile, requires) as one comparable string; numbers normalised to doubles so
// that 0 and 0.0 compare equal.
std::string key(const std::string& schedule, const tsm::Tile& tile, const nlohmann::json& req) {
  nlohmann::json r = nlohmann::json::object();
  for (const auto& [k, v] : req.items()) r[k] = v.is_number() ? nlohmann::json(v.get<double>()) : v;
  return schedule + " " + tile.to_string() + " " + r.dump();
}

}  // namespace

int main(int argc, char** argv) {
  std::string runner, set;
  std::set<std::string> groups;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runner") runner = argv[i + 1];
    else if (a == "--set") set = argv[i + 1];
    else if (a == "--groups") {
      std::string list = argv[i + 1];
      for (size_t start = 0, end; start <= list.size(); start = end + 1) {
        end = list.find(';', start);
        if (end == std::string::npos) end = list.size();
        if (end > start) groups.insert(list.substr(start, end - start));
      }
    } else {
      std::cerr << "tilesim_check_instances: unknown option '" << a << "'\n";
      return 2;
    }
  }
  if (runner.empty() || (set != "ci" && set != "all")) {
    std::cerr << "usage: tilesim_check_instances --runner PATH --set ci|all [--groups \"g1;g2\"]\n";
    return 2;
  }
  const std::string runner_name = std::filesystem::path(runner).filename().string();
  int status = 0;
  const std::string text = run_capture("'" + runner + "' --list --json", &status);
  if (status != 0) {
    std::cerr << "FAIL: " << runner << " --list --json exited with status " << status << "\n";
    return 1;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    std::cerr << "FAIL: " << runner << " --list --json is not JSON: " << e.what() << "\n";
    return 1;
  }
  const tsm::Profile h100 = tilesim::profiles::resolve_profile("h100");
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::cerr << "FAIL: " << what << "\n";
    ++failures;
  };

  std::set<std::string> listed, declared;
  for (const auto& e : doc.at("instances")) {
    const std::string name = e.at("name").get<std::string>(), schedule = e.at("schedule").get<std::string>();
    try {
      const tsm::ScheduleSpec& spec = tsm::schedule_spec(schedule);
      if (spec.runner != runner_name) fail(name + ": schedule " + schedule + " belongs to runner '" + spec.runner + "'");
      const tsm::Tile tile = tsm::tile_from_json(e.at("tile"));
      listed.insert(key(schedule, tile, e.at("requires")));
      tsm::KernelInstance inst;
      inst.schedule = schedule;
      inst.tile = tile;
      inst.requires_ = e.at("requires");
      const tsm::Problem prob = tsm::instance_problem(spec, inst);
      tsm::Tile full = tile;
      for (const auto& rp : spec.runtime_params) full.set(rp, spec.param(rp)->tune_values.front());
      full = tsm::complete_tile(schedule, full, nullptr);
      if (full.values.size() != tile.values.size() + spec.runtime_params.size())
        fail(name + ": tile " + tile.to_string() + " leaves a parameter to its default; list every compiled one");
      std::string why;
      if (const char* k = tsm::check_tile(spec, full, prob, h100, &why)) fail(name + ": model rejects (" + k + "): " + why);
      const tsm::KernelInstance* declared_inst = nullptr;
      for (const auto& k : spec.kernels)
        if (k.tile == tile && tsm::instance_serves(k, prob)) declared_inst = &k;
      const bool expect_rejected = declared_inst != nullptr && !declared_inst->model_disagrees.empty();
      try {
        (void)tsm::predict(h100, prob, schedule, full);
        if (expect_rejected) fail(name + ": predicted now; delete its model_disagrees note in kernels/instances.json");
      } catch (const tsm::Infeasible& ex) {
        if (!expect_rejected) fail(name + ": the model rejects it: " + ex.what());
      }
      const std::string rule = tsm::check_kernel_rules(spec, full, prob, h100);
      if (!rule.empty()) fail(name + ": breaks the spec's kernel rule " + rule);
      if (!tsm::has_kernel(spec, full, prob)) fail(name + ": the model does not mark " + full.to_string() + " has_kernel");
    } catch (const std::exception& ex) {
      fail(name + ": " + ex.what());
    }
  }
  for (const auto& spec : tsm::schedules()) {
    if (spec.runner != runner_name) continue;
    for (const auto& k : spec.kernels)
      if (set == "all" || k.ci || (!k.group.empty() && groups.count(k.group)))
        declared.insert(key(spec.name, k.tile, k.requires_));
  }
  for (const auto& k : listed)
    if (!declared.count(k)) fail("compiled but not in kernels/instances.json (" + set + "): " + k);
  for (const auto& k : declared)
    if (!listed.count(k)) fail("in kernels/instances.json (" + set + ") but not compiled: " + k);
  if (listed.empty()) fail(runner_name + " lists no instance");
  std::cout << runner_name << ": " << listed.size() << " instances checked, " << failures << " failure(s)\n";
  return failures == 0 ? 0 : 1;
}
