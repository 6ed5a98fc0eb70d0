// validate's measurement loader: the input is one measurement file under
// measurements/gemm/ of a scratch data folder; loaded runs are then predicted as
// `tilesim validate` does. Bad files are std::runtime_error naming the file (the loader's
// contract); a run the model cannot predict is recorded, never thrown.
#include "fuzz_util.hpp"
#include "tilesim/model/constants.hpp"
#include "validate_core.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tilesim;
  namespace fs = std::filesystem;
  static const fs::path root = fs::temp_directory_path() / ("tilesim_fuzz_measurement_" + std::to_string(::getpid()));
  static const model::ModelConstants k = model::default_constants();
  const fs::path dir = root / "measurements" / "gemm";
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "run.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const auto runs = validate::load_runs(root.string());
    for (const auto& r : runs) fuzz::require(r.file.find("run.json") != std::string::npos, "run names its file");
    (void)validate::predict_runs(runs, k);
  } catch (const std::runtime_error& e) {
    fuzz::require(std::string(e.what()).find("run.json") != std::string::npos, "error names the file");
  }
  return 0;
}
