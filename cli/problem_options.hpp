// Command-line options shared by `predict` and `tune` (and usable by `simulate`): the
// problem (gemm | attention | decode | mla and their sizes), the GPU list, --scale and
// --constants. Each function throws UsageError naming the field on bad input.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "tilesim/model/model.hpp"

namespace tilesim::cli {

// Adds --m --n --k --dtype --batch --heads-q --heads-kv --seq-q --seq-kv --head-dim
// --head-dim-v --causal --q-per-seq --page-size.
void add_problem_options(boost::program_options::options_description& opts);
// Parses args against `opts` plus one positional problem kind (stored as "kind").
boost::program_options::variables_map parse_with_problem_kind(const std::vector<std::string>& args,
                                                               const boost::program_options::options_description& opts);
// Builds the problem of `kind` from the parsed options; options that do not apply to the
// kind, missing required ones and invalid values are usage errors naming the option.
model::Problem problem_from_options(const std::string& kind, const boost::program_options::variables_map& vm);

// A built-in GPU id or a profile JSON path; --scale applied. Unknown names are usage
// errors listing the built-in ids; a bad file is a ProfileError (exit 1).
model::Profile load_gpu(const std::string& name, const std::string& scale_spec);
// The --scale text ("" when not given); `--scale ""` is a usage error.
std::string scale_option(const boost::program_options::variables_map& vm);
// "h100,h20,b200" -> {"h100", "h20", "b200"}.
std::vector<std::string> split_list(const std::string& s);
// "gemm_sm90_ws | gemm_sm80_mma | ...": the schedule names, from the specs (help text).
std::string schedule_choices();
// --constants file or the built-in constants.
model::ModelConstants load_model_constants(const std::string& path);

}  // namespace tilesim::cli
