// `tilesim gpus`: list the built-in profiles; `tilesim gpus show <name|file>`: every
// value with its unit and source; --json prints the profile (sources spelled out).
#include <boost/program_options.hpp>
#include <cstdio>

#include "command.hpp"
#include "tilesim/profile.hpp"
#include "tilesim/profile_io.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;

int run_gpus(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts("tilesim gpus [show <name|profile.json>] [--json]");
  opts.add_options()("help,h", "show this help")("json", "machine-readable output");
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
    ctx.out << "list the built-in GPU profiles, or show one with every value's unit and source\n\n" << opts
            << "\nexamples:\n  tilesim gpus\n  tilesim gpus show b200\n  tilesim gpus show h20 --json\n"
               "  tilesim gpus show my_profile.json\n";
    return kExitOk;
  }
  const bool json = vm.count("json") > 0;
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();

  if (words.empty()) {
    nlohmann::json list = nlohmann::json::array();
    char line[256];
    if (!json) {
      std::snprintf(line, sizeof line, "%-26s %-36s %-7s %5s %14s %10s %9s %9s\n", "id", "name", "arch", "SMs",
                    "bf16 TFLOP/s", "HBM TB/s", "L2 MB", "source");
      ctx.out << line;
    }
    for (const auto& id : profiles::builtin_ids()) {
      const profiles::Profile p = profiles::builtin_profile(id);
      // Peak at the tensor spec clock: the datasheet's own convention.
      const double tflops = p.per_sm.tensor_bf16.value * p.sm_count.value * p.clocks.tensor_spec_mhz.value * 1e6 / 1e12;
      // A profile over a base is a measurement of that chip (tilesim bench output).
      const bool measured = !p.base.empty();
      if (json) {
        list.push_back({{"id", p.id}, {"name", p.name}, {"arch", p.arch}, {"family", p.family},
                        {"sm_count", p.sm_count.value}, {"bf16_dense_tflops_at_spec_clock", tflops},
                        {"hbm_bandwidth_tb_s", p.chip.hbm_bandwidth.value / 1e12}, {"l2_mb", p.capacity.l2.value / 1e6},
                        {"measured", measured}, {"origin", p.origin}});
      } else {
        std::snprintf(line, sizeof line, "%-26s %-36s %-7s %5.0f %14.1f %10.2f %9.1f %9s\n", p.id.c_str(), p.name.c_str(),
                      p.arch.c_str(), p.sm_count.value, tflops, p.chip.hbm_bandwidth.value / 1e12,
                      p.capacity.l2.value / 1e6, measured ? "measured" : "built-in");
        ctx.out << line;
      }
    }
    if (json) {
      ctx.out << list.dump(2) << "\n";
    } else {
      ctx.out << "\n(tilesim gpus show <id> prints every value with its unit and source)\n";
    }
    return kExitOk;
  }
  if (words[0] != "show") throw UsageError("unknown argument '" + words[0] + "' (expected: show <name|profile.json>)");
  if (words.size() != 2) throw UsageError("'show' takes exactly one GPU name or profile file");
  const profiles::Profile p = profiles::resolve_profile(words[1]);
  if (json) {
    ctx.out << profiles::to_json(p).dump(2) << "\n";
  } else {
    ctx.out << profiles::to_text(p);
  }
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND({"gpus", "list GPU profiles; 'gpus show <id>' prints every value with unit and source",
                          run_gpus});

}  // namespace tilesim::cli
