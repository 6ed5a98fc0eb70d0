#include "runner_exec.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "command.hpp"
#include "share_dir.hpp"

namespace tilesim::cli {

namespace fs = std::filesystem;

const std::vector<KernelRunner>& kernel_runners() {
  // Only the attention runner interleaves its kernels in timing passes; the others time
  // each kernel in one run of --reps samples.
  static const std::vector<KernelRunner> r = {
      {"gemm", "tilesim-gemm-bench", "gemm", runner::gemm_shape_keys, false},
      {"attention", "tilesim-attn-bench", "attention/fwd", runner::attention_shape_keys, true},
      {"decode", "tilesim-decode-bench", "attention/decode", runner::decode_shape_keys, false},
      {"mla", "tilesim-mla-bench", "attention/mla", runner::mla_shape_keys, false}};
  return r;
}

const KernelRunner& kernel_runner(const std::string& family) {
  for (const auto& r : kernel_runners())
    if (r.family == family) return r;
  throw UsageError("no kernel runner for problem kind '" + family +
                   "' (runners: " + runner_families(", ") + ")");
}

std::string runner_families(const std::string& sep) {
  std::string s;
  for (const auto& r : kernel_runners()) s += (s.empty() ? "" : sep) + r.family;
  return s;
}

std::string runner_name(const std::string& family) { return kernel_runner(family).binary; }

std::string find_runner(const std::string& name, const std::string& bin_dir) {
  std::vector<fs::path> cands;
  if (!bin_dir.empty()) {
    cands.push_back(fs::path(bin_dir) / name);
  } else {
    const fs::path here = self_dir();
    cands = {here / name};
    for (const auto& r : kernel_runners())
      if (r.binary == name) cands.push_back(here.parent_path() / "kernels" / r.build_dir / name);
  }
  for (const auto& c : cands)
    if (fs::is_regular_file(c) && access(c.c_str(), X_OK) == 0) return c.string();
  std::string tried;
  for (const auto& c : cands) tried += "\n  " + c.string();
  throw RuntimeError("runner '" + name + "' not found; tried:" + tried +
                     "\n(build the CUDA targets or pass --bin-dir)");
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool gpu_present() { return std::system("nvidia-smi -L > /dev/null 2>&1") == 0; }

}  // namespace tilesim::cli
