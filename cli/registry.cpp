#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <exception>

#include "command.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

void print_usage(std::ostream& os) {
  os << "tilesim: measure GPU functional units, model tiled kernels, check the model on real kernels\n\n"
        "usage: tilesim <command> [options]   (tilesim <command> --help for its options)\n\n"
        "commands:\n";
  std::vector<Command> cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  for (const auto& c : cmds) {
    os << "  " << c.name << std::string(c.name.size() < 10 ? 10 - c.name.size() : 1, ' ') << c.summary << "\n";
  }
  os << "\nexit codes: 0 ok, 1 runtime error, 2 usage error\n";
}

}  // namespace

int run_cli(const std::vector<std::string>& argv, Context& ctx) {
  if (argv.empty()) {
    print_usage(ctx.err);
    return kExitUsage;
  }
  const std::string& name = argv.front();
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(ctx.out);
    return kExitOk;
  }
  if (name == "--version") {
    ctx.out << "tilesim 0.1.0\n";
    return kExitOk;
  }
  auto it = std::find_if(registry().begin(), registry().end(), [&](const Command& c) { return c.name == name; });
  if (it == registry().end()) {
    ctx.err << "tilesim: error: unknown command '" << name << "'\n\n";
    print_usage(ctx.err);
    return kExitUsage;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  try {
    const int rc = it->run(rest, ctx);
    // Output that did not reach its file (disk full, closed pipe) is a failed command.
    ctx.out.flush();
    if (!ctx.out) {
      ctx.err << "tilesim " << name << ": error: writing the output failed (disk full or closed pipe?)\n";
      return kExitRuntime;
    }
    return rc;
  } catch (const UsageError& e) {
    ctx.err << "tilesim " << name << ": error: " << e.what() << "\n(see tilesim " << name << " --help)\n";
    return kExitUsage;
  } catch (const boost::program_options::error& e) {
    ctx.err << "tilesim " << name << ": error: " << e.what() << "\n(see tilesim " << name << " --help)\n";
    return kExitUsage;
  } catch (const profiles::ProfileError& e) {
    ctx.err << "tilesim " << name << ": error: " << e.what() << "\n";
    return kExitRuntime;
  } catch (const RuntimeError& e) {
    ctx.err << "tilesim " << name << ": error: " << e.what() << "\n";
    return kExitRuntime;
  } catch (const std::exception& e) {
    ctx.err << "tilesim " << name << ": error: " << e.what() << "\n";
    return kExitRuntime;
  }
}

}  // namespace tilesim::cli
