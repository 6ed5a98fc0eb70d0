// A fresh data folder for the validate tests: a held-out list with one GEMM shape (4096^3)
// and an empty measurements/<family> folder for the test to write its file into.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace tilesim::validate::test {

inline std::filesystem::path data_dir_with_heldout_4096(const std::string& name, const std::string& family) {
  namespace fs = std::filesystem;
  using nlohmann::json;
  const fs::path d = fs::temp_directory_path() / ("tilesim_" + name);
  fs::remove_all(d);
  fs::create_directories(d / "heldout");
  fs::create_directories(d / "measurements" / family);
  std::ofstream(d / "heldout" / "shapes.json")
      << json{{"schema", "tilesim.heldout.v1"}, {"gemm", json::array({{{"m", 4096}, {"n", 4096}, {"k", 4096}}})}}.dump();
  return d;
}

}  // namespace tilesim::validate::test
