// ModelConstants: strict loader of data/model/constants.json (embedded at build time).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "embedded_constants.hpp"
#include "tilesim/input_file.hpp"
#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"

namespace tilesim::model {

namespace {
constexpr const char* kSchema = "tilesim.model_constants.v1";
}  // namespace

std::vector<std::string> constant_names() {
  std::vector<std::string> n;
  for (const auto& f : kConstantFields) n.emplace_back(f.name);
  return n;
}

double& constant_ref(ModelConstants& c, const std::string& name) {
  for (const auto& f : kConstantFields)
    if (f.name == name) return f.of(c);
  throw ModelError("model constant: unknown name '" + name + "'");
}

ModelConstants parse_constants(const std::string& json_text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = parse_json_strict(json_text, origin);
  } catch (const InputFileError& e) {
    throw ModelError(e.what());
  }
  if (!j.is_object() || !j.contains("constants") || !j.at("constants").is_object())
    throw ModelError(origin + ": expected an object with a 'constants' object");
  ModelConstants c;
  c.origin = origin;
  const auto& cs = j.at("constants");
  for (const auto& [key, v] : cs.items())
    if (!fields::contains(kConstantFields, key)) throw ModelError(origin + ": unknown constant '" + key + "'");
  for (const auto& f : kConstantFields) {
    const std::string name(f.name), unit(f.unit.symbol);
    if (!cs.contains(name)) throw ModelError(origin + ": missing constant '" + name + "'");
    const auto& e = cs.at(name);
    if (!e.is_object() || !e.contains("value") || !e.at("value").is_number() || !e.contains("unit") ||
        !e.at("unit").is_string() || !e.contains("source") || !e.at("source").is_string() ||
        (e.contains("note") && !e.at("note").is_string()))
      throw ModelError(origin + ": constant '" + name + "' needs value (number), unit, source");
    ConstantInfo info;
    info.value = e.at("value").get<double>();
    info.unit = e.at("unit").get<std::string>();
    info.source = e.at("source").get<std::string>();
    if (e.contains("note")) info.note = e.at("note").get<std::string>();
    if (info.unit != unit)
      throw ModelError(origin + ": constant '" + name + "' must be in " + unit + ", got " + info.unit);
    const std::string why = fields::check(f, info.value);
    if (!why.empty()) throw ModelError(origin + ": constant '" + name + "': " + why);
    f.of(c) = info.value;
    c.info[name] = info;
  }
  return c;
}

nlohmann::json to_json(const ModelConstants& c) {
  nlohmann::json constants = nlohmann::json::object();
  for (const auto& f : kConstantFields) {
    const std::string name(f.name);
    auto it = c.info.find(name);
    nlohmann::json e = {{"value", f.of(c)}, {"unit", f.unit.symbol}};
    e["source"] = it != c.info.end() ? it->second.source : "";
    if (it != c.info.end() && !it->second.note.empty()) e["note"] = it->second.note;
    constants[name] = e;
  }
  return {{"schema", kSchema}, {"constants", constants}};
}

ModelConstants load_constants_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path);
  } catch (const InputFileError& e) {
    throw ModelError(std::string("model constants: ") + e.what());
  }
  return parse_constants(text, path);
}

const ModelConstants& default_constants() {
  static const ModelConstants c = parse_constants(kEmbeddedConstantsJson, "built-in:data/model/constants.json");
  return c;
}

}  // namespace tilesim::model
