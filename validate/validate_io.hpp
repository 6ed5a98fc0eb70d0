// Small file helpers for validate/report: write a file whole or not at all, today's date.
#pragma once

#include <string>

namespace tilesim::validate {

// Writes `text` to `path` through a temporary file in the same folder and a rename, so a
// reader never sees half a file and a failure leaves nothing behind. Throws
// std::runtime_error naming the path (folder missing, not writable).
void write_file_atomic(const std::string& path, const std::string& text);
// "2026-11-21" (UTC).
std::string utc_date();
// "20261121T123456Z" (UTC), for file names.
std::string utc_stamp();

}  // namespace tilesim::validate
