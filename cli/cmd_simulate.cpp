// `tilesim simulate`: execute a schedule event by event (sim/) on the description the
// analytic model builds for (gpu, problem, schedule, tile), print time, steady-state
// iteration, unit busy fractions and stall reasons side by side with the model, and
// optionally write a Chrome trace (--trace) that opens in Perfetto.
#include <array>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>

#include "command.hpp"
#include "field_options.hpp"
#include "problem_options.hpp"
#include "tilesim/model/model.hpp"
#include "tilesim/profile.hpp"
#include "tilesim/sim/report.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;

// The simulator parameters a user may set here; the others follow the profile and the
// model constants (sim::default_options), or --trace.
constexpr std::array<std::string_view, 2> kSimOptions = {"ignore_resources", "max_trace_records"};

int run_simulate(const std::vector<std::string>& args, Context& ctx) {
  std::string gpu, schedule, tile_text, trace_path, scale, constants;
  po::options_description opts(
      "tilesim simulate --gpu <name|profile.json> <gemm|attention|decode|mla> <problem options> "
      "--schedule S "
      "--tile k=v,... [--trace out.json] [--json]");
  opts.add_options()("help,h", "show this help")("gpu", po::value(&gpu),
                                                 "built-in GPU id or profile JSON file")(
      "schedule", po::value(&schedule), ("schedule: " + schedule_choices()).c_str())(
      "tile", po::value(&tile_text)->default_value(""),
      "tile parameters k=v,... (schedule defaults fill the rest)")(
      "trace", po::value(&trace_path),
      "write a Chrome trace JSON here (Perfetto: ui.perfetto.dev -> Open trace file)")(
      "json", "machine-readable output: parameters and statistics with unit and description")(
      "scale", po::value(&scale), "what-if chip, e.g. mufu=2,tensor=2 (as in predict)")(
      "constants", po::value(&constants), "model constants file (default: the built-in ones)");
  add_field_options(opts, sim::kOptionFields, sim::Options{}, kSimOptions);
  add_problem_options(opts);  // shared with predict and tune (cli/problem_options.hpp)
  po::options_description hidden;
  hidden.add_options()("words", po::value<std::vector<std::string>>(), "positional");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    ctx.out
        << "execute a kernel schedule event by event on one representative SM per SM group; "
           "timeline, unit busy "
           "fractions, stall reasons\n\n"
        << opts
        << "\nexamples:\n"
           "  tilesim simulate --gpu h100 attention --batch 4 --heads-q 16 --seq-q 8192 --head-dim "
           "128 "
           "--schedule attn_fa3 --tile "
           "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1 "
           "--trace fa3.json\n"
           "  tilesim simulate --gpu h100 gemm --m 8192 --n 8192 --k 8192 --schedule gemm_sm90_ws "
           "--tile block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1 "
           "--json\n";
    return kExitOk;
  }
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  if (words.size() != 1)
    throw UsageError("expected exactly one problem kind (gemm | attention | decode | mla)");
  if (gpu.empty()) throw UsageError("--gpu is required");
  if (schedule.empty()) throw UsageError("--schedule is required");

  const model::Profile prof = load_gpu(gpu, scale_option(vm));
  const model::ModelConstants k = load_model_constants(constants);
  const model::Problem prob = problem_from_options(words[0], vm);
  model::Prediction pr;
  sim::Result r;
  try {
    pr = model::predict(prof, prob, schedule, model::parse_tile(tile_text), k, /*detailed=*/true);
  } catch (const model::Infeasible& e) {
    throw UsageError("tile " + tile_text + " is infeasible for " + schedule + " on " + prof.id +
                     ": " + e.what());
  } catch (const model::ModelError& e) {
    throw UsageError(e.what());
  }
  sim::Options o = sim::default_options(prof, k);
  o.record_trace = !trace_path.empty();
  apply_field_options(vm, sim::kOptionFields, kSimOptions, o);
  try {
    r = sim::simulate(pr.desc, o);
  } catch (const sim::SimError& e) {
    throw RuntimeError(std::string("simulation failed: ") + e.what());
  }
  if (!trace_path.empty()) {
    try {
      sim::write_chrome_trace_file(r, pr.desc, trace_path);
    } catch (const std::exception& e) {
      throw RuntimeError(e.what());
    }
  }
  const double model_iter = pr.iteration_cycles;
  const double diff_iter =
      model_iter > 0.0 ? (r.steady_iteration_cycles - model_iter) / model_iter : 0.0;
  const double diff_time = pr.time_us > 0.0 ? (r.total_us - pr.time_us) / pr.time_us : 0.0;
  if (vm.count("json")) {
    nlohmann::json j = sim::to_json(r);
    j["gpu"] = prof.id;
    j["schedule"] = schedule;
    j["summary"] = pr.desc.summary;
    j["problem"] = model::to_json(pr.problem);
    j["tile"] = model::to_json(pr.tile);
    j["trace"] = trace_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(trace_path);
    j["model"] = {
        {"time_us",
         {{"value", pr.time_us}, {"unit", "us"}, {"description", "analytic model's prediction"}}},
        {"iteration_cycles",
         {{"value", model_iter},
          {"unit", "cycles"},
          {"description", "model's steady-state iteration"}}},
        {"bottleneck", pr.bottleneck},
        {"why", pr.why},
        {"sim_vs_model_time",
         {{"value", std::isfinite(diff_time) ? diff_time : 0.0},
          {"unit", "ratio"},
          {"description", "(sim - model) / model, total time"}}},
        {"sim_vs_model_iteration",
         {{"value", std::isfinite(diff_iter) ? diff_iter : 0.0},
          {"unit", "ratio"},
          {"description", "(sim - model) / model, steady-state iteration"}}}};
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  char buf[512];
  ctx.out << "gpu " << prof.id << ", " << model::describe(pr.problem) << ", " << schedule << " "
          << pr.tile.to_string() << "\n";
  if (!pr.desc.summary.empty()) ctx.out << pr.desc.summary << "\n";
  ctx.out << "\n";
  ctx.out << sim::to_text(r);
  std::snprintf(buf, sizeof buf,
                "\nmodel            %.2f us, %.1f cycles/iter (%s-bound: %s)\nsim vs model     "
                "time %+.1f%%, steady "
                "iteration %+.1f%%\n",
                pr.time_us, model_iter, pr.bottleneck.c_str(), pr.bound_kind.c_str(),
                100.0 * diff_time, 100.0 * diff_iter);
  ctx.out << buf;
  if (!trace_path.empty())
    ctx.out << "trace            " << trace_path << " (" << r.trace.size() << " records"
            << (r.trace_truncated ? ", truncated" : "") << "; open in ui.perfetto.dev)\n";
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND(
    {"simulate", "run a schedule event by event: timeline (Chrome trace), unit busy, stalls",
     run_simulate});

}  // namespace tilesim::cli
