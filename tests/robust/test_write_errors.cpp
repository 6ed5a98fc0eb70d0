// A write that fails (disk full, a device in place of a file) fails the command with
// exit 1; nothing claims success, and no device node is replaced.
#include <gtest/gtest.h>

#include <streambuf>

#include "robust_util.hpp"

namespace tilesim::robust {
namespace {

// A stream buffer that refuses every byte, as stdout redirected to /dev/full does.
class FullBuf : public std::streambuf {
 protected:
  int_type overflow(int_type) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override { return 0; }
};

CliResult cli_to_full(const std::vector<std::string>& args) {
  FullBuf full;
  std::ostream out(&full);
  std::ostringstream err;
  cli::Context ctx{out, err};
  const int rc = cli::run_cli(args, ctx);
  return {rc, "", err.str()};
}

TEST(WriteErrors, StdoutFailureExitsOne) {
  const std::vector<std::vector<std::string>> cmds = {
      {"gpus"},
      {"tune", "--gpu", "h100", "gemm", "--m", "1024", "--n", "1024", "--k", "1024", "--json"},
      {"predict", "--gpu", "h100", "gemm", "--m", "1024", "--n", "1024", "--k", "1024", "--schedule", "gemm_sm90_ws", "--tile", kGemmTile}};
  for (const auto& args : cmds) {
    const auto r = cli_to_full(args);
    EXPECT_EQ(r.rc, 1) << args[0];
    EXPECT_TRUE(contains(r.err, "writing the output failed")) << r.err;
  }
}

TEST(WriteErrors, TraceToDeviceIsRefusedAndTheDeviceKept) {
  const auto r = cli({"simulate", "--gpu", "h100", "gemm", "--m", "1024", "--n", "1024", "--k", "1024", "--schedule",
                      "gemm_sm90_ws", "--tile", kGemmTile, "--trace", "/dev/full"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(contains(r.err, "not a regular file")) << r.err;
  EXPECT_FALSE(contains(r.out, "records")) << r.out;
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
}

}  // namespace
}  // namespace tilesim::robust
