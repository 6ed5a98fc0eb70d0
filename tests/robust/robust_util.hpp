// Helpers of the robustness tests: the CLI in-process, scratch folders and files.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "command.hpp"

namespace tilesim::robust {

// Complete tiles for the CLI (which requires every parameter).
constexpr const char* kGemmTile = "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1";
constexpr const char* kFa3TileCli = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1";

struct CliResult {
  int rc;
  std::string out, err;
};

inline CliResult cli(const std::vector<std::string>& args) {
  std::ostringstream o, e;
  cli::Context ctx{o, e};
  const int rc = cli::run_cli(args, ctx);
  return {rc, o.str(), e.str()};
}

// A fresh folder under the system temp folder, removed with the object.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("tilesim_robust_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& rel, const std::string& text) const {
    const auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace tilesim::robust
