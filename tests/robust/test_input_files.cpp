// Input files: regular files only, of bounded size (a device or FIFO is refused, not read
// forever), a directory is named as such, and JSON objects may not repeat a key.
#include <gtest/gtest.h>

#include <fstream>

#include "robust_util.hpp"
#include "tilesim/input_file.hpp"
#include "tilesim/model/model.hpp"

namespace tilesim::robust {
namespace {

TEST(InputFiles, DevicesAreRefusedAsNotRegularFiles) {
  for (const char* dev : {"/dev/zero", "/dev/urandom"}) {
    const auto r = cli({"gpus", "show", dev});
    EXPECT_EQ(r.rc, 1) << dev;
    EXPECT_TRUE(contains(r.err, "not a regular file")) << r.err;
    const auto p = cli({"predict", "--gpu", dev, "gemm", "--m", "128", "--n", "128", "--k", "128", "--schedule",
                        "gemm_sm90_ws", "--tile", kGemmTile});
    EXPECT_EQ(p.rc, 1) << dev;
    EXPECT_TRUE(contains(p.err, "not a regular file")) << p.err;
  }
  const auto k = cli({"predict", "--gpu", "h100", "--constants", "/dev/zero", "gemm", "--m", "128", "--n", "128",
                      "--k", "128", "--schedule", "gemm_sm90_ws", "--tile", kGemmTile});
  EXPECT_EQ(k.rc, 1);
  EXPECT_TRUE(contains(k.err, "not a regular file")) << k.err;
}

TEST(InputFiles, OversizedFileIsRefusedBeforeReading) {
  ScratchDir dir("size");
  const std::string path = dir.file("big.json", std::string(4096, ' '));
  try {
    (void)read_input_file(path, 1024);
    FAIL() << "accepted";
  } catch (const InputFileError& e) {
    EXPECT_TRUE(contains(e.what(), "larger than")) << e.what();
  }
}

TEST(InputFiles, DirectoryNamedLikeJsonIsADirectory) {
  ScratchDir dir("dirjson");
  std::filesystem::create_directories(dir.path() / "x.json");
  const auto r = cli({"gpus", "show", (dir.path() / "x.json").string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.err, "is a directory")) << r.err;
  EXPECT_FALSE(contains(r.err, "not valid JSON")) << r.err;
}

TEST(InputFiles, RepeatedKeysAreRefused) {
  try {
    (void)parse_json_strict(R"({"a": {"b": 1, "c": 2, "b": 3}})", "dup.json");
    FAIL() << "accepted";
  } catch (const InputFileError& e) {
    EXPECT_TRUE(contains(e.what(), "dup.json")) << e.what();
    EXPECT_TRUE(contains(e.what(), "'b'")) << e.what();
  }
  EXPECT_NO_THROW((void)parse_json_strict(R"({"a": {"b": 1}, "c": {"b": 2}})", "ok.json"));
  const std::string profile =
      R"({"schema": "tilesim.profile.v1", "id": "t", "id": "u", "base": "h100"})";
  EXPECT_THROW((void)profiles::parse_profile(profile, "t.json"), profiles::ProfileError);
}

}  // namespace
}  // namespace tilesim::robust
