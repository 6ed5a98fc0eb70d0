// `<runner> --list [--json]`: the compiled kernel instances in the model's vocabulary, one
// object per instance: its name, the model schedule, the tile exactly as `tilesim
// predict --tile` takes it (runtime parameters such as decode's splits are absent), and
// the problems it serves ("requires", as in kernels/instances.json). Needs no GPU: it
// reads only the static registries. The kernel_instances CTest compares it with
// kernels/instances.json and checks every instance against the model's schedule spec.
#pragma once

#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tilesim::kernels {

struct ListedInstance {
  std::string name;
  std::string schedule;
  nlohmann::json tile;      // {"block_m": 128, ...}
  nlohmann::json requires_; // {"head_dim": 128, "dtype": "bf16", ...}
};

// True when the command line asks for the JSON instance list (--list together with --json).
inline bool wants_list_json(int argc, char** argv) {
  bool list = false, json = false;
  for (int i = 1; i < argc; ++i) {
    list = list || std::strcmp(argv[i], "--list") == 0;
    json = json || std::strcmp(argv[i], "--json") == 0;
  }
  return list && json;
}

// Prints the list (schema tilesim.kernel_list.v1) and returns the exit code 0.
inline int print_list_json(const std::string& runner, const std::vector<ListedInstance>& list) {
  nlohmann::json doc = {{"schema", "tilesim.kernel_list.v1"}, {"runner", runner}};
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : list)
    arr.push_back({{"name", e.name}, {"schedule", e.schedule}, {"tile", e.tile}, {"requires", e.requires_}});
  doc["instances"] = arr;
  std::cout << doc.dump(1) << "\n";
  return 0;
}

// `<runner> --list`: one line per instance, its name and its tile. Returns the exit code 0.
inline int print_list_text(const std::vector<ListedInstance>& list) {
  for (const auto& e : list) std::cout << e.name << "  " << e.tile.dump() << "\n";
  return 0;
}

}  // namespace tilesim::kernels
