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
//   --seed N           input seed (default: the runner's, else a fresh random one; recorded)
//   --l2-flush M       what a sweep's flush leaves in the L2: memset (default: its dirty
//                      lines) or clean (written back before each timed launch)
//   --list             (runners that declare it) the compiled kernels, no GPU needed
// plus the family's own flags, handled by a callback (the *_flag helpers below build it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
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
  bool list = false;                // --list (only where the spec allows it)
  std::string out;                  // --out: where the measurement JSON goes ("" = nowhere)
  int reps = 0;                     // --reps (the runner's default when not given)
  uint64_t seed = 0;                // --seed (a fresh random seed when not given)
  std::vector<ShapeValues> shapes;  // --shape / --shapes-file, checked against the family's keys
  // --l2-flush clean: the sweep's flush also writes the L2's dirty lines back before each
  // timed launch (default "memset": they are left for the timed kernel to evict).
  bool l2_flush_clean = false;
  std::string args;                 // the command line as given (recorded in the file)
};

// A family flag: gets the flag and a function that consumes its value (throws when there
// is none); returns false for a flag it does not know.
using ExtraFlag =
    std::function<bool(const std::string& flag, const std::function<std::string()>& value)>;

// The list of a shapes file a runner reads and the dtype its entries may name.
struct ShapeList {
  std::string name;
  std::string dtype = "bf16";
};

struct CheckSweepSpec {
  // The fields every runner gives; the optional ones below are set by name.
  CheckSweepSpec(std::string family_, std::vector<ShapeKey> keys_, int default_reps_, int min_reps_,
                 ExtraFlag extra_ = {}, std::string extra_usage_ = "")
      : family(std::move(family_)),
        keys(std::move(keys_)),
        default_reps(default_reps_),
        min_reps(min_reps_),
        extra(std::move(extra_)),
        extra_usage(std::move(extra_usage_)) {}
  std::string family;          // the shapes file's list to read ("decode", "mla", ...)
  std::vector<ShapeKey> keys;  // the family's shape keys
  int default_reps = 0;
  int min_reps = 1;
  ExtraFlag extra;          // the family's own flags (may be empty)
  std::string extra_usage;  // appended to the unknown-argument message, e.g. "--scale S"
  // Optional, for runners with more to their command line:
  bool shapes_with_check = false;  // given shapes replace the check shapes too
  bool list_flag = false;          // --list is an action of its own (no --check / --sweep)
  uint64_t default_seed = 0;       // the seed without --seed (0: a fresh random one)
  // Other names of shared flags a runner kept from before (e.g. "--config" for "--shape").
  std::map<std::string, std::string> aliases;
  // Which shapes-file list to read, asked once every flag is parsed, so that a family flag
  // (the GEMM's --dtype) can choose wherever it stands; empty: {family, "bf16"}.
  std::function<ShapeList()> shape_list;
};

// Family-flag helpers: each handles one flag (or several) and stores the checked value;
// any_flag tries them in turn. Errors name the flag and what it takes.
inline ExtraFlag integer_flag(const std::string& name, int* target, int64_t min, int64_t max) {
  return [=](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != name) return false;
    const int64_t v = detail::parse_flag_integer(flag, value());
    if (v < min || v > max)
      throw std::invalid_argument(flag + " must be in [" + std::to_string(min) + ", " +
                                  std::to_string(max) + "], got " + std::to_string(v));
    *target = static_cast<int>(v);
    return true;
  };
}

inline ExtraFlag real_flag(const std::string& name, double* target, double min, double max) {
  return [=](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != name) return false;
    const std::string text = value();
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (text.empty() || used != text.size() || !(v >= min && v <= max)) {
      char range[64];
      std::snprintf(range, sizeof range, "[%g, %g]", min, max);
      throw std::invalid_argument(flag + " must be a number in " + range + ", got '" + text + "'");
    }
    *target = v;
    return true;
  };
}

inline ExtraFlag choice_flag(const std::string& name, std::string* target,
                             const std::vector<std::string>& choices) {
  return [=](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != name) return false;
    const std::string v = value();
    std::string listed;
    for (const auto& c : choices) {
      if (c == v) {
        *target = v;
        return true;
      }
      listed += (listed.empty() ? "" : " or ") + ("'" + c + "'");
    }
    throw std::invalid_argument(flag + " must be " + listed + ", got '" + v + "'");
  };
}

// A flag that takes no value (it leaves the next argument alone): sets *target.
inline ExtraFlag switch_flag(const std::string& name, bool* target) {
  return [=](const std::string& flag, const std::function<std::string()>&) {
    if (flag != name) return false;
    *target = true;
    return true;
  };
}

// --kernel S (repeatable) and --filter a,b: only kernels whose name contains one of them.
inline ExtraFlag kernel_filter_flag(std::vector<std::string>* filters) {
  return [=](const std::string& flag, const std::function<std::string()>& value) {
    if (flag != "--kernel" && flag != "--filter") return false;
    const std::string v = value();
    size_t from = 0;
    while (from <= v.size()) {
      const size_t comma = flag == "--filter" ? v.find(',', from) : std::string::npos;
      const std::string part = v.substr(from, comma == std::string::npos ? comma : comma - from);
      if (!part.empty()) filters->push_back(part);
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    if (v.empty()) throw std::invalid_argument(flag + " needs a kernel name (or part of one)");
    return true;
  };
}

inline bool kernel_selected(const std::string& name, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  for (const auto& f : filters)
    if (name.find(f) != std::string::npos) return true;
  return false;
}

inline ExtraFlag any_flag(std::vector<ExtraFlag> flags) {
  return [flags = std::move(flags)](const std::string& flag,
                                    const std::function<std::string()>& value) {
    for (const auto& f : flags)
      if (f(flag, value)) return true;
    return false;
  };
}

namespace detail {
// --shape texts and --shapes-file paths in the order given, read once every flag is known.
inline std::vector<ShapeValues> resolve_shapes(
    const std::vector<std::pair<std::string, std::string>>& given, const CheckSweepSpec& spec) {
  const ShapeList list = spec.shape_list ? spec.shape_list() : ShapeList{spec.family, "bf16"};
  std::vector<ShapeValues> out;
  for (const auto& [flag, v] : given) {
    if (flag == "--shape") {
      out.push_back(parse_shape(v, spec.keys));
      continue;
    }
    for (auto& s : shapes_from_file(v, list.name, spec.keys, {list.dtype})) out.push_back(std::move(s));
  }
  return out;
}
}  // namespace detail

// Parses argv (argv[0] is the program). Throws std::invalid_argument naming the argument
// that is wrong; at least one of --check / --sweep (or --list) must be given, shapes only
// with --sweep unless the spec takes them for --check too.
inline CheckSweepOptions parse_check_sweep(int argc, char** argv, const CheckSweepSpec& spec) {
  CheckSweepOptions o;
  o.reps = spec.default_reps;
  o.seed = spec.default_seed;
  std::vector<std::pair<std::string, std::string>> shape_args;  // (flag, value)
  for (int i = 1; i < argc; ++i) {
    const std::string given = argv[i];
    const auto alias = spec.aliases.find(given);
    const std::string a = alias == spec.aliases.end() ? given : alias->second;
    o.args += (i > 1 ? " " : "") + given;
    const std::function<std::string()> value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(given + " needs a value");
      o.args += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--check") {
      o.check = true;
    } else if (a == "--sweep") {
      o.sweep = true;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--list" && spec.list_flag) {
      o.list = true;
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
    } else if (a == "--shape" || a == "--shapes-file") {
      shape_args.emplace_back(a, value());
    } else if (a == "--l2-flush") {
      const std::string v = value();
      if (v != "memset" && v != "clean")
        throw std::invalid_argument("--l2-flush must be memset or clean, got '" + v + "'");
      o.l2_flush_clean = v == "clean";
    } else if (!spec.extra || !spec.extra(a, value)) {
      throw std::invalid_argument(
          "unknown argument '" + given +
          "' (use --check, --sweep, --quick, --out F, --reps N, --seed N, --shape S, "
          "--shapes-file F, --l2-flush memset|clean" +
          (spec.list_flag ? ", --list [--json]" : "") +
          (spec.extra_usage.empty() ? "" : ", " + spec.extra_usage) + ")");
    }
  }
  o.shapes = detail::resolve_shapes(shape_args, spec);
  if (!o.check && !o.sweep && !o.list)
    throw std::invalid_argument(std::string("nothing to do: give --check and/or --sweep") +
                                (spec.list_flag ? " (or --list)" : ""));
  if (!o.shapes.empty() && !o.sweep && !(spec.shapes_with_check && o.check))
    throw std::invalid_argument(std::string("--shape / --shapes-file go with --sweep") +
                                (spec.shapes_with_check ? " or --check" : ""));
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
// run never leaves half a measurement behind. Compact JSON: the committed measurements are
// read by tools (jq, validate), and a quarter of their size was indentation. Throws
// std::runtime_error naming the path.
inline void write_measurement(const nlohmann::json& doc, const std::string& path) {
  const std::filesystem::path p(path), tmp(path + ".tmp");
  {
    std::ofstream f(tmp);
    if (!f) throw std::runtime_error("cannot open --out file " + path);
    f << doc.dump() << "\n";
    if (!f) throw std::runtime_error("cannot write --out file " + path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) throw std::runtime_error("cannot write --out file " + path + ": " + ec.message());
}

// The measurement document of one run: the envelope, the runner's top-level notes and
// "runs". save() writes it whole to --out (nothing without --out) and may be called as often
// as the runner likes, e.g. after every shape, so a run cut short keeps what it measured.
class Measurement {
 public:
  Measurement(const std::string& family, const std::string& tool, const CheckSweepOptions& o,
              nlohmann::json device)
      : doc_(measurement_doc(family, tool, o, std::move(device))), out_(o.out) {
    doc_["runs"] = nlohmann::json::array();
  }
  nlohmann::json& runs() { return doc_["runs"]; }
  nlohmann::json& operator[](const std::string& key) { return doc_[key]; }
  const nlohmann::json& doc() const { return doc_; }
  // `clocks_after`: the device clocks at the time of writing (device_report.hpp).
  void save(nlohmann::json clocks_after) {
    doc_["clocks_after"] = std::move(clocks_after);
    if (!out_.empty()) write_measurement(doc_, out_);
  }

 private:
  nlohmann::json doc_;
  std::string out_;
};

// The split counts --check runs each instance at: the heuristic's, one split (no combine),
// counts that leave a short last split (3, 7) and the most the scratch holds; --quick
// (sanitizer runs) only the heuristic's and 3.
inline std::vector<int> check_split_counts(int heuristic, int max_splits, bool quick) {
  if (quick) return {heuristic, 3};
  return {heuristic, 1, 3, 7, max_splits};
}

// The tally of a check or a sweep (a sweep checks every run before timing it): every run's
// record goes into the document's runs, failures are counted, and finish() / finish_sweep()
// print the summary line the device scripts read.
class CheckTally {
 public:
  explicit CheckTally(nlohmann::json& runs) : runs_(runs) {}
  // Adds one run's record; true when it failed (the runner then prints its row).
  bool add(const nlohmann::json& record, bool passed) {
    ++done_;
    runs_.push_back(record);
    if (!passed) ++failures_;
    return !passed;
  }
  // A failure without a run: a shape the command line named that no compiled kernel serves.
  void count_failure() { ++failures_; }
  int done() const { return done_; }
  // Prints "check: R runs, F failures, C compiled <what>" and, when nothing ran, `none`.
  // Returns the exit code: 1 on a failure, and also when nothing ran, since a build whose
  // kernels match none of the check shapes has checked nothing.
  int finish(std::size_t compiled, const char* what, const char* none) const {
    std::printf("check: %d runs, %d failures, %zu compiled %s\n", done_, failures_, compiled, what);
    if (done_ == 0) {
      std::printf("check: %s\n", none);
      return 1;
    }
    return failures_ == 0 ? 0 : 1;
  }
  // Prints "sweep: F check failures"; returns the exit code (1 on a failure).
  int finish_sweep() const {
    std::printf("sweep: %d check failures\n", failures_);
    return failures_ == 0 ? 0 : 1;
  }

 private:
  nlohmann::json& runs_;
  int done_ = 0, failures_ = 0;
};

// The line after a check shape: the float32 GPU reference's error against float64, or why
// the CPU reference was skipped; `width` pads the name to line the columns up.
inline void print_checked_shape(const std::string& name, int width, bool cpu_ref,
                                double ref_vs_cpu) {
  if (cpu_ref)
    std::printf("checked %-*s (gpu fp32 ref vs cpu fp64: %.2e)\n", width, name.c_str(), ref_vs_cpu);
  else
    std::printf("checked %-*s (cpu fp64 ref skipped: shape too large)\n", width, name.c_str());
}

// The columns a run's row ends with: the check (error, ok / FAIL) and, for a timed run, the
// median, the bandwidth and its share of the copy ceiling `copy_gbps` (0: none measured);
// `us_width` is the median column's width. Ends the line and flushes, so a long sweep shows
// each row as it is measured.
inline void print_check_and_timing(const nlohmann::json& rec, double copy_gbps, int us_width) {
  const nlohmann::json& c = rec["check"];
  std::printf(" err=%-9s %s",
              c["rel_err"].is_number()
                  ? std::to_string(c["rel_err"].get<double>()).substr(0, 9).c_str()
                  : "nan",
              c["passed"].get<bool>() ? "ok  " : "FAIL");
  if (rec.contains("median_ms"))
    std::printf(" %*.1f us %7.0f GB/s %5.1f%% of copy", us_width,
                rec["median_ms"].get<double>() * 1e3, rec["gbps"].get<double>(),
                copy_gbps > 0 ? 100.0 * rec["gbps"].get<double>() / copy_gbps : 0.0);
  std::printf("\n");
  std::fflush(stdout);
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
