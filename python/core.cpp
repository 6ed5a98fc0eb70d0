// tilesim._core: the C++ core as a Python extension (nanobind). One entry point runs a
// tilesim subcommand in-process, exactly as the CLI does (same option parsing, same
// checks, same messages), and returns its exit code and both output streams; the Python
// layer (tilesim/__init__.py) asks for --json, turns it into dicts and the exit code into
// exceptions. Nothing is re-implemented here, so the package cannot drift from the CLI.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "command.hpp"

namespace nb = nanobind;

NB_MODULE(_core, m) {
  m.doc() = "tilesim's C++ core (profiles, analytic model, simulator, validate)";
  m.def(
      "run",
      [](const std::vector<std::string>& args) {
        std::ostringstream out, err;
        int rc = 0;
        {
          // The model and the simulator never touch Python objects: other threads may run.
          nb::gil_scoped_release unlocked;
          tilesim::cli::Context ctx{out, err};
          rc = tilesim::cli::run_cli(args, ctx);
        }
        return std::make_tuple(rc, out.str(), err.str());
      },
      nb::arg("args"),
      "Runs `tilesim <args...>` in-process; returns (exit code, stdout, stderr). Exit codes: "
      "0 ok, 1 runtime error, 2 usage error.");
}
