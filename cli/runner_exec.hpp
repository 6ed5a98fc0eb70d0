// Finding and starting the kernel runners (tilesim-gemm-bench, tilesim-attn-bench,
// tilesim-decode-bench, tilesim-mla-bench) from the CLI: `validate --run` and `measure`
// share these.
#pragma once

#include <string>
#include <vector>

#include "common/shape_args.hpp"

namespace tilesim::cli {

// A kernel family that has a runner: the one list of them (usage texts, errors and the
// runner lookup all read it).
struct KernelRunner {
  std::string family;     // the problem kind it runs (model::problem_kind_name)
  std::string binary;     // e.g. tilesim-mla-bench
  std::string build_dir;  // where the build tree puts it, under kernels/
  // The keys its --shape takes (kernels/common/shape_args.hpp).
  const std::vector<runner::ShapeKey>& (*shape_keys)();
  bool takes_passes;  // whether it times in interleaved --passes
};
const std::vector<KernelRunner>& kernel_runners();
// The family's runner; UsageError listing the families with one for other names.
const KernelRunner& kernel_runner(const std::string& family);
// The families with a runner, joined by `sep` ("gemm, attention, decode, mla").
std::string runner_families(const std::string& sep);

// The family's runner binary name (kernel_runner(family).binary).
std::string runner_name(const std::string& family);
// The runner: `bin_dir`/name when bin_dir is given, else beside tilesim (an install's
// bin/), else the build tree's kernels/ folders. RuntimeError listing every place tried.
std::string find_runner(const std::string& name, const std::string& bin_dir);
// Single-quoted for /bin/sh.
std::string shell_quote(const std::string& s);
// True when nvidia-smi lists a GPU.
bool gpu_present();

}  // namespace tilesim::cli
