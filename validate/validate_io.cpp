#include "validate_io.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace tilesim::validate {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& text) {
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code st_ec;
  if (!fs::is_directory(dir, st_ec)) {
    if (fs::exists(dir, st_ec))
      throw std::runtime_error(path + ": '" + dir.string() + "' is not a folder");
    throw std::runtime_error(path + ": folder '" + dir.string() + "' does not exist");
  }
  if (fs::exists(target, st_ec) && !fs::is_regular_file(target, st_ec))
    throw std::runtime_error(path + ": exists and is not a regular file (not overwritten)");
  std::string tmp_name = ".";  // appended, not "." + str: GCC 12 warns falsely (-Wrestrict)
  tmp_name += target.filename().string();
  tmp_name += ".tmp";
  const fs::path tmp = dir / tmp_name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot write (" + std::strerror(errno) + ")");
    out << text;
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error(path + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ec2;
    fs::remove(tmp, ec2);
    throw std::runtime_error(path + ": cannot write (" + ec.message() + ")");
  }
}

namespace {
std::string fmt_now(const char* fmt) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}
}  // namespace

std::string utc_date() { return fmt_now("%Y-%m-%d"); }
std::string utc_stamp() { return fmt_now("%Y%m%dT%H%M%SZ"); }

}  // namespace tilesim::validate
