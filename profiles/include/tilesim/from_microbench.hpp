// Turns the microbenchmark suite's Google Benchmark JSON (tilesim-microbench
// --benchmark_format=json) into a measured profile: a partial profile file with
// "base": <the built-in profile of that chip> that replaces each number the suite
// measured and marks it measured (device, driver, CUDA version, date, clock).
//
// Which benchmark and counter feed which profile field is one table (microbench_map()),
// mirrored in microbench/README.md ("Output contract").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tilesim::profiles {

enum class Pick {
  kExact,      // the one benchmark of that name
  kMaxPrefix,  // the best over benchmarks whose name starts with it (e.g. every wgmma N)
};

struct MicrobenchField {
  const char* path;       // profile field, e.g. "per_sm_per_clk.tensor_bf16"
  const char* benchmark;  // benchmark name or name prefix
  Pick pick;
  const char* counter;    // Google Benchmark counter holding the number, in the field's unit
  const char* how;        // one line for the profile's note
};

const std::vector<MicrobenchField>& microbench_map();

struct ConversionResult {
  nlohmann::json profile;             // partial profile, schema tilesim.profile.v1
  std::vector<std::string> measured;  // field paths filled from the benchmarks
  std::vector<std::string> missing;   // fields the run did not measure (kept from base)
  std::vector<std::string> warnings;  // spread > 3 %, clock drop > 10 %, ...
};

class MicrobenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `origin` names the input in errors. `id` is the new profile's id ("" = derived from
// the device and date). Throws MicrobenchError naming the field when the input is not
// Google Benchmark JSON from tilesim-microbench, or a counter is not a finite number.
ConversionResult profile_from_microbench(const nlohmann::json& gbench, const std::string& origin,
                                         const std::string& id = "");

// The built-in profile id for a device name reported by CUDA ("NVIDIA H100 80GB HBM3" ->
// "h100"); throws MicrobenchError for a GPU tilesim has no base profile for.
std::string base_profile_for_device(const std::string& device_name);

// Which suite binary measures a GPU of this compute capability ("9.0", "10.0", as
// nvidia-smi --query-gpu=compute_cap prints it). Throws MicrobenchError naming the
// capability for one tilesim has no build for.
struct MicrobenchSuite {
  std::string binary;                // file name beside tilesim
  std::string arch;                  // the -gencode target it was compiled for
  bool validated_on_hardware;        // false: compiled, never run on such a GPU
  std::string caveat;                // what the user should know before trusting it
};
MicrobenchSuite suite_for_compute_capability(const std::string& cc);

}  // namespace tilesim::profiles
