// `tilesim tune`: every feasible tile of a schedule (or of every schedule the chip runs)
// ranked by the analytic model, infeasible ones counted by reason. --gpu a,b,c puts
// several chips side by side (the README's main job).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>

#include "command.hpp"
#include "problem_options.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;

struct GpuTune {
  model::Profile profile;
  std::vector<model::Ranked> ranked;
  model::TuneStats stats;
  double tune_ms = 0.0;
};

nlohmann::json to_json(const GpuTune& g, size_t top) {
  nlohmann::json j;
  j["gpu"] = g.profile.id;
  j["gpu_name"] = g.profile.name;
  j["considered"] = g.stats.considered;
  j["feasible"] = g.stats.feasible;
  nlohmann::json inf = nlohmann::json::object();
  for (const auto& [key, n] : g.stats.infeasible_by_reason)
    inf[key] = {{"count", n}, {"example", g.stats.reason_example.at(key)}};
  j["infeasible"] = inf;
  j["schedules_rejected"] = g.stats.schedules_rejected;
  j["tune_ms"] = g.tune_ms;
  j["rank_tie_tolerance"] = model::kRankTieTolerance;  // ties rank by second_utilization
  nlohmann::json r = nlohmann::json::array();
  for (size_t i = 0; i < g.ranked.size() && i < top; ++i) {
    nlohmann::json e = model::to_json(g.ranked[i]);
    e["rank"] = i + 1;
    r.push_back(e);
  }
  j["ranked"] = r;
  return j;
}

void print_ranking(const GpuTune& g, size_t top, std::ostream& os) {
  char line[512];
  os << g.profile.id << " (" << g.profile.name << "): " << g.stats.feasible << " feasible of " << g.stats.considered
     << " tiles considered";
  for (const auto& [s, why] : g.stats.schedules_rejected) os << "\n  schedule " << s << " rejected: " << why;
  os << "\n";
  os << "  (times within " << 100.0 * model::kRankTieTolerance
     << " % of a group's fastest tie; ties rank by the second-busiest unit, least busy first)\n";
  std::snprintf(line, sizeof line, "  %4s %10s %10s %8s %-22s %6s %-6s %-15s %s\n", "rank", "time_us", "sustained",
                "TFLOP/s", "bottleneck (util)", "2nd %", "kernel", "schedule", "tile");
  os << line;
  for (size_t i = 0; i < g.ranked.size() && i < top; ++i) {
    const auto& r = g.ranked[i];
    char bn[64];
    std::snprintf(bn, sizeof bn, "%s %.0f%% %s", r.bottleneck.c_str(), 100.0 * r.bottleneck_utilization,
                  r.bound_kind == "dependency" ? "(dep)" : "");
    std::snprintf(line, sizeof line, "  %4zu %10.2f %10.2f %8.1f %-22s %6.0f %-6s %-15s %s\n", i + 1, r.time_us,
                  r.sustained_time_us, r.tflops, bn, 100.0 * r.second_utilization, r.has_kernel ? "yes" : "-",
                  r.schedule.c_str(), r.tile.to_string().c_str());
    os << line;
  }
  if (!g.stats.infeasible_by_reason.empty()) {
    os << "  infeasible:";
    for (const auto& [key, n] : g.stats.infeasible_by_reason) os << " " << key << " " << n << ";";
    os << "\n";
    for (const auto& [key, ex] : g.stats.reason_example) os << "    e.g. " << key << ": " << ex << "\n";
  }
}

void print_side_by_side(const std::vector<GpuTune>& gs, std::ostream& os) {
  char line[512];
  os << "best tile per GPU:\n";
  std::snprintf(line, sizeof line, "  %-6s %4s %10s %8s %9s %-22s %-15s %s\n", "gpu", "SMs", "time_us", "TFLOP/s",
                "HBM GB/s", "bottleneck (util)", "schedule", "tile");
  os << line;
  for (const auto& g : gs) {
    if (g.ranked.empty()) {
      std::snprintf(line, sizeof line, "  %-6s %4.0f   (no feasible tile)\n", g.profile.id.c_str(), g.profile.sm_count.value);
      os << line;
      continue;
    }
    const auto& r = g.ranked.front();
    char bn[64];
    std::snprintf(bn, sizeof bn, "%s %.0f%%", r.bottleneck.c_str(), 100.0 * r.bottleneck_utilization);
    std::snprintf(line, sizeof line, "  %-6s %4.0f %10.2f %8.1f %9.0f %-22s %-15s %s\n", g.profile.id.c_str(),
                  g.profile.sm_count.value, r.time_us, r.tflops, r.hbm_gbps, bn, r.schedule.c_str(),
                  r.tile.to_string().c_str());
    os << line;
  }
  os << "\n";
}

int run_tune(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts(
      "tilesim tune --gpu <name[,name...]|profile.json> <gemm|attention|decode|mla> <problem options> [--schedule S]");
  opts.add_options()("help,h", "show this help")("gpu", po::value<std::string>(), "GPU(s): h100,h20,b200 side by side, or a profile .json")(
      "schedule", po::value<std::string>()->default_value(""), ("one schedule: " + schedule_choices() + " (default: every schedule of the problem's kind the chip runs)").c_str())(
      "top", po::value<long long>()->default_value(10), "ranked tiles to print per GPU")("json", "machine-readable output")(
      "scale", po::value<std::string>()->default_value(""), "what-if chip: unit=factor,... applied to every GPU")(
      "constants", po::value<std::string>()->default_value(""), "model constants JSON (default: built-in)")(
      "kernels-only", "rank only tiles that a compiled kernel runs (kernels/instances.json); runtime parameters "
                      "(decode splits) take every tune value")(
      "sustained", "rank by the sustained time (launched back to back, under the board's power limit: what a "
                   "long-running layer sees) instead of a launch on a rested card");
  add_problem_options(opts);
  const po::variables_map vm = parse_with_problem_kind(args, opts);
  if (vm.count("help")) {
    ctx.out << "rank every feasible tile by the analytic model's predicted time\n\n"
            << opts
            << "\nexamples:\n"
               "  tilesim tune --gpu h100,h20,b200 attention --batch 4 --heads-q 16 --seq-q 8192 --head-dim 128 --top 3\n"
               "  tilesim tune --gpu h100 gemm --m 4096 --n 4096 --k 4096 --schedule gemm_sm90_ws --json\n"
               "  tilesim tune --gpu h100 attention --batch 4 --heads-q 16 --seq-q 4096 --head-dim 128 --kernels-only\n"
               "\nthe kernel column says whether a compiled kernel instance runs the tile (JSON: has_kernel);\n"
               "`tilesim predict --help-schedule <name>` prints a schedule's parameters, rules and kernels\n";
    return kExitOk;
  }
  if (!vm.count("gpu")) throw UsageError("--gpu is required (h100, h200, h20, b200, a comma list, or a profile .json)");
  if (!vm.count("kind")) throw UsageError("the problem kind is required: gemm, attention, decode or mla");
  const long long top = vm["top"].as<long long>();
  if (top < 1) throw UsageError("--top must be >= 1, got " + std::to_string(top));
  const std::string scale = scale_option(vm);
  const std::string schedule = vm["schedule"].as<std::string>();
  const model::TuneOptions tune_opts{schedule, vm.count("kernels-only") != 0, vm.count("sustained") != 0};
  const model::Problem prob = problem_from_options(vm["kind"].as<std::string>(), vm);
  const model::ModelConstants k = load_model_constants(vm["constants"].as<std::string>());
  std::vector<GpuTune> results;
  for (const auto& name : split_list(vm["gpu"].as<std::string>())) {
    GpuTune g;
    g.profile = load_gpu(name, scale);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      g.ranked = model::tune(g.profile, prob, tune_opts, &g.stats, k);
    } catch (const model::ModelError& e) {
      throw UsageError(e.what());
    }
    g.tune_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    results.push_back(std::move(g));
  }
  const size_t n = static_cast<size_t>(top);
  if (vm.count("json")) {
    nlohmann::json j;
    j["problem"] = model::to_json(prob);
    j["schedule"] = schedule.empty() ? nlohmann::json(nullptr) : nlohmann::json(schedule);
    j["scale"] = scale;
    j["kernels_only"] = tune_opts.kernels_only;
    j["ranked_by"] = tune_opts.sustained ? "sustained_time_us" : "time_us";
    j["constants"] = k.origin;
    j["gpus"] = nlohmann::json::array();
    for (const auto& g : results) j["gpus"].push_back(to_json(g, n));
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << "tune: " << model::describe(prob) << (scale.empty() ? "" : " (scaled " + scale + ")") << "\n\n";
  if (results.size() > 1) print_side_by_side(results, ctx.out);
  for (const auto& g : results) {
    print_ranking(g, n, ctx.out);
    ctx.out << "\n";
  }
  bool any = false;
  for (const auto& g : results) any = any || !g.ranked.empty();
  if (!any) {
    ctx.err << "tilesim tune: no feasible tile on any GPU"
            << (tune_opts.kernels_only ? " among the compiled kernel instances (try without --kernels-only)" : "") << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND({"tune", "rank every feasible tile of a problem (analytic model)", run_tune});

}  // namespace tilesim::cli
