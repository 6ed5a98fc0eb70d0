// `tilesim measure`, the parts that need no GPU: which runner and which of its compiled
// kernels serve a problem, the runner's command line, and measured vs predicted from the
// measurement JSON the runner writes. Tested on the CPU with a fake runner.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tilesim/model/model.hpp"
#include "validate_core.hpp"

namespace tilesim::cli::measure {

// The problem kind's name when a runner measures it (runner_exec.hpp: kernel_runners());
// UsageError for kinds without kernels.
std::string family_of(const model::Problem& p);
// The runner's --shape value: its shape keys (kernels/common/shape_args.hpp, the
// tilesim.measurement.v1 "problem" keys) in its order. UsageError naming the key when the
// runner's parser refuses the shape (e.g. an mla page_size other than its kernels' 64).
std::string shape_arg(const model::Problem& p);

// Names of the compiled instances (a runner's `--list --json` document) that serve `p`
// (their "requires" match the problem) and match `schedule` ("" = any) and every key of
// `tile` (an object; {} = any). UsageError naming the schedule / tile and the instances
// that do serve the problem when none matches.
std::vector<std::string> select_kernels(const nlohmann::json& list_doc, const model::Problem& p,
                                        const std::string& schedule, const nlohmann::json& tile);

struct RunnerOptions {
  int reps = 0;    // 0: the runner's default
  int passes = 0;  // 0: the runner's default
};
// Arguments after the runner binary: a timed run (--sweep) of one shape, correctness
// checked, written to `out`; `kernel` restricts it to one instance ("" = every instance
// serving the shape, and the vendor library where the runner times one). UsageError for
// o.passes with a runner that takes no --passes.
std::vector<std::string> runner_args(const model::Problem& p, const std::string& kernel,
                                     const RunnerOptions& o, const std::string& out);

struct Row {
  std::string kernel, impl, schedule, tile;
  double measured_us = 0.0;
  std::optional<double> predicted_us;
  bool check_passed = true;
  std::string note;  // why there is no prediction
};
// Measured runs joined with the model's predictions on profile `gpu` (the device's own
// name is ignored: the user said which chip this is).
std::vector<Row> join(const std::vector<validate::MeasuredRun>& runs, const std::string& gpu,
                      const model::ModelConstants& constants);
std::string table(const std::vector<Row>& rows);
nlohmann::json to_json(const std::vector<Row>& rows);

}  // namespace tilesim::cli::measure
