// Where tilesim finds what it does not embed: the data folder (measurements, published
// results, model files), the analysis/ Python package (report) and the vendor reference
// scripts (validate --run). One layout serves the install and the build tree:
//   <share>/data/        profiles/, model/, measurements/, published/
//   <share>/analysis/    tilesim_analysis/
//   <share>/scripts/     torch_sdpa_ref.py, torch_decode_ref.py
// <share> is $TILESIM_DATA_DIR if set, else the nearest share/tilesim above the running
// binary (<prefix>/bin/tilesim -> <prefix>/share/tilesim; in a build tree CMake links
// <build>/share/tilesim to the sources). Never the source path baked in at build time, so
// an installed or moved tree keeps working.
#pragma once

#include <filesystem>
#include <string>

namespace tilesim::cli {

// The folder of the running executable (/proc/self/exe).
std::filesystem::path self_dir();
// <share> as above; throws RuntimeError naming TILESIM_DATA_DIR and the folders tried.
std::filesystem::path share_dir();
// Help text for options that default to a folder under <share>.
inline const char* kShareDirHelp = "$TILESIM_DATA_DIR, else <bin>/../share/tilesim";

}  // namespace tilesim::cli
