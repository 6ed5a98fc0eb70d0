// `tilesim validate`: the model against real kernels.
//   default   recompute from the committed measurements (data/measurements/{gemm,attention,
//             decode}): per family MAPE, max error, Spearman rank correlation, top-pick
//             regret, per shape; text table or --json. No GPU needed.
//   --run     on a GPU machine: first run the kernel sweeps (tilesim-gemm-bench,
//             tilesim-attn-bench, tilesim-decode-bench with --sweep --out) into
//             data/measurements/<family>/, then recompute as above.
//   --check   the accuracy gate: exit 1 if any family is worse than the committed
//             baseline (data/model/accuracy_baseline.json).
//   --write-baseline FILE --note WHY   update the baseline deliberately.
//   --calibrate [--write-constants FILE]   least-squares fit of model constants on a
//             training split, judged on the held-out split.
//   --energy  the model's kernel energies against the sustained-load traces, and the
//             least-squares energies (how the energy constants were fitted).
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "command.hpp"
#include "report_input.hpp"
#include "runner_exec.hpp"
#include "share_dir.hpp"
#include "validate_calibrate.hpp"
#include "validate_energy.hpp"
#include "validate_ncu.hpp"
#include "validate_traced_clock.hpp"
#include "validate_core.hpp"
#include "validate_io.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

// Runs `cmd` with its --out pointing at a hidden partial file in `dir`; renames it to
// `name` only when the command succeeded, so a failed run leaves nothing behind.
void run_into(const std::string& what, const std::string& cmd_prefix, const fs::path& dir,
              const std::string& name, Context& ctx) {
  std::string partial_name = ".";  // appended, not "." + str: GCC 12 warns falsely (-Wrestrict)
  partial_name += name;
  partial_name += ".partial";
  const fs::path partial = dir / partial_name;
  const fs::path out = dir / name;
  ctx.err << "validate: running " << what << "\n";
  const std::string cmd = cmd_prefix + " --out " + shell_quote(partial.string());
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::is_regular_file(partial)) {
    std::error_code ec;
    fs::remove(partial, ec);
    throw RuntimeError(what + " failed (exit status " + std::to_string(rc) + "); nothing written");
  }
  fs::rename(partial, out);
  ctx.err << "validate: wrote " << out.string() << "\n";
}

void run_sweeps(const std::string& data_dir, const std::string& family, const std::string& bin_dir,
                Context& ctx) {
  if (!gpu_present())
    throw RuntimeError(
        "--run needs a GPU: nvidia-smi finds none (without --run, validate uses committed data)");
  // Vendor references that are not inside the runners (cuBLAS is timed by the GEMM runner
  // itself): torch SDPA (cuDNN and flash backends) and torch decode, scripts in kernels/.
  const fs::path scripts = share_dir() / "scripts";
  const std::map<std::string, fs::path> vendor_scripts = {{"attention", scripts / "torch_sdpa_ref.py"},
                                                          {"decode", scripts / "torch_decode_ref.py"}};
  const bool have_torch = std::system("python3 -c 'import torch' > /dev/null 2>&1") == 0;
  const std::string stamp = validate::utc_stamp();
  for (const auto& fam : validate::kernel_families()) {
    if (!family.empty() && family != fam) continue;
    const std::string name = runner_name(fam);
    const std::string bin = find_runner(name, bin_dir);
    const fs::path dir = fs::path(data_dir) / "measurements" / fam;
    fs::create_directories(dir);
    run_into(name + " --sweep", shell_quote(bin) + " --sweep", dir, fam + "_" + stamp + "_sweep.json", ctx);
    auto v = vendor_scripts.find(fam);
    if (v == vendor_scripts.end()) continue;
    if (!have_torch || !fs::is_regular_file(v->second)) {
      ctx.err << "validate: vendor reference for " << fam << " skipped ("
              << (have_torch ? v->second.string() + " not found" : "python3 cannot import torch")
              << ")\n";
      continue;
    }
    run_into(v->second.filename().string(), "python3 " + shell_quote(v->second.string()), dir,
             fam + "_" + stamp + "_vendor.json", ctx);
  }
}

// Per GPU: MAPE and max |error| of the predicted published results; each row with its
// citation. Errors are (predicted - published) / published: < 0 means the model is too fast.
int published_view(const std::string& data_dir, const model::ModelConstants& k, bool as_json,
                   Context& ctx) {
  const fs::path path = fs::path(data_dir) / "published" / "published_results.json";
  json recs;
  try {
    recs = validate::published_records(path.string(), k, ctx.err);
  } catch (const std::runtime_error& e) {
    throw RuntimeError(e.what());
  }
  struct Acc {
    int n = 0, unpredicted = 0;
    double sum_abs = 0, max_abs = 0, sum = 0;
    void add(const json& r) {
      if (!r.contains("error_pct") || !r["error_pct"].is_number()) {
        ++unpredicted;
        return;
      }
      const double e = r["error_pct"].get<double>();
      ++n;
      sum += e;
      sum_abs += std::fabs(e);
      max_abs = std::max(max_abs, std::fabs(e));
    }
    json to_json() const {
      return {{"n", n},
              {"unpredicted", unpredicted},
              {"mape_pct", n ? json(sum_abs / n) : json(nullptr)},
              {"max_abs_error_pct", n ? json(max_abs) : json(nullptr)},
              {"bias_pct", n ? json(sum / n) : json(nullptr)}};
    }
  };
  // Per GPU, and per GPU and source.
  std::map<std::string, Acc> by_gpu;
  std::map<std::string, std::map<std::string, Acc>> by_source;
  for (const auto& r : recs) {
    const std::string gpu = r.at("gpu").get<std::string>();
    by_gpu[gpu].add(r);
    by_source[gpu][r.at("source_id").get<std::string>()].add(r);
  }
  json summary = json::object(), summary_by_source = json::object();
  for (const auto& [gpu, a] : by_gpu) summary[gpu] = a.to_json();
  for (const auto& [gpu, srcs] : by_source)
    for (const auto& [src, a] : srcs) summary_by_source[gpu][src] = a.to_json();
  if (as_json) {
    ctx.out << json{{"schema", "tilesim.validation_published.v1"},
                    {"file", path.string()},
                    {"constants", k.origin},
                    {"summary", summary},
                    {"summary_by_source", summary_by_source},
                    {"records", recs}}
                   .dump(2)
            << "\n";
    return kExitOk;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %-6s %-18s %11s %11s %8s  %s\n", "published result", "gpu",
                "impl", "pub. us", "model us", "error %", "model tile / why not predicted");
  ctx.out << line;
  for (const auto& r : recs) {
    const bool ok = r.contains("error_pct") && r["error_pct"].is_number();
    const std::string gpu = r.at("gpu").get<std::string>() +
                            (r.contains("model_gpu") ? "*" : "");
    std::snprintf(line, sizeof line, "%-40s %-6s %-18s %11.1f %11s %8s  %s\n",
                  r.value("id", "").c_str(), gpu.c_str(), r.value("impl", "").c_str(),
                  r.at("measured_us").get<double>(),
                  ok ? std::to_string(static_cast<long long>(std::llround(r["predicted_us"].get<double>()))).c_str() : "-",
                  ok ? (std::string(r["error_pct"].get<double>() >= 0 ? "+" : "") +
                        std::to_string(static_cast<int>(std::lround(r["error_pct"].get<double>()))))
                           .c_str()
                     : "-",
                  ok ? r.value("model_tile", "").c_str() : r.value("reason", "").c_str());
    ctx.out << line;
  }
  ctx.out << "\n(* predicted on the profile named in the entry's model_gpu)\n";
  for (const auto& [gpu, s] : summary.items()) {
    if (s["n"].get<int>() == 0) {
      std::snprintf(line, sizeof line, "%-6s n=%3d  (none predicted; %d kept for the record)\n", gpu.c_str(), 0,
                    s["unpredicted"].get<int>());
    } else {
      std::snprintf(line, sizeof line, "%-6s n=%3d  MAPE %5.1f %%  max %5.1f %%  bias %+5.1f %%  (%d not predicted)\n",
                    gpu.c_str(), s["n"].get<int>(), s["mape_pct"].get<double>(),
                    s["max_abs_error_pct"].get<double>(), s["bias_pct"].get<double>(),
                    s["unpredicted"].get<int>());
    }
    ctx.out << line;
    for (const auto& [src, t] : summary_by_source[gpu].items()) {
      if (t["n"].get<int>() == 0) continue;
      std::snprintf(line, sizeof line, "  %-30s n=%3d  MAPE %5.1f %%  max %5.1f %%  bias %+5.1f %%\n", src.c_str(),
                    t["n"].get<int>(), t["mape_pct"].get<double>(), t["max_abs_error_pct"].get<double>(),
                    t["bias_pct"].get<double>());
      ctx.out << line;
    }
  }
  return kExitOk;
}

int run_validate(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts("tilesim validate [options]");
  opts.add_options()("help,h", "show this help")(
      "data", po::value<std::string>()->default_value(""),
      (std::string("data folder (measurements/, model/); default: data/ under ") + kShareDirHelp).c_str())("family", po::value<std::string>()->default_value(""),
                                             "only this family: gemm | attention | decode")(
      "json", "machine-readable output (summary per family and shape, and every run)")(
      "constants", po::value<std::string>(), "model constants file (default: the built-in ones)")(
      "run", "GPU machine: run the kernel sweeps into data/measurements first")(
      "bin-dir", po::value<std::string>()->default_value(""),
      "folder of the runner binaries (with --run)")(
      "check", "accuracy gate: exit 1 if a family is worse than the baseline")(
      "baseline", po::value<std::string>(),
      "baseline file (default: <data>/model/accuracy_baseline.json)")(
      "write-baseline", po::value<std::string>(),
      "write the current figures as the new baseline (needs --note)")(
      "note", po::value<std::string>()->default_value(""),
      "why the baseline changes (with --write-baseline)")(
      "calibrate", "fit model constants on a training split, report the held-out error")(
      "fit", po::value<std::string>()->default_value(""),
      "constants to fit, comma-separated (with --calibrate)")(
      "write-constants", po::value<std::string>(),
      "write the calibrated constants file (with --calibrate)")(
      "published", "the published view: every result in <data>/published/published_results.json "
                   "(B200, H20, H800 kernels others measured) predicted, with its error and citation")(
      "energy", "kernel energy per launch: the sustained-load traces (runners' --sustain-ms) against the "
                "model's energies, and the least-squares energies over them");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    ctx.out
        << "check the model against measured kernels: per family MAPE, max error, Spearman rank "
           "correlation, top-pick regret (shapes where the model's pick is within 3% / 5% of the measured best), per "
           "shape\n\n"
        << opts
        << "\nexamples:\n  tilesim validate\n  tilesim validate --family attention --json\n"
           "  tilesim validate --check\n  tilesim validate --published   (B200/H20/H800 results from papers, PRs, issues)\n  tilesim validate --energy   (kernel energies vs the sustained-load traces)\n  tilesim validate --calibrate --write-constants "
           "data/model/calibrated_constants.json\n  tilesim validate --run --bin-dir "
           "build/device/bin   (GPU)\n";
    return kExitOk;
  }
  const std::string data_dir =
      vm["data"].as<std::string>().empty() ? (share_dir() / "data").string() : vm["data"].as<std::string>();
  const std::string family = vm["family"].as<std::string>();
  if (!family.empty()) {
    const auto& fams = validate::kernel_families();
    if (std::find(fams.begin(), fams.end(), family) == fams.end()) {
      std::string listed;
      for (const auto& f : fams) listed += (listed.empty() ? "" : ", ") + f;
      throw UsageError("--family must be one of " + listed + ", got '" + family + "'");
    }
  }
  if (vm.count("write-baseline") && vm["note"].as<std::string>().empty())
    throw UsageError("--write-baseline needs --note '<why the baseline changes>'");
  if (vm.count("write-constants") && !vm.count("calibrate"))
    throw UsageError("--write-constants needs --calibrate");
  if (!fs::is_directory(data_dir))
    throw RuntimeError("data folder '" + data_dir + "' does not exist");

  model::ModelConstants constants = model::default_constants();
  if (vm.count("constants")) {
    try {
      constants = model::load_constants_file(vm["constants"].as<std::string>());
    } catch (const model::ModelError& e) {
      throw RuntimeError(e.what());
    }
  }
  if (vm.count("published")) {
    if (vm.count("run") || vm.count("check") || vm.count("calibrate") || vm.count("write-baseline"))
      throw UsageError("--published is a view of its own; it takes --data, --constants and --json only");
    return published_view(data_dir, constants, vm.count("json") > 0, ctx);
  }
  if (vm.count("run")) run_sweeps(data_dir, family, vm["bin-dir"].as<std::string>(), ctx);

  std::vector<validate::MeasuredRun> runs;
  try {
    runs = validate::load_runs(data_dir);
  } catch (const std::runtime_error& e) {
    throw RuntimeError(e.what());
  }
  if (!family.empty()) std::erase_if(runs, [&](const auto& r) { return r.family != family; });
  auto predicted = validate::predict_runs(runs, constants);
  if (vm.count("energy")) {
    try {
      ctx.out << validate::energy_table(validate::fit_energy(predicted));
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
    return kExitOk;
  }
  const auto summary = validate::summarize(predicted);
  const auto summary_train = validate::summarize(validate::runs_with_heldout(predicted, false));
  const auto summary_heldout = validate::summarize(validate::runs_with_heldout(predicted, true));
  validate::UnmatchedRuns ncu_unmatched;
  std::vector<validate::CounterComparison> counters;
  try {
    counters = validate::compare_counters(data_dir, constants, family, &ncu_unmatched);
  } catch (const std::runtime_error& e) {
    throw RuntimeError(e.what());
  }
  // Held-out and training shapes apart, as the timed runs: the clock model is fitted on the
  // training runs' counters only.
  auto counters_with_heldout = [&](bool h) {
    std::vector<validate::CounterComparison> v;
    for (const auto& c : counters)
      if (c.heldout == h) v.push_back(c);
    return v;
  };
  const auto counter_summary_heldout = validate::summarize_counters(counters_with_heldout(true), ncu_unmatched.heldout);
  const auto counter_summary_train = validate::summarize_counters(counters_with_heldout(false), ncu_unmatched.train);
  const auto traced_clock_heldout = validate::summarize_traced_clocks(predicted, true);
  const auto traced_clock_train = validate::summarize_traced_clocks(predicted, false);

  json out = {
      {"schema", "tilesim.validation.v1"}, {"data_dir", data_dir}, {"constants", constants.origin}};
  int rc = kExitOk;

  if (vm.count("calibrate")) {
    const std::string split_rule = validate::assign_splits(predicted);
    validate::CalibrationOptions co;
    if (!vm["fit"].as<std::string>().empty()) {
      co.names.clear();
      std::stringstream ss(vm["fit"].as<std::string>());
      for (std::string n; std::getline(ss, n, ',');) co.names.push_back(n);
    }
    validate::CalibrationResult cal;
    try {
      cal = validate::calibrate(predicted, constants, co);
      cal.split_rule = split_rule;
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
    out["calibration"] = validate::calibration_summary_json(cal);
    if (vm.count("write-constants")) {
      const std::string path = vm["write-constants"].as<std::string>();
      try {
        validate::write_file_atomic(path, validate::calibrated_constants_json(
                                              cal, validate::utc_date(), "data/measurements")
                                                  .dump(2) +
                                              "\n");
      } catch (const std::runtime_error& e) {
        throw RuntimeError(e.what());
      }
      ctx.err << "validate: wrote " << path << "\n";
    }
  }

  std::vector<std::string> failures, improvements;
  if (vm.count("check")) {
    const std::string bpath =
        vm.count("baseline") ? vm["baseline"].as<std::string>()
                             : (fs::path(data_dir) / "model" / "accuracy_baseline.json").string();
    validate::Baseline b;
    try {
      b = validate::load_baseline(bpath);
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
    failures = validate::gate_failures(summary, summary_heldout, b);
    // Improvements are not failures, but a baseline that lags lets a later regression
    // through unnoticed: say so, so that someone tightens it deliberately.
    const auto& gated = b.heldout.empty() ? summary : summary_heldout;
    const auto& base = b.heldout.empty() ? b.families : b.heldout;
    for (const auto& [fam, cur] : gated) {
      auto it = base.find(fam);
      if (it == base.end() || cur.n == 0) continue;
      if (cur.mape_pct < it->second.mape_pct - 0.5) {
        char msg[256];
        std::snprintf(msg, sizeof msg,
                      "family '%s': MAPE %.2f%% is better than the baseline %.2f%%: tighten it "
                      "(--write-baseline ... --note)",
                      fam.c_str(), cur.mape_pct, it->second.mape_pct);
        improvements.push_back(msg);
      }
    }
    out["gate"] = {{"baseline", bpath},
                   {"passed", failures.empty()},
                   {"failures", failures},
                   {"improvements", improvements}};
    if (!failures.empty()) rc = kExitRuntime;
  }
  if (vm.count("write-baseline")) {
    const std::string path = vm["write-baseline"].as<std::string>();
    try {
      validate::write_file_atomic(
          path, validate::baseline_json(summary, summary_heldout, validate::utc_date(), vm["note"].as<std::string>(),
                                        constants.origin)
                        .dump(2) +
                    "\n");
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
    ctx.err << "validate: wrote " << path << "\n";
  }

  if (vm.count("json")) {
    json fams = json::object();
    for (const auto& [f, s] : summary) fams[f] = validate::to_json(s);
    out["families"] = fams;
    for (const auto& [key, sum] : {std::pair{"train", &summary_train}, std::pair{"heldout", &summary_heldout}}) {
      json part = json::object();
      for (const auto& [f, s] : *sum) part[f] = validate::to_json(s);
      out[key] = part;
    }
    json rs = json::array();
    for (const auto& r : predicted) rs.push_back(validate::to_json(r));
    out["runs"] = rs;
    json per_run = json::array();
    for (const auto& c : counters) per_run.push_back(validate::to_json(c));
    out["hardware_counters"] = {{"heldout", validate::to_json(counter_summary_heldout)},
                                {"train", validate::to_json(counter_summary_train)},
                                {"runs", per_run}};
    out["traced_clock"] = {{"heldout", validate::to_json(traced_clock_heldout)},
                           {"train", validate::to_json(traced_clock_train)}};
    ctx.out << out.dump(2) << "\n";
  } else {
    if (runs.empty()) {
      ctx.out << "no measurements under " << (fs::path(data_dir) / "measurements").string()
              << "/{gemm,attention,decode} yet\n";
    } else {
      bool any_heldout = false;
      for (const auto& r : runs) any_heldout = any_heldout || r.heldout;
      if (any_heldout) {
        ctx.out << "HELD-OUT shapes (data/heldout/shapes.json: never used to fit or choose anything):\n"
                << validate::summary_table(summary_heldout, true)
                << "\nTRAINING shapes (every other committed measurement):\n"
                << validate::summary_table(summary_train, false) << "\nALL runs:\n"
                << validate::summary_table(summary, false);
      } else {
        ctx.out << validate::summary_table(summary, true);
      }
      // Unpredicted runs, grouped by reason: each reason is a model or naming gap to fix.
      std::map<std::string, int> reasons;
      for (const auto& r : predicted)
        if (r.status == "unpredicted")
          ++reasons[r.run.family + " " + r.run.schedule + ": " + r.reason];
      if (!reasons.empty()) ctx.out << "\nunpredicted measured runs, by reason:\n";
      for (const auto& [why, n] : reasons) ctx.out << "  " << n << " x " << why << "\n";
      if (!counters.empty()) {
        ctx.out << "\nhardware counters (ncu --clock-control none, data/measurements/ncu): predicted vs measured\n";
        ctx.out << "  HELD-OUT shapes: " << validate::counter_table(counter_summary_heldout);
        ctx.out << "  training shapes: " << validate::counter_table(counter_summary_train);
      }
      if (traced_clock_heldout.n + traced_clock_train.n > 0) {
        ctx.out << "\nSM clock of traced launches (the runners' --stage-trace / --clock-trace: clock64 / %globaltimer "
                   "after the timed passes): predicted vs measured\n";
        ctx.out << "  HELD-OUT shapes: " << validate::traced_clock_line(traced_clock_heldout);
        ctx.out << "  training shapes: " << validate::traced_clock_line(traced_clock_train);
      }
    }
    if (out.contains("calibration")) {
      const auto& c = out["calibration"];
      char line[256];
      ctx.out << "\ncalibration (" << c["iterations"].get<int>()
              << " iterations, least squares on log(pred/meas)):\n";
      for (const auto& k : c["constants"]) {
        std::snprintf(line, sizeof line, "  %-30s %10.3f -> %10.3f %-7s%s\n",
                      k["name"].get<std::string>().c_str(), k["initial"].get<double>(),
                      k["value"].get<double>(), k["unit"].get<std::string>().c_str(),
                      k["identifiable"].get<bool>() ? "" : "  (not constrained by the data: kept)");
        ctx.out << line;
      }
      for (const char* split : {"train", "test"}) {
        const auto& s = c[split];
        const auto pct = [](const json& v) {
          return v.is_number() ? v.get<double>() : std::nan("");
        };
        std::snprintf(line, sizeof line, "  %-5s n=%4d  MAPE %6.2f%% -> %6.2f%%\n", split,
                      s["n"].get<int>(), pct(s["mape_before_pct"]), pct(s["mape_after_pct"]));
        ctx.out << line;
      }
    }
    if (vm.count("check")) {
      ctx.out << (failures.empty() ? "\naccuracy gate: passed\n" : "\naccuracy gate: FAILED\n");
      for (const auto& f : failures) ctx.out << "  " << f << "\n";
      for (const auto& f : improvements) ctx.out << "  note: " << f << "\n";
    }
  }
  return rc;
}

}  // namespace

TILESIM_REGISTER_COMMAND({"validate",
                          "model vs measured kernels: MAPE, max error, rank correlation, top pick",
                          run_validate});

}  // namespace tilesim::cli
