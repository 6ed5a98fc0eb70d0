// The command line and the measurement file the check/sweep kernel runners share (host
// code, no CUDA: tests/runner checks it on the CPU).
//
//   --check            correctness of every compiled instance (NaN-poisoned outputs, a
//                      float reference)
//   --sweep            timings (CUDA events, medians), the runner's shapes or these:
//   --shape S          one shape in the family's keys (shape_args.hpp), repeatable
//   --shapes-file F    the family's list of a shapes file (data/heldout/shapes.json, ...)
//   --quick            fewer shapes / repetitions
//   --out F            the measurement JSON (schema tilesim.measurement.v1)
//   --reps N           timed repetitions per pass (>= the runner's minimum)
//   --seed N           input seed (default: a fresh random one, recorded in the file)
// plus the family's own flags, handled by a callback.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "shape_args.hpp"

namespace tilesim::runner {

namespace detail {
inline int64_t parse_flag_integer(const std::string& flag, const std::string& text) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    throw std::invalid_argument(flag + " '" + text + "' is not an integer");
  return v;
}
}  // namespace detail

struct CheckSweepOptions {
  bool check = false, sweep = false, quick = false;
  std::string out;                  // --out: where the measurement JSON goes ("" = nowhere)
  int reps = 0;                     // --reps (the runner's default when not given)
  uint64_t seed = 0;                // --seed (a fresh random seed when not given)
  std::vector<ShapeValues> shapes;  // --shape / --shapes-file, checked against the family's keys
  std::string args;                 // the command line as given (recorded in the file)
};

// A family flag: gets the flag and a function that consumes its value (throws when there
// is none); returns false for a flag it does not know.
using ExtraFlag =
    std::function<bool(const std::string& flag, const std::function<std::string()>& value)>;

struct CheckSweepSpec {
  std::string family;          // the shapes file's list to read ("decode", "mla", ...)
  std::vector<ShapeKey> keys;  // the family's shape keys
  int default_reps = 0;
  int min_reps = 1;
  ExtraFlag extra;          // the family's own flags (may be empty)
  std::string extra_usage;  // appended to the unknown-argument message, e.g. "--scale S"
};

// Parses argv (argv[0] is the program). Throws std::invalid_argument naming the argument
// that is wrong; at least one of --check / --sweep must be given, shapes only with --sweep.
inline CheckSweepOptions parse_check_sweep(int argc, char** argv, const CheckSweepSpec& spec) {
  CheckSweepOptions o;
  o.reps = spec.default_reps;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    o.args += (i > 1 ? " " : "") + a;
    const std::function<std::string()> value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      o.args += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--check") {
      o.check = true;
    } else if (a == "--sweep") {
      o.sweep = true;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--reps") {
      o.reps = static_cast<int>(detail::parse_flag_integer(a, value()));
      if (o.reps < spec.min_reps)
        throw std::invalid_argument("--reps must be >= " + std::to_string(spec.min_reps));
    } else if (a == "--seed") {
      const int64_t seed = detail::parse_flag_integer(a, value());
      if (seed < 0) throw std::invalid_argument("--seed must be >= 0");
      o.seed = static_cast<uint64_t>(seed);
    } else if (a == "--shape") {
      o.shapes.push_back(parse_shape(value(), spec.keys));
    } else if (a == "--shapes-file") {
      for (auto& v : shapes_from_file(value(), spec.family, spec.keys, {"bf16"}))
        o.shapes.push_back(std::move(v));
    } else if (!spec.extra || !spec.extra(a, value)) {
      throw std::invalid_argument(
          "unknown argument '" + a +
          "' (use --check, --sweep, --quick, --out F, --reps N, --seed N, --shape S, "
          "--shapes-file F" +
          (spec.extra_usage.empty() ? "" : ", " + spec.extra_usage) + ")");
    }
  }
  if (!o.check && !o.sweep)
    throw std::invalid_argument("nothing to do: give --check and/or --sweep");
  if (!o.shapes.empty() && !o.sweep)
    throw std::invalid_argument("--shape / --shapes-file go with --sweep");
  if (o.seed == 0) o.seed = std::random_device{}();  // fresh inputs each run unless pinned
  return o;
}

// The measurement document's envelope; the runner adds its notes, "runs" and
// "clocks_after". `device` is the device report (kernels/common/device_report.hpp).
inline nlohmann::json measurement_doc(const std::string& family, const std::string& tool,
                                      const CheckSweepOptions& o, nlohmann::json device) {
  return {{"schema", "tilesim.measurement.v1"},
          {"family", family},
          {"tool", {{"name", tool}, {"args", o.args}, {"seed", o.seed}}},
          {"device", std::move(device)}};
}

// Writes the document to `path` through a temporary file and a rename, so an interrupted
// run never leaves half a measurement behind. Throws std::runtime_error naming the path.
inline void write_measurement(const nlohmann::json& doc, const std::string& path) {
  const std::filesystem::path p(path), tmp(path + ".tmp");
  {
    std::ofstream f(tmp);
    if (!f) throw std::runtime_error("cannot open --out file " + path);
    f << doc.dump(1) << "\n";
    if (!f) throw std::runtime_error("cannot write --out file " + path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) throw std::runtime_error("cannot write --out file " + path + ": " + ec.message());
}

// main() of a runner: `parse` returns the runner's options (parse errors exit 2 with the
// message), `body(options)` returns the exit code (runtime errors exit 1 with the message).
template <class Parse, class Body>
int guarded_main(const char* tool, Parse&& parse, Body&& body) {
  decltype(parse()) options;
  try {
    options = parse();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 2;
  }
  try {
    return body(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, e.what());
    return 1;
  }
}

}  // namespace tilesim::runner
