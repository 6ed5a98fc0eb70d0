// validate on corrupted measurement data: every error names the file and the run;
// implausible times, a family that does not match the folder and duplicated runs are
// refused rather than reinterpreted or counted twice.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "robust_util.hpp"
#include "validate_core.hpp"

namespace tilesim::robust {
namespace {

using nlohmann::json;

json run(double median_ms, int m = 4096) {
  return {{"impl", "tilesim"},
          {"schedule", "gemm_sm90_ws"},
          {"tile", {{"block_m", 128}, {"block_n", 128}, {"block_k", 64}, {"stages", 3}, {"consumers", 2}}},
          {"problem", {{"kind", "gemm"}, {"m", m}, {"n", 4096}, {"k", 4096}, {"dtype", "bf16"}}},
          {"check", {{"passed", true}}},
          {"median_ms", median_ms}};
}

// A vector, not a json: `json runs = {run(0.3)}` is an array under g++ but a copy of the
// one element under clang (brace-initialisation from a single element).
json file(const std::string& family, const std::vector<json>& runs) {
  return {{"schema", "tilesim.measurement.v1"},
          {"family", family},
          {"device", {{"name", "NVIDIA H100 80GB HBM3"}}},
          {"runs", json(runs)}};
}

std::string load_error(const ScratchDir& dir) {
  try {
    (void)validate::load_runs(dir.path().string());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(ValidateData, ImplausibleMediansNameFileAndRun) {
  for (double ms : {1e308, 1e-300}) {
    ScratchDir dir("val_median");
    dir.file("measurements/gemm/a.json", file("gemm", {run(0.3), run(ms, 8192)}).dump());
    const std::string e = load_error(dir);
    EXPECT_TRUE(contains(e, "a.json")) << e;
    EXPECT_TRUE(contains(e, "runs[1]")) << e;
    EXPECT_TRUE(contains(e, "implausible")) << e;
  }
}

TEST(ValidateData, FamilyMustMatchItsFolder) {
  ScratchDir dir("val_family");
  dir.file("measurements/gemm/a.json", file("attention", {run(0.3)}).dump());
  const std::string e = load_error(dir);
  EXPECT_TRUE(contains(e, "a.json")) << e;
  EXPECT_TRUE(contains(e, "family 'attention'")) << e;
}

TEST(ValidateData, DuplicatedRunsAreDetected) {
  ScratchDir dir("val_dup");
  dir.file("measurements/gemm/a.json", file("gemm", {run(0.3)}).dump());
  dir.file("measurements/gemm/b.json", file("gemm", {run(0.3)}).dump());  // a copy
  const std::string e = load_error(dir);
  EXPECT_TRUE(contains(e, "duplicate")) << e;
  EXPECT_TRUE(contains(e, "a.json")) << e;
  EXPECT_TRUE(contains(e, "b.json")) << e;
}

TEST(ValidateData, WrongTypeNamesTheFile) {
  ScratchDir dir("val_type");
  json f = file("gemm", {run(0.3)});
  f["runs"][0]["impl"] = 7;
  dir.file("measurements/gemm/a.json", f.dump());
  const std::string e = load_error(dir);
  EXPECT_TRUE(contains(e, "a.json")) << e;
}

TEST(ValidateData, CleanDataLoads) {
  ScratchDir dir("val_ok");
  dir.file("measurements/gemm/a.json", file("gemm", {run(0.3), run(0.6, 8192)}).dump());
  EXPECT_EQ(load_error(dir), "");
  EXPECT_EQ(validate::load_runs(dir.path().string()).size(), 2u);
}

TEST(ValidateData, CommittedDataLoads) { EXPECT_NO_THROW((void)validate::load_runs(TILESIM_DATA_DIR)); }

}  // namespace
}  // namespace tilesim::robust
