#include "measure_core.hpp"

#include <cstdio>
#include <sstream>

#include "command.hpp"
#include "tilesim/model/schedule_spec.hpp"

namespace tilesim::cli::measure {

using nlohmann::json;

std::string family_of(const model::Problem& p) {
  switch (p.kind) {
    case model::ProblemKind::kGemm:
      return "gemm";
    case model::ProblemKind::kAttention:
      return "attention";
    case model::ProblemKind::kDecode:
      return "decode";
    default:
      throw UsageError(std::string("no compiled kernels for ") + model::problem_kind_name(p.kind) +
                       " problems (measure runs gemm, attention, decode)");
  }
}

std::string shape_arg(const model::Problem& p) {
  std::ostringstream s;
  switch (p.kind) {
    case model::ProblemKind::kGemm:
      s << "m=" << p.m << ",n=" << p.n << ",k=" << p.k;
      break;
    case model::ProblemKind::kAttention:
      s << "batch=" << p.batch << ",heads_q=" << p.heads_q << ",heads_kv=" << p.heads_kv
        << ",seq_q=" << p.seq_q << ",seq_kv=" << p.seq_kv << ",head_dim=" << p.head_dim
        << ",causal=" << (p.causal ? 1 : 0);
      break;
    case model::ProblemKind::kDecode:
      s << "batch=" << p.batch << ",heads_q=" << p.heads_q << ",heads_kv=" << p.heads_kv
        << ",q_per_seq=" << p.q_per_seq << ",seq_kv=" << p.seq_kv << ",head_dim=" << p.head_dim
        << ",page_size=" << p.page_size;
      break;
    default:
      family_of(p);  // throws the usage error
  }
  return s.str();
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
  if (o.passes > 0) a.insert(a.end(), {"--passes", std::to_string(o.passes)});
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
