// Problem shapes from the command line or a shapes file, in one syntax for every runner.
//
//   --shape key=value,key=value,...   one shape (repeatable); integer values
//   --shapes-file F                   the family's list in a JSON file, e.g. the held-out
//                                     list data/heldout/shapes.json:
//                                     {"attention": [{"batch": 2, "heads_q": 32, ...}], ...}
//
// The keys are the measurement JSON's "problem" keys, so a shape written by a runner reads
// back as the same shape: gemm m, n, k; attention batch, heads_q, heads_kv, seq_q, seq_kv,
// head_dim, causal; decode batch, heads_q, heads_kv, q_per_seq, seq_kv, head_dim,
// page_size; mla the decode keys plus head_dim_v. Each family declares its keys (range,
// default); a missing required key, an unknown key, a value out of range or not an integer
// is an error that names the key and the shape. Host-only C++ (no CUDA), tested on the CPU.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tilesim::runner {

struct ShapeKey {
  std::string name;
  int64_t min = 1, max = 1;
  std::optional<int64_t> fallback;  // default; nullopt = required
  std::string default_from;         // default: the value of this key (e.g. heads_kv = heads_q)
};

struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// One parsed shape: every declared key has a value; `text` is how it was written.
struct ShapeValues {
  std::map<std::string, int64_t> v;
  std::string text;
  int64_t operator[](const std::string& k) const { return v.at(k); }
};

namespace detail {

inline const ShapeKey* find_key(const std::vector<ShapeKey>& keys, const std::string& name) {
  for (const auto& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

inline std::string key_list(const std::vector<ShapeKey>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k.name;
  return s;
}

// Fills defaults, checks ranges.
inline ShapeValues finish(std::map<std::string, int64_t> given, const std::vector<ShapeKey>& keys,
                          const std::string& text) {
  ShapeValues out;
  out.text = text;
  for (const auto& k : keys) {
    auto it = given.find(k.name);
    int64_t x = 0;
    if (it != given.end())
      x = it->second;
    else if (!k.default_from.empty())
      x = out.v.at(k.default_from);  // keys with default_from are declared after their source
    else if (k.fallback)
      x = *k.fallback;
    else
      throw ShapeError("shape '" + text + "': missing " + k.name + " (keys: " + key_list(keys) + ")");
    if (x < k.min || x > k.max)
      throw ShapeError("shape '" + text + "': " + k.name + "=" + std::to_string(x) + " is out of range [" +
                       std::to_string(k.min) + ", " + std::to_string(k.max) + "]");
    out.v[k.name] = x;
  }
  return out;
}

inline int64_t parse_integer(const std::string& s, const std::string& key, const std::string& text) {
  if (s.empty()) throw ShapeError("shape '" + text + "': " + key + " has no value");
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') i = 1;
  if (i == s.size()) throw ShapeError("shape '" + text + "': " + key + "='" + s + "' is not an integer");
  for (size_t j = i; j < s.size(); ++j)
    if (s[j] < '0' || s[j] > '9') throw ShapeError("shape '" + text + "': " + key + "='" + s + "' is not an integer");
  if (s.size() - i > 18) throw ShapeError("shape '" + text + "': " + key + "='" + s + "' is too large");
  return std::stoll(s);
}

}  // namespace detail

// "batch=2,heads_q=32,seq_q=4096,head_dim=128" -> values (defaults filled).
inline ShapeValues parse_shape(const std::string& text, const std::vector<ShapeKey>& keys) {
  std::map<std::string, int64_t> given;
  std::stringstream ss(text);
  std::string item;
  if (text.empty()) throw ShapeError("empty --shape (keys: " + detail::key_list(keys) + ")");
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw ShapeError("shape '" + text + "': '" + item + "' is not key=value (keys: " + detail::key_list(keys) + ")");
    const std::string key = item.substr(0, eq);
    if (detail::find_key(keys, key) == nullptr)
      throw ShapeError("shape '" + text + "': unknown key '" + key + "' (keys: " + detail::key_list(keys) + ")");
    if (given.count(key)) throw ShapeError("shape '" + text + "': " + key + " given twice");
    given[key] = detail::parse_integer(item.substr(eq + 1), key, text);
  }
  return detail::finish(std::move(given), keys, text);
}

// One JSON object of a shapes file. `kind` and `dtype` may be present ("kind" must name the
// family, "dtype" must be one of `dtypes`), `name` is a label; booleans count as 0/1;
// `head_dim_v` must equal head_dim (the kernels have one head dim), unless the family
// declares head_dim_v as a key of its own (mla: 576 / 512).
inline ShapeValues shape_from_json(const nlohmann::json& j, const std::vector<ShapeKey>& keys,
                                   const std::string& family, const std::vector<std::string>& dtypes,
                                   const std::string& where) {
  if (!j.is_object()) throw ShapeError(where + ": a shape must be a JSON object");
  std::map<std::string, int64_t> given;
  std::string text;
  for (const auto& [key, val] : j.items()) {
    if (key == "name") continue;
    if (key == "kind") {
      if (!val.is_string() || val.get<std::string>() != family)
        throw ShapeError(where + ": kind " + val.dump() + " is not " + family);
      continue;
    }
    if (key == "dtype") {
      bool ok = false;
      for (const auto& d : dtypes) ok = ok || (val.is_string() && val.get<std::string>() == d);
      if (!ok) throw ShapeError(where + ": dtype " + val.dump() + " is not supported by this runner");
      continue;
    }
    if (key == "head_dim_v" && detail::find_key(keys, key) == nullptr) {
      if (!j.contains("head_dim") || val != j["head_dim"])
        throw ShapeError(where + ": head_dim_v must equal head_dim (one head dim per kernel)");
      continue;
    }
    if (detail::find_key(keys, key) == nullptr)
      throw ShapeError(where + ": unknown key '" + key + "' (keys: " + detail::key_list(keys) + ")");
    int64_t x = 0;
    if (val.is_boolean())
      x = val.get<bool>() ? 1 : 0;
    else if (val.is_number_integer())
      x = val.get<int64_t>();
    else
      throw ShapeError(where + ": " + key + " must be an integer, got " + val.dump());
    given[key] = x;
    text += (text.empty() ? "" : ",") + key + "=" + std::to_string(x);
  }
  return detail::finish(std::move(given), keys, where + " {" + text + "}");
}

// The `family` array of a shapes file.
inline std::vector<ShapeValues> shapes_from_file(const std::string& path, const std::string& family,
                                                 const std::vector<ShapeKey>& keys,
                                                 const std::vector<std::string>& dtypes) {
  std::ifstream f(path);
  if (!f) throw ShapeError("cannot open shapes file " + path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw ShapeError(path + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains(family) || !doc[family].is_array())
    throw ShapeError(path + " has no \"" + family + "\" array of shapes");
  std::vector<ShapeValues> out;
  for (size_t i = 0; i < doc[family].size(); ++i)
    out.push_back(shape_from_json(doc[family][i], keys, family, dtypes,
                                  path + ": " + family + "[" + std::to_string(i) + "]"));
  if (out.empty()) throw ShapeError(path + ": the \"" + family + "\" list is empty");
  return out;
}

// Key constructors (every field spelled out: the tables below stay one line per key).
inline ShapeKey required_key(const char* name, int64_t min, int64_t max) { return {name, min, max, std::nullopt, ""}; }
inline ShapeKey default_key(const char* name, int64_t min, int64_t max, int64_t value) {
  return {name, min, max, value, ""};
}
inline ShapeKey same_as_key(const char* name, int64_t min, int64_t max, const char* source) {
  return {name, min, max, std::nullopt, source};
}

// The keys of each family (ranges: what the kernels and 32-bit index math take).
inline const std::vector<ShapeKey>& gemm_shape_keys() {
  static const std::vector<ShapeKey> k = {required_key("m", 1, int64_t{1} << 20),
                                          required_key("n", 8, int64_t{1} << 20),
                                          required_key("k", 8, int64_t{1} << 20)};
  return k;
}
inline const std::vector<ShapeKey>& attention_shape_keys() {
  static const std::vector<ShapeKey> k = {
      required_key("batch", 1, 4096),         required_key("heads_q", 1, 1024),
      same_as_key("heads_kv", 1, 1024, "heads_q"), required_key("seq_q", 1, 1 << 20),
      same_as_key("seq_kv", 1, 1 << 20, "seq_q"),  required_key("head_dim", 16, 256),
      default_key("causal", 0, 1, 0)};
  return k;
}
inline const std::vector<ShapeKey>& decode_shape_keys() {
  static const std::vector<ShapeKey> k = {
      required_key("batch", 1, 4096),          required_key("heads_q", 1, 1024),
      same_as_key("heads_kv", 1, 1024, "heads_q"), default_key("q_per_seq", 1, 64, 1),
      required_key("seq_kv", 1, 1 << 22),      required_key("head_dim", 16, 256),
      default_key("page_size", 0, 4096, 0)};
  return k;
}
// MLA decode (absorbed form): one latent KV head of 576 values (V = the first 512),
// pages of 64 tokens; those four keys only take their one value (the kernels' shape).
inline const std::vector<ShapeKey>& mla_shape_keys() {
  static const std::vector<ShapeKey> k = {
      required_key("batch", 1, 4096),          required_key("heads_q", 1, 1024),
      default_key("heads_kv", 1, 1, 1),        default_key("q_per_seq", 1, 8, 1),
      required_key("seq_kv", 1, 1 << 22),      default_key("head_dim", 576, 576, 576),
      default_key("head_dim_v", 512, 512, 512), default_key("page_size", 64, 64, 64)};
  return k;
}

}  // namespace tilesim::runner
