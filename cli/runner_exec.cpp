#include "runner_exec.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "command.hpp"
#include "share_dir.hpp"

namespace tilesim::cli {

namespace fs = std::filesystem;

std::string runner_name(const std::string& family) {
  if (family == "gemm") return "tilesim-gemm-bench";
  if (family == "attention") return "tilesim-attn-bench";
  if (family == "decode") return "tilesim-decode-bench";
  throw UsageError("no kernel runner for problem kind '" + family +
                   "' (runners: gemm, attention, decode)");
}

std::string find_runner(const std::string& name, const std::string& bin_dir) {
  std::vector<fs::path> cands;
  if (!bin_dir.empty()) {
    cands.push_back(fs::path(bin_dir) / name);
  } else {
    const fs::path here = self_dir();
    cands = {here / name, here.parent_path() / "kernels" / "gemm" / name,
             here.parent_path() / "kernels" / "attention" / "fwd" / name,
             here.parent_path() / "kernels" / "attention" / "decode" / name};
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
