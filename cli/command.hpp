// The tilesim CLI is a table of subcommands. Each subcommand lives in its own file
// (cmd_<name>.cpp) and registers itself with TILESIM_REGISTER_COMMAND; main() only
// dispatches. Only subcommands that work are registered: there are no stubs.
//
// Exit codes (every subcommand): 0 ok, 1 runtime error (bad profile file, GPU missing,
// file not writable), 2 usage error (unknown option, bad value, impossible problem).
#pragma once

#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tilesim::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// Throw to exit 2 with the message (main prints "tilesim <cmd>: error: <msg>" and a
// hint to use --help).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Throw to exit 1 with the message.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Context {
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  std::string name;
  std::string summary;  // one line for `tilesim --help`
  // args excludes the program name and the subcommand name. Returns the exit code; may
  // throw UsageError / RuntimeError / tilesim::profiles::ProfileError (-> exit 1).
  std::function<int(const std::vector<std::string>& args, Context& ctx)> run;
};

std::vector<Command>& registry();

struct Registrar {
  explicit Registrar(Command c) { registry().push_back(std::move(c)); }
};

// Runs the CLI (used by main and by the CLI tests, which capture out/err).
int run_cli(const std::vector<std::string>& argv, Context& ctx);

}  // namespace tilesim::cli

#define TILESIM_CLI_CONCAT2(a, b) a##b
#define TILESIM_CLI_CONCAT(a, b) TILESIM_CLI_CONCAT2(a, b)
// Usage: TILESIM_REGISTER_COMMAND({"name", "summary", run_function});
#define TILESIM_REGISTER_COMMAND(...)                                                         \
  [[maybe_unused]] static ::tilesim::cli::Registrar TILESIM_CLI_CONCAT(tilesim_cmd_registrar_, \
                                                                       __LINE__)(::tilesim::cli::Command __VA_ARGS__)
