// Error figures, problem keys, device names and the gate's logic, on hand-made numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "report_input.hpp"
#include "validate_core.hpp"
#include "validate_io.hpp"

namespace tilesim::validate {
namespace {

TEST(Metrics, MapeAndMaxErrorByHand) {
  // |110-100|/100 = 10%, |45-50|/50 = 10%, |240-200|/200 = 20% -> mean 13.333%
  const std::vector<double> pred = {110, 45, 240}, meas = {100, 50, 200};
  EXPECT_NEAR(mape_pct(pred, meas), 40.0 / 3.0, 1e-12);
  EXPECT_NEAR(max_error_pct(pred, meas), 20.0, 1e-12);
  EXPECT_THROW(mape_pct({1.0}, {0.0}), std::invalid_argument);
  EXPECT_THROW(mape_pct({}, {}), std::invalid_argument);
  EXPECT_THROW(mape_pct({NAN}, {1.0}), std::invalid_argument);
}

TEST(Metrics, MedianSignedError) {
  // signed errors +10%, -10%, +20% -> median +10; an even count averages the middle two
  EXPECT_NEAR(median_signed_error_pct({110, 45, 240}, {100, 50, 200}), 10.0, 1e-12);
  EXPECT_NEAR(median_signed_error_pct({90, 120}, {100, 100}), 5.0, 1e-12);
}

TEST(Metrics, RanksAverageTies) {
  EXPECT_EQ(ranks({3, 1, 3, 2}), (std::vector<double>{3.5, 1, 3.5, 2}));
}

TEST(Metrics, SpearmanKnownValues) {
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // one adjacent swap of 4: 1 - 6*2/(4*15) = 0.8
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({1}, {2})));
  EXPECT_TRUE(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
}

TEST(Metrics, TopPickRegret) {
  // the model picks index 1 (5): measured 12 vs best 10 -> 20%
  EXPECT_NEAR(top_pick_regret_pct({9, 5, 7}, {0, 0, 0}, {10, 12, 11}), 20.0, 1e-12);
  EXPECT_NEAR(top_pick_regret_pct({1, 2}, {0, 0}, {3, 4}), 0.0, 1e-12);
  // 5 and 5.02 tie (within model::kRankTieTolerance): the one whose second-busiest unit is
  // less loaded is picked (index 2: measured 10, the best).
  EXPECT_NEAR(top_pick_regret_pct({9, 5, 5.02}, {0.1, 0.8, 0.3}, {10, 12, 10}), 0.0, 1e-12);
  // 5.1 is 2 % slower: no tie, the faster prediction is picked whatever its headroom.
  EXPECT_NEAR(top_pick_regret_pct({9, 5, 5.1}, {0.1, 0.8, 0.3}, {10, 12, 10}), 20.0, 1e-12);
}

TEST(Keys, ProblemKeyIsCanonical) {
  EXPECT_EQ(problem_key({{"kind", "gemm"}, {"dtype", "bf16"}, {"k", 3}, {"n", 2}, {"m", 1}}),
            "gemm m=1 n=2 k=3 dtype=bf16");
  EXPECT_EQ(problem_key({{"kind", "attention"}, {"batch", 4}, {"causal", true}, {"head_dim", 64}}),
            "attention b=4 d=64 causal=1");
}

TEST(Keys, DeviceNames) {
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA H100 80GB HBM3"), "h100");
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA H200"), "h200");
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA H20"), "h20");
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA B200"), "b200");
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA A100-SXM4-80GB"), "");
  EXPECT_EQ(gpu_id_from_device_name("NVIDIA H100 PCIe"), "");  // 114 SMs: not the SXM profile
}

PredictedRun fake(const std::string& fam, const std::string& shape, double pred, double meas) {
  PredictedRun r;
  r.run.family = fam;
  r.run.gpu = "h100";
  r.run.shape = shape;
  r.run.schedule = "s";
  r.run.measured_us = meas;
  r.status = "predicted";
  r.predicted_us = pred;
  return r;
}

TEST(Summary, GroupsByFamilyAndShape) {
  std::vector<PredictedRun> rs = {fake("gemm", "A", 100, 100), fake("gemm", "A", 90, 120),
                                  fake("gemm", "B", 50, 40), fake("attention", "C", 10, 10)};
  PredictedRun unp = fake("gemm", "A", 1, 1);
  unp.status = "unpredicted";
  unp.predicted_us.reset();
  rs.push_back(unp);
  const auto s = summarize(rs);
  ASSERT_EQ(s.size(), 2u);
  const auto& g = s.at("gemm");
  EXPECT_EQ(g.n, 3);
  EXPECT_EQ(g.n_unpredicted, 1);
  EXPECT_NEAR(g.mape_pct, (0.0 + 25.0 + 25.0) / 3.0, 1e-12);
  const auto& a = g.shapes.at("h100 A");
  EXPECT_NEAR(a.top_pick_regret_pct, 20.0, 1e-12);
  EXPECT_FALSE(a.top_pick_within_5pct);
  EXPECT_FALSE(a.top_pick_within_3pct);
  EXPECT_TRUE(s.at("attention").shapes.at("h100 C").top_pick_within_5pct);
  EXPECT_TRUE(s.at("attention").shapes.at("h100 C").top_pick_within_3pct);
}

// The accuracy target is a pick within 3 % of the measured best; 5 % is reported beside it.
// A pick 4 % behind the best meets the looser figure only.
TEST(Summary, TopPickTargetIsThreePercent) {
  const std::vector<PredictedRun> rs = {fake("gemm", "A", 90, 104), fake("gemm", "A", 100, 100)};
  const auto a = summarize(rs).at("gemm").shapes.at("h100 A");
  EXPECT_NEAR(a.top_pick_regret_pct, 4.0, 1e-9);
  EXPECT_TRUE(a.top_pick_within_5pct);
  EXPECT_FALSE(a.top_pick_within_3pct);
  const std::string table = summary_table(summarize(rs), true);
  EXPECT_NE(table.find("pick<=3%"), std::string::npos);
  EXPECT_NE(table.find("0/1"), std::string::npos);  // within 3 %
  EXPECT_NE(table.find("1/1"), std::string::npos);  // within 5 %
  EXPECT_NE(table.find("(pick misses 3 %)"), std::string::npos);
}

// A shape measured in two sessions: the model picks the tile that is fastest in each, but
// the second session ran slower throughout. Judged across both, the pick would look 20 %
// off; judged inside the larger sweep it is the best.
TEST(Summary, TopPickIsJudgedInsideOneSweep) {
  std::vector<PredictedRun> rs = {fake("gemm", "A", 90, 100), fake("gemm", "A", 100, 110), fake("gemm", "A", 110, 115),
                                  fake("gemm", "A", 90, 120), fake("gemm", "A", 100, 125)};
  const std::vector<std::string> files = {"day1.json", "day1.json", "day1.json", "day2.json", "day2.json"};
  for (size_t i = 0; i < rs.size(); ++i) rs[i].run.file = files[i];
  const auto a = summarize(rs).at("gemm").shapes.at("h100 A");
  EXPECT_EQ(a.top_pick_sweep, "day1.json");
  EXPECT_NEAR(a.top_pick_regret_pct, 0.0, 1e-12);
  EXPECT_TRUE(a.top_pick_within_5pct);
  // With the larger sweep the slow one, the same rule judges there.
  rs.push_back(fake("gemm", "A", 120, 118));
  rs.push_back(fake("gemm", "A", 130, 119));
  rs[5].run.file = rs[6].run.file = "day2.json";
  const auto b = summarize(rs).at("gemm").shapes.at("h100 A");
  EXPECT_EQ(b.top_pick_sweep, "day2.json");
  EXPECT_NEAR(b.top_pick_regret_pct, 100.0 * (120.0 / 118.0 - 1.0), 1e-9);
}

TEST(Summary, ReportRecordsGetTheSameFiguresAsValidate) {
  // The report's Python side shows these numbers and computes none: the records of one
  // origin are summarized by the same code as `tilesim validate`.
  const nlohmann::json records = {
      {{"family", "gemm"}, {"gpu", "h100"}, {"origin", "measured"}, {"shape", "A"}, {"schedule", "s"},
       {"tile", {{"block_m", 128}}}, {"measured_us", 120.0}, {"predicted_us", 90.0}},
      {{"family", "gemm"}, {"gpu", "h100"}, {"origin", "measured"}, {"shape", "A"}, {"schedule", "s"},
       {"tile", {{"block_m", 64}}}, {"measured_us", 100.0}, {"predicted_us", 100.0}},
      {{"family", "gemm"}, {"gpu", "h100"}, {"origin", "measured"}, {"shape", "A"}, {"schedule", ""},
       {"measured_us", 80.0}, {"predicted_us", nullptr}},  // a vendor run: not predicted
      {{"family", "attention"}, {"gpu", "b200"}, {"origin", "published"}, {"shape", "P"}, {"schedule", "attn_fa4"},
       {"measured_us", 200.0}, {"predicted_us", 150.0}}};
  const auto m = accuracy_summary(records, "measured");
  ASSERT_TRUE(m.contains("gemm"));
  EXPECT_FALSE(m.contains("attention"));
  EXPECT_EQ(m.at("gemm").at("n"), 2);
  EXPECT_NEAR(m.at("gemm").at("mape_pct").get<double>(), 12.5, 1e-12);
  const auto& a = m.at("gemm").at("shapes").at("h100 A");
  EXPECT_NEAR(a.at("top_pick_regret_pct").get<double>(), 20.0, 1e-12);
  EXPECT_EQ(a.at("model_pick"), "s block_m=128");
  const auto p = accuracy_summary(records, "published");
  EXPECT_NEAR(p.at("attention").at("mape_pct").get<double>(), 25.0, 1e-12);
}

TEST(Gate, FailsOnWorseMapeMoreUnpredictedAndMissingFamilies) {
  std::map<std::string, FamilySummary> cur;
  cur["gemm"].n = 10;
  cur["gemm"].mape_pct = 12.0;
  cur["attention"].n = 5;
  cur["attention"].mape_pct = 8.0;
  cur["attention"].n_unpredicted = 2;
  Baseline b;
  b.families["gemm"] = {12.0, 10, 0};     // equal: passes
  b.families["attention"] = {9.0, 5, 1};  // better MAPE, but one more unpredicted run
  EXPECT_EQ(gate_failures(cur, {}, b).size(), 1u);
  b.families["attention"].n_unpredicted = 2;
  EXPECT_TRUE(gate_failures(cur, {}, b).empty());
  cur["gemm"].mape_pct = 12.5;  // worse than 12.0 + slack
  ASSERT_EQ(gate_failures(cur, {}, b).size(), 1u);
  EXPECT_NE(gate_failures(cur, {}, b)[0].find("gemm"), std::string::npos);
  cur["gemm"].mape_pct = 12.0;
  cur["decode"].n = 3;  // measurements without a baseline
  EXPECT_EQ(gate_failures(cur, {}, b).size(), 1u);
  cur.erase("decode");
  b.families["decode"] = {5.0, 3, 0};  // baseline family whose data vanished
  EXPECT_EQ(gate_failures(cur, {}, b).size(), 1u);
}

TEST(Gate, WrittenBaselinePassesItsOwnGateEvenForAnAllUnpredictedFamily) {
  std::map<std::string, FamilySummary> cur;
  cur["gemm"].n = 4;
  cur["gemm"].mape_pct = 9.5;
  cur["decode"].n_unpredicted = 3;  // every decode run unpredictable: held by its count
  cur["attention"].n_skipped = 7;   // only vendor runs: not in the baseline
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_test_baseline_rt";
  std::filesystem::create_directories(dir);
  const auto p = (dir / "b.json").string();
  write_file_atomic(p, baseline_json(cur, {}, "2026-11-21", "test", "built-in").dump());
  const Baseline b = load_baseline(p);
  EXPECT_EQ(b.families.size(), 2u);
  EXPECT_TRUE(gate_failures(cur, {}, b).empty());
  cur["decode"].n_unpredicted = 4;
  EXPECT_EQ(gate_failures(cur, {}, b).size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(Gate, HeldOutBaselineGatesHeldOutMapeWithItsTolerance) {
  std::map<std::string, FamilySummary> all, held;
  all["attention"].n = 20;
  all["attention"].mape_pct = 30.0;  // training runs may be worse: not what is gated
  held["attention"].n = 8;
  held["attention"].mape_pct = 6.0;
  Baseline b;
  b.families["attention"] = {10.0, 20, 0};
  b.heldout["attention"] = {6.0, 8, 0};
  EXPECT_TRUE(gate_failures(all, held, b).empty());
  held["attention"].mape_pct = 6.0 + kHeldOutGateTolerancePct * 0.9;  // inside the tolerance
  EXPECT_TRUE(gate_failures(all, held, b).empty());
  held["attention"].mape_pct = 6.0 + kHeldOutGateTolerancePct * 1.1;
  ASSERT_EQ(gate_failures(all, held, b).size(), 1u);
  EXPECT_NE(gate_failures(all, held, b)[0].find("held-out"), std::string::npos);
  held.clear();  // held-out data vanished
  EXPECT_EQ(gate_failures(all, held, b).size(), 1u);
}

TEST(Gate, BaselineFileIsStrict) {
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_test_baseline";
  std::filesystem::create_directories(dir);
  const auto p = (dir / "b.json").string();
  auto write = [&](const std::string& s) { std::ofstream(p) << s; };
  write(R"({"schema":"tilesim.accuracy_baseline.v1","updated":"2026-11-21","note":"",
            "families":{}})");
  EXPECT_THROW(load_baseline(p), std::runtime_error);  // empty note: why was it updated?
  write(R"({"schema":"tilesim.accuracy_baseline.v1","updated":"2026-11-21","note":"first",
            "families":{"gemm":{"n":3,"n_unpredicted":0}}})");
  EXPECT_THROW(load_baseline(p), std::runtime_error);  // no mape_pct
  write(R"({"schema":"tilesim.accuracy_baseline.v1","updated":"2026-11-21","note":"first",
            "families":{"gemm":{"mape_pct":7.5,"n":1e30,"n_unpredicted":0}}})");
  EXPECT_THROW(load_baseline(p), std::runtime_error);  // a count no int holds
  write(R"({"schema":"tilesim.accuracy_baseline.v1","updated":"2026-11-21","note":"first",
            "families":{"gemm":{"mape_pct":7.5,"n":3,"n_unpredicted":1}}})");
  const Baseline b = load_baseline(p);
  EXPECT_DOUBLE_EQ(b.families.at("gemm").mape_pct, 7.5);
  EXPECT_EQ(b.families.at("gemm").n_unpredicted, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tilesim::validate

namespace tilesim::validate {
namespace {

TEST(Io, WriteFileAtomicWritesWholeOrNothing) {
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_test_atomic";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto p = (dir / "a.json").string();
  write_file_atomic(p, "{\"x\": 1}\n");
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"x\": 1}\n");
  // only the file itself remains (no temporary beside it)
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_THROW(write_file_atomic((dir / "no" / "b.json").string(), "x"), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "no"));
  std::filesystem::remove_all(dir);
  const std::string d = utc_date();
  ASSERT_EQ(d.size(), 10u);
  EXPECT_EQ(d[4], '-');
  EXPECT_EQ(d.substr(0, 2), "20");
}

}  // namespace
}  // namespace tilesim::validate
