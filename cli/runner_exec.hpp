// Finding and starting the kernel runners (tilesim-gemm-bench, tilesim-attn-bench,
// tilesim-decode-bench) from the CLI: `validate --run` and `measure` share these.
#pragma once

#include <string>

namespace tilesim::cli {

// The family's runner binary name: gemm -> tilesim-gemm-bench, attention ->
// tilesim-attn-bench, decode -> tilesim-decode-bench. Throws UsageError for other names.
std::string runner_name(const std::string& family);
// The runner: `bin_dir`/name when bin_dir is given, else beside tilesim (an install's
// bin/), else the build tree's kernels/ folders. RuntimeError listing every place tried.
std::string find_runner(const std::string& name, const std::string& bin_dir);
// Single-quoted for /bin/sh.
std::string shell_quote(const std::string& s);
// True when nvidia-smi lists a GPU.
bool gpu_present();

}  // namespace tilesim::cli
