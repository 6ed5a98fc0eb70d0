// `tilesim predict`: the analytic model's time, bottleneck and per-unit utilization for
// one (GPU, problem, schedule, tile); --explain prints the arithmetic, --json the fields.
#include <boost/program_options.hpp>
#include <cstdio>

#include "command.hpp"
#include "problem_options.hpp"
#include "tilesim/input_file.hpp"
#include "tilesim/model/sequence.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void print_text(const model::Prediction& pr, const model::Profile& p, const std::string& scale, std::ostream& os) {
  os << "predict: " << model::describe(pr.problem) << " on " << p.id << " (" << p.name << ")";
  if (!scale.empty()) os << " scaled " << scale;
  os << "\nschedule " << pr.schedule << ": " << pr.desc.summary << "\n";
  os << "tile: " << pr.tile.to_string();
  if (!pr.defaulted.empty()) {
    os << "   (defaults: ";
    for (size_t i = 0; i < pr.defaulted.size(); ++i)
      os << (i ? ", " : "") << pr.defaulted[i] << "=" << model::to_json(pr.tile)[pr.defaulted[i]].dump();
    os << ")";
  }
  os << "\n\n";
  os << "time " << fmt("%.2f", pr.time_us) << " us   " << fmt("%.1f", pr.tflops) << " TFLOP/s   HBM "
     << fmt("%.3f", pr.bytes_hbm / 1e9) << " GB at " << fmt("%.0f", pr.hbm_gbps) << " GB/s\n";
  os << "bottleneck: " << pr.bottleneck << " (" << pr.bound_kind << ")\nwhy: " << pr.why << "\n";
  os << "grid: " << pr.work_items << " work items, " << pr.ctas_per_sm << " CTA(s)/SM (limited by "
     << pr.occupancy_limit << "), " << fmt("%.2f", pr.waves) << " waves, tail efficiency "
     << fmt("%.0f", 100.0 * pr.tail_efficiency) << "%\n";
  os << "iteration: " << fmt("%.0f", pr.iteration_cycles) << " cycles (resource " << fmt("%.0f", pr.resource_bound_cycles)
     << ", dependency " << fmt("%.0f", pr.dependency_bound_cycles) << ")\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-8s %14s %12s %16s\n", "unit", "cycles/iter", "utilization", "kernel bound us");
  os << line;
  for (const auto& u : pr.units) {
    std::snprintf(line, sizeof line, "%-8s %14.1f %11.1f%% %16.2f\n", model::unit_name(u.unit), u.cycles_per_iter,
                  100.0 * u.utilization, u.bound_us);
    os << line;
  }
}

// --sequence F: a layer step (GEMM then decode, KV prefetch into L2 during the GEMM) given
// as {"problem": {"kind": "layer_step", ...}, "tile": {...}}, the shape of a layer_step
// measurement run (model/include/tilesim/model/sequence.hpp).
int run_predict_sequence(const std::string& path, const model::Profile& p, const model::ModelConstants& k, bool json,
                         Context& ctx) {
  nlohmann::json doc;
  try {
    doc = parse_json_strict(read_input_file(path), path);
  } catch (const InputFileError& e) {
    throw UsageError(e.what());
  }
  if (!doc.is_object() || !doc.contains("problem") || !doc.contains("tile"))
    throw UsageError(path + ": a layer step needs the fields 'problem' and 'tile'");
  model::LayerStepPrediction pr;
  try {
    const model::LayerStepProblem prob = model::layer_step_problem_from_json(doc.at("problem"));
    pr = model::predict_layer_step(p, prob, model::layer_step_setup_from_json(doc.at("tile")), k);
  } catch (const model::Infeasible& e) {
    throw UsageError(path + ": a tile is infeasible on " + p.id + ": " + e.what());
  } catch (const model::ModelError& e) {
    throw UsageError(path + ": " + e.what());
  }
  if (json) {
    nlohmann::json j = model::to_json(pr);
    j["gpu"] = p.id;
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << "predict: layer step on " << p.id << " (" << p.name << ")\n"
          << "GEMM " << fmt("%.1f", pr.gemm_us) << " us (" << pr.gemm_ctas << " CTAs, " << pr.free_sms
          << " SMs free), decode cold " << fmt("%.1f", pr.decode_cold_us) << " us, decode after an ideal prefetch "
          << fmt("%.1f", pr.decode_l2_us) << " us\n"
          << "KV " << fmt("%.1f", pr.kv_bytes / 1e6) << " MB, kept in L2 " << fmt("%.1f", pr.kept_bytes / 1e6)
          << " MB (room " << fmt("%.1f", pr.l2_room_bytes / 1e6) << " MB), prefetch at "
          << fmt("%.2f", pr.prefetch_rate_bytes_per_s / 1e12) << " TB/s (HBM idle beside the GEMM "
          << fmt("%.2f", pr.idle_hbm_bytes_per_s / 1e12) << " TB/s), done at " << fmt("%.1f", pr.prefetch_end_us)
          << " us; limited by: " << pr.cap << "\n"
          << "step " << fmt("%.1f", pr.step_us) << " us -> " << fmt("%.1f", pr.step_prefetch_us) << " us with the prefetch ("
          << fmt("%+.1f", pr.gain_pct) << "%)\nwhy: " << pr.why << "\n";
  return kExitOk;
}

int run_predict(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts(
      "tilesim predict --gpu <name|profile.json> <gemm|attention|decode|mla> <problem options> --schedule S "
      "--tile k=v,...");
  opts.add_options()("help,h", "show this help")("gpu", po::value<std::string>(), "GPU: h100 | h200 | h20 | b200 | profile.json")(
      "schedule", po::value<std::string>(), schedule_choices().c_str())(
      "tile", po::value<std::string>(), "tile parameters k=v,k=v (names per schedule: see --help-schedule)")(
      "json", "machine-readable output")("explain", "print the arithmetic behind every number")(
      "scale", po::value<std::string>()->default_value(""), "what-if chip: unit=factor,... (tensor, mufu, fma, alu, cvt, smem, l2, hbm, sms, clock)")(
      "constants", po::value<std::string>()->default_value(""), "model constants JSON (default: built-in data/model/constants.json)")(
      "l2-start", po::value<std::string>()->default_value("memset"),
      "the L2 the kernel starts from: memset (as the runners time: their flush's dirty lines, which a "
      "memory-bound kernel writes back), clean, or warm (clean, and the operands still there from an identical "
      "launch just before, wherever they fit: back-to-back timing loops with no flush)")(
      "ir", "with --json: include the schedule description (the IR the simulator executes)")(
      "sequence", po::value<std::string>(), "a layer step JSON {problem: {kind: layer_step, ...}, tile: {...}} (GEMM then decode, KV prefetch into L2): predicts the step instead of one kernel")(
      "help-schedule", po::value<std::string>(), "the schedule's spec: tile parameters (type, range, default, tune values), constraints with reasons, needed features, kernel rules and compiled instances (--json for programs)");
  add_problem_options(opts);
  const po::variables_map vm = parse_with_problem_kind(args, opts);
  if (vm.count("help")) {
    ctx.out << "predict one kernel's time, bottleneck and per-unit utilization with the analytic model\n\n"
            << opts
            << "\nexamples:\n"
               "  tilesim predict --gpu h100 gemm --m 8192 --n 8192 --k 8192 --schedule gemm_sm90_ws \\\n"
               "      --tile block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1\n"
               "  tilesim predict --gpu b200 attention --batch 4 --heads-q 16 --seq-q 8192 --head-dim 128 \\\n"
               "      --schedule attn_fa4 --tile block_m=128,block_n=128,stages=3 --explain\n"
               "  tilesim predict --gpu h20 mla --batch 64 --heads-q 16 --seq-kv 4096 --schedule mla_decode \\\n"
               "      --tile block_n=64,splits=1,stages=2,kv_on_m=1 --json\n"
               "  tilesim predict --gpu h100 --sequence data/model/layer_step_example.json\n";
    return kExitOk;
  }
  if (vm.count("help-schedule")) {
    try {
      const auto& spec = model::schedule_spec(vm["help-schedule"].as<std::string>());
      if (vm.count("json"))
        ctx.out << model::to_json(spec).dump(2) << "\n";
      else
        ctx.out << model::describe(spec);
      return kExitOk;
    } catch (const model::ModelError& e) {
      throw UsageError(e.what());
    }
  }
  if (!vm.count("gpu")) throw UsageError("--gpu is required (h100, h200, h20, b200 or a profile .json)");
  if (vm.count("sequence")) {
    if (vm.count("kind") || vm.count("schedule") || vm.count("tile"))
      throw UsageError("--sequence takes the problem and tiles from its file: give no problem kind, --schedule or --tile");
    const std::string scale = scale_option(vm);
    return run_predict_sequence(vm["sequence"].as<std::string>(), load_gpu(vm["gpu"].as<std::string>(), scale),
                                load_model_constants(vm["constants"].as<std::string>()), vm.count("json") != 0, ctx);
  }
  if (!vm.count("kind")) throw UsageError("the problem kind is required: gemm, attention, decode or mla");
  if (!vm.count("schedule")) throw UsageError("--schedule is required");
  if (!vm.count("tile")) throw UsageError("--tile is required (k=v,...; see --help-schedule <schedule>)");
  const std::string scale = scale_option(vm);
  const model::Profile p = load_gpu(vm["gpu"].as<std::string>(), scale);
  const model::Problem prob = problem_from_options(vm["kind"].as<std::string>(), vm);
  model::ModelConstants k = load_model_constants(vm["constants"].as<std::string>());
  const std::string l2_start = vm["l2-start"].as<std::string>();
  if (!model::set_l2_start(k, l2_start))
    throw UsageError("--l2-start must be memset, clean or warm, got '" + l2_start + "'");
  const std::string schedule = vm["schedule"].as<std::string>();
  model::Prediction pr;
  try {
    pr = model::predict(p, prob, schedule, model::parse_tile(vm["tile"].as<std::string>()), k, true);
  } catch (const model::Infeasible& e) {
    throw UsageError("tile " + vm["tile"].as<std::string>() + " is infeasible for " + schedule + " on " + p.id + ": " + e.what());
  } catch (const model::ModelError& e) {
    throw UsageError(e.what());
  }
  if (vm.count("json")) {
    nlohmann::json j = model::to_json(pr);
    j["scale"] = scale;
    j["constants"] = k.origin;
    if (vm.count("ir")) j["ir"] = model::to_json(pr.desc);
    ctx.out << j.dump(2) << "\n";
  } else if (vm.count("explain")) {
    ctx.out << model::explain(pr, p);
  } else {
    print_text(pr, p, scale, ctx.out);
  }
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND({"predict", "predict a kernel's time and bottleneck (analytic model)", run_predict});

}  // namespace tilesim::cli
