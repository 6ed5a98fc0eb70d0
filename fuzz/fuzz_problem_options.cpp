// The problem options of predict/tune/simulate: the input is a command line, one argument
// per line (first: the problem kind). Accepted problems are described (sizes, FLOPs); bad
// input is a UsageError or program_options' error (exit 2) or the model's error, never
// anything else.
#include "command.hpp"
#include "fuzz_util.hpp"
#include "problem_options.hpp"
#include "tilesim/model/model.hpp"

#include <sstream>
#include <vector>

namespace {
// Options are cut to this many, so one input stays one command line.
constexpr size_t kMaxArgs = 64;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  namespace po = boost::program_options;
  std::vector<std::string> args;
  std::istringstream in(fuzz::text(data, size));
  for (std::string line; std::getline(in, line) && args.size() < kMaxArgs;) args.push_back(line);
  try {
    po::options_description opts;
    cli::add_problem_options(opts);
    const auto vm = cli::parse_with_problem_kind(args, opts);
    // The subcommands refuse a missing kind with a UsageError before building the problem.
    if (!vm.count("kind")) return 0;
    const model::Problem p = cli::problem_from_options(vm["kind"].as<std::string>(), vm);
    (void)model::describe(p);
  } catch (const cli::UsageError&) {
  } catch (const model::ModelError&) {
  } catch (const po::error&) {
    // program_options' own parse errors are turned into exit 2 by the CLI's dispatcher
  }
  return 0;
}
