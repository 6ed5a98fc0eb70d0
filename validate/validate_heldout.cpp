// Held-out shapes: loading the committed list and matching measured problems against it.
#include "validate_heldout.hpp"

#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "tilesim/input_file.hpp"

namespace tilesim::validate {

namespace {
// The list's family arrays hold bf16 shapes (a run without a dtype is bf16); shapes of
// another dtype have their own array, "<family>_<dtype>" (e.g. "gemm_fp8").
constexpr const char* kDefaultDtype = "bf16";
constexpr const char* kDtypeLists[] = {"gemm_fp8"};

std::string list_name(const std::string& family, const std::string& dtype) {
  return dtype == kDefaultDtype ? family : family + "_" + dtype;
}

bool same_value(const nlohmann::json& want, const nlohmann::json& got) {
  // The list writes causal as true/false, runners as true/false or 0/1.
  auto as_number = [](const nlohmann::json& v) { return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>(); };
  if ((want.is_number() || want.is_boolean()) && (got.is_number() || got.is_boolean()))
    return as_number(want) == as_number(got);
  return want == got;
}
}  // namespace

bool HeldOutList::matches(const std::string& family, const nlohmann::json& problem) const {
  const std::string list = list_name(family, problem.value("dtype", std::string(kDefaultDtype)));
  if (!entries.is_object() || !entries.contains(list)) return false;
  for (const auto& e : entries.at(list)) {
    bool all = true;
    for (const auto& [k, v] : e.items()) {
      if (k == "name") continue;
      if (!problem.contains(k) || !same_value(v, problem.at(k))) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

size_t HeldOutList::count(const std::string& family) const {
  return entries.is_object() && entries.contains(family) ? entries.at(family).size() : 0;
}

HeldOutList load_heldout(const std::string& data_dir) {
  HeldOutList h;
  const auto path = std::filesystem::path(data_dir) / "heldout" / "shapes.json";
  if (!std::filesystem::exists(path)) return h;
  h.path = path.string();
  nlohmann::json doc;
  try {
    doc = parse_json_strict(read_input_file(h.path), h.path);
  } catch (const InputFileError& e) {
    throw std::runtime_error(e.what());
  }
  if (!doc.is_object() || doc.value("schema", "") != "tilesim.heldout.v1")
    throw std::runtime_error(h.path + ": schema is not 'tilesim.heldout.v1'");
  h.entries = nlohmann::json::object();
  std::vector<std::string> lists = {"attention", "gemm", "decode", "mla", "layer_step"};
  lists.insert(lists.end(), std::begin(kDtypeLists), std::end(kDtypeLists));
  for (const std::string& fam : lists) {
    if (!doc.contains(fam)) continue;
    if (!doc.at(fam).is_array()) throw std::runtime_error(h.path + ": '" + fam + "' must be an array");
    for (const auto& e : doc.at(fam))
      if (!e.is_object() || e.empty())
        throw std::runtime_error(h.path + ": every '" + fam + "' entry must be a non-empty object");
    h.entries[fam] = doc.at(fam);
  }
  return h;
}

}  // namespace tilesim::validate
