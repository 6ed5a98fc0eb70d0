#include "measure_core.hpp"

#include <cstdio>
#include <sstream>

#include "command.hpp"
#include "runner_exec.hpp"
#include "tilesim/model/schedule_spec.hpp"

namespace tilesim::cli::measure {

using nlohmann::json;

std::string family_of(const model::Problem& p) {
  const std::string kind = model::problem_kind_name(p.kind);
  for (const auto& r : kernel_runners())
    if (r.family == kind) return kind;
  throw UsageError("no compiled kernels for " + kind + " problems (measure runs " +
                   runner_families(", ") + ")");
}

std::string shape_arg(const model::Problem& p) {
  const KernelRunner& r = kernel_runner(family_of(p));
  // The runner's keys are the measurement JSON's "problem" keys (shape_args.hpp), so the
  // problem's JSON has a value for each.
  const json problem = model::to_json(p);
  std::string s;
  for (const auto& key : r.shape_keys()) {
    const json& v = problem.at(key.name);
    s += (s.empty() ? "" : ",") + key.name + "=" +
         (v.is_boolean() ? std::string(v.get<bool>() ? "1" : "0")
                         : std::to_string(v.get<int64_t>()));
  }
  // Parsed back with the runner's own parser: a shape it would refuse (a value out of its
  // kernels' range) is a usage error here, before anything runs.
  try {
    runner::parse_shape(s, r.shape_keys());
  } catch (const runner::ShapeError& e) {
    throw UsageError(r.binary + " cannot run this problem: " + e.what() +
                     " (each key is the problem option of that name, e.g. page_size is "
                     "--page-size)");
  }
  return s;
}

namespace {
bool tile_matches(const json& have, const json& want) {
  for (const auto& [k, v] : want.items())
    if (!have.contains(k) || have.at(k) != v) return false;
  return true;
}
}  // namespace

std::vector<std::string> select_kernels(const json& list_doc, const model::Problem& p,
                                        const std::string& schedule, const json& tile) {
  if (!list_doc.contains("instances") || !list_doc.at("instances").is_array())
    throw RuntimeError(
        "runner --list --json: no 'instances' array (is the runner from this build?)");
  std::vector<std::string> picked, serving;
  for (const auto& inst : list_doc.at("instances")) {
    model::KernelInstance k;
    k.schedule = inst.at("schedule").get<std::string>();
    k.requires_ = inst.value("requires", json::object());
    if (!model::instance_serves(k, p)) continue;
    const std::string name = inst.at("name").get<std::string>();
    serving.push_back(name + " (" + k.schedule + " " + inst.value("tile", json::object()).dump() +
                      ")");
    if (!schedule.empty() && k.schedule != schedule) continue;
    if (!tile_matches(inst.value("tile", json::object()), tile)) continue;
    picked.push_back(name);
  }
  if (picked.empty()) {
    std::string msg = "no compiled kernel serves this problem";
    if (!schedule.empty()) msg += " with schedule " + schedule;
    if (!tile.empty()) msg += " and tile " + tile.dump();
    msg += serving.empty() ? " (no instance serves it at all)" : "; instances that serve it:";
    for (const auto& s : serving) msg += "\n  " + s;
    throw UsageError(msg);
  }
  return picked;
}

std::vector<std::string> runner_args(const model::Problem& p, const std::string& kernel,
                                     const RunnerOptions& o, const std::string& out) {
  std::vector<std::string> a = {"--sweep", "--shape", shape_arg(p)};
  if (!kernel.empty()) a.insert(a.end(), {"--kernel", kernel});
  if (o.reps > 0) a.insert(a.end(), {"--reps", std::to_string(o.reps)});
  if (o.passes > 0) {
    const KernelRunner& r = kernel_runner(family_of(p));
    if (!r.takes_passes)
      throw UsageError("--passes: " + r.binary +
                       " times each kernel in one run of --reps samples (no interleaved passes)");
    a.insert(a.end(), {"--passes", std::to_string(o.passes)});
  }
  a.insert(a.end(), {"--out", out});
  return a;
}

std::vector<Row> join(const std::vector<validate::MeasuredRun>& runs, const std::string& gpu,
                      const model::ModelConstants& constants) {
  std::vector<validate::MeasuredRun> on_gpu = runs;
  for (auto& r : on_gpu) r.gpu = gpu;
  std::vector<Row> rows;
  for (const auto& pr : validate::predict_runs(on_gpu, constants)) {
    Row row;
    row.kernel = pr.run.impl == "tilesim" ? pr.run.schedule : pr.run.impl;
    row.impl = pr.run.impl;
    row.schedule = pr.run.schedule;
    row.tile = model::tile_from_json(pr.run.tile).to_string();
    row.measured_us = pr.run.measured_us;
    row.check_passed = pr.run.check_passed;
    row.predicted_us = pr.predicted_us;
    if (!pr.predicted_us) row.note = pr.reason;
    if (!pr.run.timed) continue;  // correctness-only entries carry no time to show
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string table(const std::vector<Row>& rows) {
  std::ostringstream os;
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%-14s %-44s %12s %12s %8s  %s\n", "schedule", "tile",
                "measured_us", "predicted_us", "error", "check");
  os << buf;
  for (const auto& r : rows) {
    char pred[32] = "-", err[32] = "-";
    if (r.predicted_us) {
      std::snprintf(pred, sizeof(pred), "%.1f", *r.predicted_us);
      std::snprintf(err, sizeof(err), "%+.0f%%",
                    (*r.predicted_us - r.measured_us) / r.measured_us * 100.0);
    }
    std::snprintf(buf, sizeof(buf), "%-14s %-44s %12.1f %12s %8s  %s\n", r.kernel.c_str(),
                  r.tile.empty() ? "-" : r.tile.c_str(), r.measured_us, pred, err,
                  r.check_passed ? "pass" : "FAIL");
    os << buf;
    if (!r.note.empty() && r.impl == "tilesim") os << "    (" << r.note << ")\n";
  }
  return os.str();
}

json to_json(const std::vector<Row>& rows) {
  json a = json::array();
  for (const auto& r : rows) {
    json j = {{"impl", r.impl},
              {"schedule", r.schedule},
              {"tile", r.tile},
              {"measured_us", r.measured_us},
              {"check_passed", r.check_passed}};
    j["predicted_us"] = r.predicted_us ? json(*r.predicted_us) : json(nullptr);
    if (!r.note.empty()) j["note"] = r.note;
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace tilesim::cli::measure
