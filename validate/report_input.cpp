#include "report_input.hpp"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "tilesim/profile.hpp"

namespace tilesim::validate {

using nlohmann::json;

namespace {
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json bytes_json(double hbm, double l2, double smem) {
  json b = json::object();
  if (hbm > 0) b["hbm"] = hbm;
  if (l2 > 0) b["l2"] = l2;
  if (smem > 0) b["smem"] = smem;
  return b;
}
}  // namespace

json gpu_ceilings_json(const profiles::Profile& p) {
  const double sms = p.sm_count.value;
  const double hz = p.model_clock_mhz() * 1e6;
  auto c = [](double v, const char* unit) { return json{{"value", v}, {"unit", unit}}; };
  return {{"id", p.id},
          {"name", p.name},
          {"clock_mhz", p.model_clock_mhz()},
          {"ceilings",
           {{"tensor", c(p.per_sm.tensor_bf16.value * sms * hz, "FLOP/s")},
            {"mufu", c(p.per_sm.mufu_ex2.value * sms * hz, "op/s")},
            {"smem", c(p.per_sm.smem.value * sms * hz, "B/s")},
            {"l2", c(p.chip.l2_bandwidth.value, "B/s")},
            {"hbm", c(p.chip.hbm_bandwidth.value, "B/s")}}}};
}

json record_json(const PredictedRun& r) {
  json j = to_json(r);  // validate's record of the run, plus what the report plots
  j["gpu"] = r.run.gpu.empty() ? r.run.device : r.run.gpu;
  j["origin"] = "measured";
  j["source"] = r.run.file;
  if (r.predicted_us) {
    j["flops"] = r.flops;
    j["bytes"] = bytes_json(r.bytes_hbm, r.bytes_l2, r.bytes_smem);
    if (r.mufu_ops > 0) j["exp_ops"] = r.mufu_ops;
  } else {
    // Vendor runs still go on the roofline: FLOPs and compulsory bytes need no tile.
    try {
      const model::Problem prob = model::problem_from_json(r.run.problem);
      j["flops"] = model::useful_flops(prob);
      j["bytes"] = bytes_json(model::compulsory_bytes(prob), 0, 0);
    } catch (const std::exception&) {
    }
  }
  return j;
}

namespace {

// The fastest feasible tile of `schedule` for the problem, predicted in full.
model::Prediction best_prediction(const profiles::Profile& p, const model::Problem& prob,
                                  const std::string& schedule, const model::ModelConstants& k) {
  model::TuneStats stats;
  const auto ranked = model::tune(p, prob, schedule, &stats, k);
  if (ranked.empty()) {
    std::string why;
    for (const auto& [key, msg] : stats.reason_example) why += (why.empty() ? "" : "; ") + msg;
    for (const auto& [s, msg] : stats.schedules_rejected) why += (why.empty() ? "" : "; ") + msg;
    throw std::runtime_error("no feasible tile" + (why.empty() ? std::string() : ": " + why));
  }
  return model::predict(p, prob, ranked.front().schedule, ranked.front().tile, k);
}

}  // namespace

void add_model_best(json& record, const PredictedRun& r, const model::ModelConstants& k) {
  if (r.status != "vendor" || r.run.gpu.empty()) return;
  try {
    const model::Problem prob = model::problem_from_json(r.run.problem);
    const model::Prediction pr = best_prediction(profiles::builtin_profile(r.run.gpu), prob, "", k);
    record["model_best_us"] = num(pr.time_us);
    record["model_best_tile"] = pr.schedule + " " + pr.tile.to_string();
  } catch (const std::exception& e) {
    record["model_best_reason"] = e.what();
  }
}

json accuracy_summary(const json& records, const std::string& origin) {
  std::vector<PredictedRun> runs;
  for (const auto& r : records) {
    if (r.value("origin", "measured") != origin || !r.contains("predicted_us") || !r.at("predicted_us").is_number())
      continue;
    PredictedRun p;
    p.run.family = r.at("family").get<std::string>();
    p.run.gpu = r.at("gpu").get<std::string>();
    p.run.shape = r.at("shape").get<std::string>();
    p.run.file = r.value("source", "");  // a measured record's file: the top pick's sweep
    p.run.schedule = r.value("schedule", "");
    p.run.tile = r.contains("tile") && r.at("tile").is_object() ? r.at("tile") : json::object();
    p.run.measured_us = r.at("measured_us").get<double>();
    p.predicted_us = r.at("predicted_us").get<double>();
    if (r.contains("utilization") && r.at("utilization").is_object())  // ranks the model's ties
      p.utilization = r.at("utilization").get<std::map<std::string, double>>();
    p.status = "predicted";
    runs.push_back(std::move(p));
  }
  json out = json::object();
  for (const auto& [fam, s] : summarize(runs)) out[fam] = to_json(s);
  return out;
}

json published_records(const std::string& path, const model::ModelConstants& k,
                       std::ostream& progress) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (doc.value("schema", "") != "tilesim.published.v1")
    throw std::runtime_error(path + ": schema is not 'tilesim.published.v1'");
  json out = json::array();
  int predicted = 0;
  for (const auto& e : doc.at("entries")) {
    const std::string gpu = e.at("gpu").get<std::string>();
    // The profile the entry is predicted on: its own GPU, or a built-in with the same SMs,
    // clocks and memory (an H800 is predicted on the h100 profile; the file says why).
    const std::string model_gpu = e.value("model_gpu", gpu);
    const json& problem = e.at("problem");
    const std::string kind = problem.value("kind", "?");
    const json& src = doc.at("sources").at(e.at("source").get<std::string>());
    json r = {
        {"id", e.value("id", "")},
        {"family", kind == "mla" ? "decode" : kind},
        {"gpu", gpu},
        {"origin", "published"},
        {"impl", e.value("impl", "?")},
        {"schedule", e.value("model_schedule", "")},
        {"tile", json::object()},
        {"problem", problem},
        {"shape", problem_key(problem)},
        {"measured_us", e.at("time_us")},
        {"predicted_us", nullptr},
        {"source", e.at("source").get<std::string>() + " (" + src.value("url", "") + ")"},
        {"source_id", e.at("source")},
        {"where", e.value("where", "")}};
    if (model_gpu != gpu) r["model_gpu"] = model_gpu;
    if (e.contains("not_predicted")) {
      // Kept for the record (e.g. a backward pass the model has no schedule for).
      r["reason"] = e.at("not_predicted");
      if (e.contains("tflops")) r["flops"] = e.at("tflops").get<double>() * e.at("time_us").get<double>() * 1e6;
      out.push_back(r);
      continue;
    }
    try {
      const profiles::Profile p = profiles::builtin_profile(model_gpu);
      const model::Problem prob = model::problem_from_json(problem);
      r["flops"] = model::useful_flops(prob);
      // The kernel's own tile where its source says it (model_tile, with tile_source);
      // else the best tile tune finds.
      const std::string schedule = e.value("model_schedule", "");
      // The L2 the source's launches start from (timing.l2_start, as predict --l2-start;
      // default memset): warm for back-to-back launches of one kernel with no flush between.
      const json& timing = src.value("timing", json::object());
      const std::string l2_start = timing.value("l2_start", "memset");
      model::ModelConstants ks = k;
      if (!model::set_l2_start(ks, l2_start))
        throw std::runtime_error("timing.l2_start must be memset, clean or warm, got '" + l2_start + "'");
      const model::Prediction pr =
          e.contains("model_tile") ? model::predict(p, prob, schedule, model::tile_from_json(e.at("model_tile")), ks)
                                   : best_prediction(p, prob, schedule, ks);
      // A profiler's kernel duration has no launch in it; events around launches do.
      const bool kernel_only = timing.value("launch_included", true) == false;
      const double predicted_us = kernel_only ? pr.time_us - pr.launch_us : pr.time_us;
      r["predicted_us"] = num(predicted_us);
      r["error_pct"] = num(100.0 * (predicted_us - e.at("time_us").get<double>()) / e.at("time_us").get<double>());
      r["model_tile"] = pr.schedule + " " + pr.tile.to_string();
      r["tile_choice"] = e.contains("model_tile") ? "the kernel's own (" + e.value("tile_source", "?") + ")"
                                                  : std::string("best tile of tune");
      if (kernel_only) r["launch_excluded_us"] = num(pr.launch_us);
      double smem = 0, mufu = 0;
      for (const auto& u : pr.units) {
        if (u.unit == model::Unit::kSmem) smem = u.work_total;
        if (u.unit == model::Unit::kMufu) mufu = u.work_total;
      }
      r["bytes"] = bytes_json(pr.bytes_hbm, pr.bytes_l2, smem);
      if (mufu > 0) r["exp_ops"] = mufu;
      r["bottleneck"] = pr.bottleneck;
      ++predicted;
    } catch (const std::exception& ex) {
      r["reason"] = ex.what();
    }
    out.push_back(r);
  }
  progress << "report: " << predicted << "/" << out.size() << " published results predicted\n";
  return out;
}

namespace {
struct Representative {
  const char* name;
  json problem;
};
const std::vector<Representative>& representatives() {
  // The team's reference problems (shared/REFERENCES.md measured these with cuDNN/cuBLAS).
  static const std::vector<Representative> r = {
      {"attention B4 H16 S4096 d128",
       {{"kind", "attention"},
        {"batch", 4},
        {"heads_q", 16},
        {"heads_kv", 16},
        {"seq_q", 4096},
        {"seq_kv", 4096},
        {"head_dim", 128},
        {"causal", false},
        {"dtype", "bf16"}}},
      {"attention B4 H16 S4096 d64",
       {{"kind", "attention"},
        {"batch", 4},
        {"heads_q", 16},
        {"heads_kv", 16},
        {"seq_q", 4096},
        {"seq_kv", 4096},
        {"head_dim", 64},
        {"causal", false},
        {"dtype", "bf16"}}},
      {"gemm 8192^3 bf16",
       {{"kind", "gemm"}, {"m", 8192}, {"n", 8192}, {"k", 8192}, {"dtype", "bf16"}}},
      {"decode B16 H32 KV8192 d128",
       {{"kind", "decode"},
        {"batch", 16},
        {"heads_q", 32},
        {"heads_kv", 32},
        {"q_per_seq", 1},
        {"seq_kv", 8192},
        {"head_dim", 128},
        {"dtype", "bf16"}}},
  };
  return r;
}
}  // namespace

json utilization_entries(const model::ModelConstants& k) {
  json out = json::array();
  for (const auto& rep : representatives()) {
    for (const char* gpu : {"h100", "h20", "b200"}) {
      try {
        const profiles::Profile p = profiles::builtin_profile(gpu);
        const model::Prediction pr =
            best_prediction(p, model::problem_from_json(rep.problem), "", k);
        json units = json::object();
        for (const auto& u : pr.units) units[model::unit_name(u.unit)] = num(u.utilization);
        out.push_back({{"kernel", rep.name},
                       {"gpu", gpu},
                       {"time_us", num(pr.time_us)},
                       {"bottleneck", pr.bottleneck},
                       {"schedule", pr.schedule},
                       {"tile", pr.tile.to_string()},
                       {"units", units}});
      } catch (const std::exception&) {
        // A schedule family missing on a chip leaves its bar out; the figure shows the rest.
      }
    }
  }
  return out;
}

json scaling_study(const model::ModelConstants& k) {
  // The main job's problem: long-sequence d128 attention forward, where FA4's argument
  // (tensor 2x, MUFU and SMEM 1x) is made.
  const json problem = {{"kind", "attention"}, {"batch", 4},       {"heads_q", 16},
                        {"heads_kv", 16},      {"seq_q", 8192},    {"seq_kv", 8192},
                        {"head_dim", 128},     {"causal", false},  {"dtype", "bf16"}};
  const model::Problem prob = model::problem_from_json(problem);
  json points = json::array();
  auto add = [&](const std::string& label, const std::string& gpu, const std::string& scale) {
    json pt = {{"label", label}, {"gpu", gpu}, {"scale", scale}};
    try {
      profiles::Profile p = profiles::builtin_profile(gpu);
      if (!scale.empty()) model::apply_scale(p, scale);
      const model::Prediction pr = best_prediction(p, prob, "", k);
      json units = json::object();
      for (const auto& u : pr.units) units[model::unit_name(u.unit)] = num(u.utilization);
      pt["time_us"] = num(pr.time_us);
      pt["tflops"] = num(model::useful_flops(prob) / (pr.time_us * 1e6));
      pt["bottleneck"] = pr.bottleneck;
      pt["schedule"] = pr.schedule;
      pt["tile"] = pr.tile.to_string();
      pt["units"] = units;
    } catch (const std::exception& e) {
      pt["reason"] = e.what();
    }
    points.push_back(pt);
  };
  add("H100", "h100", "");
  add("H100, tensor x2", "h100", "tensor=2");
  add("B200", "b200", "");
  for (const char* u : {"tensor", "mufu", "fma", "smem", "l2", "hbm"})
    add(std::string("B200, ") + u + " x2", "b200", std::string(u) + "=2");
  add("B200, mufu x2 + smem x2", "b200", "mufu=2,smem=2");
  return {{"title", "attention B4 H16 S8192 d128 bf16 forward: the model's best tile per chip"},
          {"problem", problem},
          {"baseline", "B200"},
          {"points", points}};
}

json model_sweep(const model::ModelConstants& k) {
  const auto& rep = representatives().front();
  const profiles::Profile p = profiles::builtin_profile("h100");
  const auto ranked = model::tune(p, model::problem_from_json(rep.problem), "attn_fa3", nullptr, k);
  json rs = json::array();
  for (const auto& r : ranked)
    rs.push_back({{"schedule", r.schedule},
                  {"tile", model::to_json(r.tile)},
                  {"predicted_us", num(r.time_us)}});
  return {{"title", std::string("model tile sweep: ") + rep.name + " on h100 (attn_fa3)"},
          {"gpu", "h100"},
          {"problem", rep.problem},
          {"records", rs}};
}

}  // namespace tilesim::validate
