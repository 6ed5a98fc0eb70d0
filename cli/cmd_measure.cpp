// `tilesim measure --gpu <id> <gemm|attention|decode|mla> <problem options> [--schedule S]
// [--tile k=v,...]` (the kinds with a runner: runner_exec.hpp): on a GPU machine, runs the
// compiled kernels that serve the problem (all of them, or those of one schedule / tile) and
// the vendor library the runner times, through the family's runner, at exactly this shape;
// every kernel's output is checked against a reference. Prints measured vs predicted side by
// side and keeps the runner's measurement JSON (tilesim.measurement.v1, the files `validate`
// reads).
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "command.hpp"
#include "measure_core.hpp"
#include "problem_options.hpp"
#include "runner_exec.hpp"
#include "validate_io.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

std::string command_line(const std::string& bin, const std::vector<std::string>& args) {
  std::string c = shell_quote(bin);
  for (const auto& a : args) {
    c += ' ';  // appended, not " " + str: GCC 12 warns falsely (-Wrestrict)
    c += shell_quote(a);
  }
  return c;
}

// The runner's --list --json document (static registry, no GPU needed).
json list_instances(const std::string& bin) {
  const std::string cmd = command_line(bin, {"--list", "--json"});
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw RuntimeError("cannot run " + cmd);
  std::string text;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  const int rc = pclose(pipe);
  if (rc != 0) throw RuntimeError(cmd + " failed (exit status " + std::to_string(rc) + ")");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw RuntimeError(cmd + ": output is not JSON (" + e.what() + ")");
  }
}

int run_measure(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts("tilesim measure --gpu <id> <" + runner_families("|") +
                               "> <problem options> [--schedule S] [--tile k=v,...]");
  opts.add_options()("help,h", "show this help")(
      "gpu", po::value<std::string>(),
      "the built-in profile of this machine's GPU (h100, h200, h20, b200)")(
      "schedule", po::value<std::string>()->default_value(""),
      "only the compiled kernels of this schedule")(
      "tile", po::value<std::string>()->default_value(""),
      "only the compiled kernels whose tile has these values (k=v,...; a subset of the "
      "parameters)")("out", po::value<std::string>()->default_value(""),
                     "measurement JSON to write (default: measure_<family>_<UTC stamp>.json here)")(
      "bin-dir", po::value<std::string>()->default_value(""),
      "folder of the runner binaries (default: beside tilesim)")(
      "reps", po::value<int>()->default_value(0),
      "timed repetitions per pass (default: the runner's)")(
      "passes", po::value<int>()->default_value(0),
      "interleaved timing passes (default: the runner's; not every runner takes it)")(
      "constants", po::value<std::string>()->default_value(""),
      "model constants JSON (default: built-in)")("json", "machine-readable output");
  add_problem_options(opts);
  const po::variables_map vm = parse_with_problem_kind(args, opts);
  if (vm.count("help")) {
    ctx.out << "run our compiled kernels and the vendor library at one shape on this GPU; measured "
               "vs predicted\n\n"
            << opts
            << "\nexamples:\n"
               "  tilesim measure --gpu h100 gemm --m 4096 --n 4096 --k 4096\n"
               "  tilesim measure --gpu h100 attention --batch 2 --heads-q 32 --heads-kv 8 --seq-q "
               "4096 \\\n"
               "      --seq-kv 4096 --head-dim 128 --causal --schedule attn_fa3\n"
               "  tilesim measure --gpu h100 mla --batch 16 --heads-q 128 --seq-kv 4096 --page-size "
               "64\n";
    return kExitOk;
  }
  if (!vm.count("gpu"))
    throw UsageError("--gpu is required: the built-in profile of this GPU (h100, h200, h20, b200)");
  if (!vm.count("kind")) throw UsageError("the problem kind is required: " + runner_families(", "));
  const std::string gpu = vm["gpu"].as<std::string>();
  if (gpu.find('/') != std::string::npos || gpu.find(".json") != std::string::npos)
    throw UsageError(
        "--gpu: measure compares with a built-in profile (h100, h200, h20, b200), not a file");
  load_gpu(gpu, "");  // unknown names are usage errors listing the built-in ids
  const model::Problem prob = problem_from_options(vm["kind"].as<std::string>(), vm);
  const std::string family = measure::family_of(prob);
  measure::shape_arg(prob);  // a shape the runner would refuse: say so before looking for it
  json tile = json::object();
  if (!vm["tile"].as<std::string>().empty()) {
    try {
      tile = model::to_json(model::parse_tile(vm["tile"].as<std::string>()));
    } catch (const model::ModelError& e) {
      throw UsageError(std::string("--tile: ") + e.what());
    }
  }
  const measure::RunnerOptions ro{vm["reps"].as<int>(), vm["passes"].as<int>()};
  const model::ModelConstants constants = load_model_constants(vm["constants"].as<std::string>());

  const std::string bin = find_runner(runner_name(family), vm["bin-dir"].as<std::string>());
  const std::string schedule = vm["schedule"].as<std::string>();
  std::vector<std::string> kernels = {""};  // "": every instance serving the shape + vendor
  if (!schedule.empty() || !tile.empty())
    kernels = measure::select_kernels(list_instances(bin), prob, schedule, tile);
  else
    measure::select_kernels(list_instances(bin), prob, "",
                            json::object());  // none serves: say so now

  std::string out = vm["out"].as<std::string>();
  if (out.empty()) out = "measure_" + family + "_" + validate::utc_stamp() + ".json";
  // One runner call per selected kernel; their runs are merged into one measurement file.
  // Built before the GPU check, so that an option the runner does not take is a usage error
  // on any machine.
  std::vector<std::string> parts, cmds;
  for (size_t i = 0; i < kernels.size(); ++i) {
    parts.push_back(out + ".part" + std::to_string(i));
    cmds.push_back(command_line(bin, measure::runner_args(prob, kernels[i], ro, parts.back())));
  }
  if (!gpu_present())
    throw RuntimeError(
        "measure needs a GPU: nvidia-smi finds none (tilesim predict works without one)");

  json merged;
  std::vector<validate::MeasuredRun> runs;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const std::string& part = parts[i];
    const std::string& cmd = cmds[i];
    ctx.err << "measure: " << cmd << "\n";
    const int rc = std::system(cmd.c_str());
    if (rc != 0 || !fs::is_regular_file(part)) {
      std::error_code ec;
      fs::remove(part, ec);
      throw RuntimeError(runner_name(family) + " failed (exit status " + std::to_string(rc) +
                         "); nothing written");
    }
    for (auto& r : validate::load_measurement_file(part)) runs.push_back(std::move(r));
    std::ifstream in(part);
    const json doc = json::parse(in);
    if (merged.is_null()) {
      merged = doc;
    } else {
      for (const auto& r : doc.at("runs")) merged["runs"].push_back(r);
    }
    fs::remove(part);
  }
  merged["tool"]["measure"] = {{"gpu", gpu}, {"schedule", schedule}, {"tile", tile}};
  {
    std::ofstream f(out);
    if (!f) throw RuntimeError(out + ": cannot write the measurement JSON");
    f << merged.dump(1) << "\n";
  }
  const auto rows = measure::join(runs, gpu, constants);
  bool all_passed = true;
  for (const auto& r : rows) all_passed = all_passed && r.check_passed;
  if (vm.count("json")) {
    ctx.out << json{{"gpu", gpu},
                    {"family", family},
                    {"measurement", out},
                    {"runs", measure::to_json(rows)}}
                   .dump(2)
            << "\n";
  } else {
    ctx.out << family << " " << measure::shape_arg(prob) << " on " << gpu
            << " (measurement: " << out << ")\n"
            << measure::table(rows);
  }
  if (!all_passed) {
    ctx.err << "measure: a correctness check failed (FAIL above): its time means nothing\n";
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND(
    {"measure", "run our kernels and the vendor at one shape on this GPU: measured vs predicted",
     run_measure});

}  // namespace tilesim::cli
