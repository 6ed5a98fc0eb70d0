#include "tilesim/input_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace tilesim {

std::string read_input_file(const std::string& path, std::size_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputFileError(path + ": no such file");
  if (fs::is_directory(st)) throw InputFileError(path + ": is a directory, not a file");
  if (!fs::is_regular_file(st))
    throw InputFileError(path + ": not a regular file (devices, pipes and sockets are not read)");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputFileError(path + ": cannot read its size: " + ec.message());
  if (size > max_bytes)
    throw InputFileError(path + ": " + std::to_string(size) + " bytes, larger than the " +
                         std::to_string(max_bytes >> 20) + " MiB an input file may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputFileError(path + ": cannot open for reading");
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size) || in.bad())
    throw InputFileError(path + ": read failed");
  return text;
}

nlohmann::json parse_json_strict(const std::string& text, const std::string& origin) {
  // Each open object's keys so far; the first repeated key is remembered and reported.
  std::vector<std::vector<std::string>> open;
  std::string repeated;
  auto cb = [&](int /*depth*/, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) {
      open.emplace_back();
    } else if (ev == E::object_end) {
      if (!open.empty()) open.pop_back();
    } else if (ev == E::key && !open.empty() && repeated.empty()) {
      const std::string k = parsed.get<std::string>();
      for (const auto& seen : open.back())
        if (seen == k) repeated = k;
      open.back().push_back(k);
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw InputFileError(origin + ": not valid JSON: " + e.what());
  }
  if (!repeated.empty()) throw InputFileError(origin + ": key '" + repeated + "' appears twice in one object");
  return j;
}

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace tilesim
