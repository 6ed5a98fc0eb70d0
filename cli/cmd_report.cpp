// `tilesim report [--out report/]`: the HTML report from committed data. This side
// predicts every measured run and every published result, adds the GPUs' ceilings,
// per-unit utilization of representative kernels, the model's tile sweep, a simulator
// trace (when `tilesim simulate` is built in) and the calibration, writes them as
// report_input.json, then runs `python3 -m tilesim_analysis.report` (analysis/ under
// <share>, cli/share_dir.hpp), which draws the figures and writes report.html + figures/*.png|svg.
// Bad input (missing data folder, unwritable --out) exits 1 before anything is written;
// the Python side builds the report in a temporary folder and moves it into place only
// when every step succeeded.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "command.hpp"
#include "share_dir.hpp"
#include "report_input.hpp"
#include "validate_calibrate.hpp"
#include "validate_core.hpp"
#include "validate_ncu.hpp"
#include "validate_io.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A simulator trace of the representative FA3 problem, through the `simulate` subcommand
// when this build has it. Returns "" (and says why on stderr) when there is none.
std::string simulator_trace(const fs::path& dir, const model::ModelConstants& k, Context& ctx,
                            std::string* title) {
  bool have = false;
  for (const auto& c : registry()) have = have || c.name == "simulate";
  if (!have) {
    ctx.err << "report: no simulator in this build: the timeline figure is left out\n";
    return "";
  }
  // One head of a 2k-token FA3 forward on H100: 16 CTAs, small enough for a readable
  // timeline (pipeline fill, steady state, drain). The tile is FA3's canonical one (128x128,
  // 2 consumer warpgroups in ping-pong, intra-warpgroup overlap), so the figure shows the
  // schedule the paper describes; if the model calls it infeasible, the tile it ranks first.
  const fs::path trace = dir / "trace_fa3_h100.json";
  std::string tile = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1";
  try {
    const profiles::Profile h100 = profiles::builtin_profile("h100");
    const model::Problem prob = model::problem_from_json({{"kind", "attention"},
                                                          {"batch", 1},
                                                          {"heads_q", 1},
                                                          {"seq_q", 2048},
                                                          {"seq_kv", 2048},
                                                          {"head_dim", 128}});
    try {
      (void)model::predict(h100, prob, "attn_fa3", model::parse_tile(tile), k);
    } catch (const model::Infeasible&) {
      const auto ranked = model::tune(h100, prob, "attn_fa3", nullptr, k);
      if (ranked.empty()) throw std::runtime_error("no feasible attn_fa3 tile");
      tile = ranked.front().tile.to_string();
    }
  } catch (const std::exception& e) {
    ctx.err << "report: no tile for the simulator trace (" << e.what()
            << "): the timeline figure is left out\n";
    return "";
  }
  const std::vector<std::string> argv = {
      "simulate",   "--gpu",    "h100",   "attention", "--batch", "1",           "--heads-q",
      "1",          "--seq-q",  "2048",   "--seq-kv",  "2048",    "--head-dim",  "128",
      "--schedule", "attn_fa3", "--tile", tile,        "--trace", trace.string()};
  std::ostringstream out, err;
  Context sub{out, err};
  const int rc = run_cli(argv, sub);
  if (rc != 0 || !fs::is_regular_file(trace)) {
    ctx.err << "report: simulate failed (exit " << rc << "): " << err.str()
            << "report: the timeline figure is left out\n";
    return "";
  }
  *title = "simulator: attn_fa3 on h100, one head, 2k tokens, d128, tile " + tile;
  return trace.string();
}

int run_report(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts("tilesim report [options]");
  opts.add_options()("help,h", "show this help")("out",
                                                 po::value<std::string>()->default_value("report"),
                                                 "output folder (report.html, figures/)")(
      "data", po::value<std::string>()->default_value(""),
      (std::string("data folder; default: data/ under ") + kShareDirHelp).c_str())(
      "analysis", po::value<std::string>()->default_value(""),
      (std::string("the folder holding the Python package tilesim_analysis; default: analysis/ under ") +
       kShareDirHelp).c_str())(
      "python", po::value<std::string>()->default_value("python3"), "Python interpreter")(
      "constants", po::value<std::string>(), "model constants file (default: built-in)")(
      "trace", po::value<std::vector<std::string>>(),
      "extra Chrome trace JSON to draw (repeatable)")("require-all",
                                                      "fail unless every figure could be drawn");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    ctx.out
        << "build the HTML report (figures embedded; also saved as PNG and SVG) from committed "
           "data\n\n"
        << opts
        << "\nexamples:\n  tilesim report\n  tilesim report --out /tmp/r --trace sim_trace.json\n";
    return kExitOk;
  }
  const std::string data_dir =
      vm["data"].as<std::string>().empty() ? (share_dir() / "data").string() : vm["data"].as<std::string>();
  const fs::path out_dir = fs::absolute(vm["out"].as<std::string>());
  const fs::path analysis =
      vm["analysis"].as<std::string>().empty() ? share_dir() / "analysis" : fs::path(vm["analysis"].as<std::string>());
  if (!fs::is_directory(data_dir))
    throw RuntimeError("data folder '" + data_dir + "' does not exist");
  if (!fs::is_directory(analysis / "tilesim_analysis"))
    throw RuntimeError("analysis package not found under '" + analysis.string() +
                       "' (use --analysis)");
  if (fs::exists(out_dir) && !fs::is_directory(out_dir))
    throw RuntimeError("--out '" + out_dir.string() + "' exists and is not a folder");
  if (fs::exists(out_dir.parent_path()) && !fs::is_directory(out_dir.parent_path()))
    throw RuntimeError("--out '" + out_dir.string() + "': '" + out_dir.parent_path().string() +
                       "' is a file, not a folder");
  if (!fs::is_directory(out_dir.parent_path()))
    throw RuntimeError("--out '" + out_dir.string() + "': folder '" +
                       out_dir.parent_path().string() + "' does not exist");
  if (access(out_dir.parent_path().c_str(), W_OK) != 0 ||
      (fs::exists(out_dir) && access(out_dir.c_str(), W_OK) != 0))
    throw RuntimeError("--out '" + out_dir.string() + "' is not writable");
  std::vector<std::string> traces;
  if (vm.count("trace")) traces = vm["trace"].as<std::vector<std::string>>();
  for (const auto& t : traces)
    if (!fs::is_regular_file(t)) throw RuntimeError("--trace '" + t + "' not found");

  model::ModelConstants k = model::default_constants();
  if (vm.count("constants")) {
    try {
      k = model::load_constants_file(vm["constants"].as<std::string>());
    } catch (const model::ModelError& e) {
      throw RuntimeError(e.what());
    }
  }

  // Scratch folder for report_input.json and the simulator trace; removed at the end.
  std::string tmpl = (fs::temp_directory_path() / "tilesim-report-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw RuntimeError("cannot create a temporary folder");
  const fs::path tmp(tmpl);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};

  std::vector<validate::PredictedRun> runs;
  try {
    runs = validate::predict_runs(validate::load_runs(data_dir), k);
  } catch (const std::runtime_error& e) {
    throw RuntimeError(e.what());
  }
  ctx.err << "report: " << runs.size() << " measured runs loaded and predicted\n";
  validate::assign_splits(runs);
  json records = json::array();
  for (const auto& r : runs) {
    if (r.status == "untimed") continue;  // check-only runs have no time
    json rec = validate::record_json(r);
    validate::add_model_best(rec, r, k);
    records.push_back(rec);
  }
  const fs::path published = fs::path(data_dir) / "published" / "published_results.json";
  if (fs::is_regular_file(published)) {
    try {
      for (auto& r : validate::published_records(published.string(), k, ctx.err))
        records.push_back(r);
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
  }
  json gpus = json::array();
  for (const char* id : {"h100", "h200", "h20", "b200"})
    gpus.push_back(validate::gpu_ceilings_json(profiles::builtin_profile(id)));
  ctx.err << "report: utilization of representative kernels on h100, h20, b200\n";
  const json util = validate::utilization_entries(k);

  // Calibration: the committed fit (data/model/calibrated_constants.json, written by
  // `tilesim validate --calibrate --write-constants`) when there is one: it is data with
  // provenance and the report stays fast; otherwise a fit on the spot.
  json calibration = nullptr;
  const fs::path cal_file = fs::path(data_dir) / "model" / "calibrated_constants.json";
  if (fs::is_regular_file(cal_file)) {
    try {
      std::ifstream in(cal_file);
      const json cj = json::parse(in);
      calibration = cj.at("calibration");
      calibration["note"] = "from " + cal_file.string() + " (" +
                            cj.at("calibration").value("date", "?") + "). " +
                            calibration.value("note", "");
    } catch (const std::exception& e) {
      throw RuntimeError(cal_file.string() + ": cannot read the calibration (" + e.what() + ")");
    }
  } else {
    int n_train = 0;
    for (const auto& r : runs) n_train += r.split == "train" ? 1 : 0;
    if (n_train >= 3) {
      ctx.err << "report: calibrating on " << n_train << " training runs\n";
      try {
        calibration = validate::calibration_summary_json(validate::calibrate(runs, k));
      } catch (const std::runtime_error& e) {
        ctx.err << "report: calibration skipped: " << e.what() << "\n";
      }
    }
  }
  json trace_list = json::array();
  for (const auto& t : traces)
    trace_list.push_back(
        {{"title", fs::path(t).filename().string()}, {"path", fs::absolute(t).string()}});
  std::string sim_title;
  const std::string sim_trace = simulator_trace(tmp, k, ctx, &sim_title);
  if (!sim_trace.empty()) trace_list.push_back({{"title", sim_title}, {"path", sim_trace}});

  json doc = {{"schema", "tilesim.report_input.v1"},
              {"generated_by",
               "tilesim report (" + validate::utc_date() + ", constants: " + k.origin + ")"},
              {"data_dir", data_dir},
              {"gpus", gpus},
              {"records", records},
              {"summary",
               {{"measured", validate::accuracy_summary(records, "measured")},
                {"published", validate::accuracy_summary(records, "published")}}},
              {"utilization", util},
              {"traces", trace_list},
              {"calibration", calibration}};
  {  // the model against hardware counters: predicted vs ncu clock and utilization
    json counters = json::array();
    try {
      for (const auto& c : validate::compare_counters(data_dir, k, "", nullptr)) counters.push_back(validate::to_json(c));
    } catch (const std::runtime_error& e) {
      ctx.err << "report: hardware counters skipped: " << e.what() << "\n";
    }
    doc["counters"] = counters;
  }
  ctx.err << "report: asymmetric-scaling study (H100 -> B200, each unit x2)\n";
  doc["scaling"] = validate::scaling_study(k);
  try {
    doc["model_sweep"] = validate::model_sweep(k);
  } catch (const std::exception& e) {
    ctx.err << "report: no model sweep: " << e.what() << "\n";
  }
  const fs::path input = tmp / "report_input.json";
  validate::write_file_atomic(input.string(), doc.dump(1) + "\n");

  std::string cmd = "PYTHONPATH=" + shell_quote(analysis.string()) + " " +
                    shell_quote(vm["python"].as<std::string>()) +
                    " -m tilesim_analysis.report --input " + shell_quote(input.string()) +
                    " --out " + shell_quote(out_dir.string());
  if (vm.count("require-all")) cmd += " --require-all";
  ctx.err << "report: drawing the figures (python3 -m tilesim_analysis.report)\n";
  ctx.err.flush();
  const int status = std::system(cmd.c_str());
  if (status == -1 || !WIFEXITED(status))
    throw RuntimeError("could not run " + vm["python"].as<std::string>());
  if (WEXITSTATUS(status) != 0)
    throw RuntimeError("the Python report step failed (exit " +
                       std::to_string(WEXITSTATUS(status)) + "; its message is above)");
  // Keep the input (and the simulator trace, for Perfetto) next to the report: anyone can
  // redraw it without the C++ side.
  if (!sim_trace.empty()) {
    const fs::path kept = out_dir / fs::path(sim_trace).filename();
    std::error_code ec;
    fs::copy_file(sim_trace, kept, fs::copy_options::overwrite_existing, ec);
    for (auto& t : doc["traces"])
      if (t["path"] == sim_trace) t["path"] = ec ? json(nullptr) : json(kept.filename().string());
  }
  validate::write_file_atomic((out_dir / "report_input.json").string(), doc.dump(1) + "\n");
  ctx.out << "wrote " << (out_dir / "report.html").string() << "\n";
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND(
    {"report", "HTML report: roofline, utilization, timeline, predicted vs measured, tile sweep",
     run_report});

}  // namespace tilesim::cli
