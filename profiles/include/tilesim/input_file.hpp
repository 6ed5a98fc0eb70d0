// Reading the JSON inputs users point at (profiles, constants, measurements): regular
// files only, of bounded size, and JSON whose objects have no repeated key. A device
// (/dev/zero), a FIFO or a directory is refused by name instead of being read forever
// or reported as "not valid JSON".
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace tilesim {

// Largest input file read (bytes). The biggest committed measurement file is ~1 MB.
constexpr std::size_t kMaxInputFileBytes = std::size_t{64} << 20;

class InputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole file as text. Throws InputFileError "<path>: <why>" when the path is
// missing, not a regular file, unreadable, or larger than max_bytes.
std::string read_input_file(const std::string& path, std::size_t max_bytes = kMaxInputFileBytes);

// JSON text -> value. Throws InputFileError "<origin>: ..." when the text is not valid
// JSON (numbers that overflow a double included) or an object repeats a key (naming it
// and its object's path), where nlohmann::json would silently keep the last one.
nlohmann::json parse_json_strict(const std::string& text, const std::string& origin);

// A number for a message: at most 6 significant digits (1e+308, not 309 digits).
std::string short_number(double v);

}  // namespace tilesim
