#include "share_dir.hpp"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "command.hpp"

namespace tilesim::cli {

namespace fs = std::filesystem;

fs::path self_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return fs::current_path();
  buf[n] = '\0';
  return fs::path(buf).parent_path();
}

fs::path share_dir() {
  if (const char* env = std::getenv("TILESIM_DATA_DIR"); env != nullptr && *env != '\0') {
    const fs::path p(env);
    if (!fs::is_directory(p / "data"))
      throw RuntimeError("TILESIM_DATA_DIR='" + p.string() + "' has no data/ folder (expected the layout of " +
                         "<prefix>/share/tilesim: data/, analysis/, scripts/)");
    return p;
  }
  // The binary sits in <prefix>/bin (install), <build>/cli (build tree) or a test folder
  // two levels below <build>: look up to three levels up.
  std::vector<fs::path> tried;
  fs::path dir = self_dir();
  for (int up = 0; up < 3 && !dir.empty(); ++up) {
    dir = dir.parent_path();
    const fs::path cand = dir / "share" / "tilesim";
    if (fs::is_directory(cand / "data")) return cand;
    tried.push_back(cand);
  }
  std::string list;
  for (const auto& t : tried) list += "\n  " + t.string();
  throw RuntimeError("tilesim's data folder not found: set TILESIM_DATA_DIR to a share/tilesim folder "
                     "(data/, analysis/, scripts/), or run an installed tilesim (cmake --install); tried:" + list);
}

}  // namespace tilesim::cli
