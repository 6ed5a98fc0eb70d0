// The held-out protocol: data/heldout/shapes.json lists shapes that are never used to
// fit, calibrate or choose anything. A measured run is held-out when its family has an
// entry whose every key equals the run's problem: bf16 problems in the family's array,
// other dtypes in "<family>_<dtype>" (fp8 GEMM: "gemm_fp8"). validate reports train
// and held-out apart; calibration fits on train only; the accuracy gate watches held-out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tilesim::validate {

struct HeldOutList {
  std::string path;                  // "" when the data folder has no list
  nlohmann::json entries;            // {"attention": [...], "gemm": [...], "decode": [...], "gemm_fp8": [...]}
  bool matches(const std::string& family, const nlohmann::json& problem) const;
  size_t count(const std::string& family) const;
};

// data_dir/heldout/shapes.json, or an empty list if the folder has none (test fixtures).
// Throws std::runtime_error naming the file for a malformed list.
HeldOutList load_heldout(const std::string& data_dir);

}  // namespace tilesim::validate
