// Speed of the analytic model. Targets: one predict <= 10 us; tune over all
// feasible tiles of one attention problem <= 1 ms. Counters report tiles per tune.
#include <benchmark/benchmark.h>

#include "tilesim/model/model.hpp"

namespace tsm = tilesim::model;

namespace {

const tsm::Problem& attention_problem() {
  static const tsm::Problem p = tsm::problem_from_json(nlohmann::json::parse(
      R"({"kind":"attention","batch":4,"heads_q":16,"heads_kv":16,"seq_q":8192,"seq_kv":8192,"head_dim":128,"causal":false})"));
  return p;
}

void BM_PredictGemm(benchmark::State& state) {
  const auto p = tilesim::profiles::resolve_profile("h100");
  const auto prob = tsm::problem_from_json(nlohmann::json::parse(R"({"kind":"gemm","m":8192,"n":8192,"k":8192})"));
  const auto tile = tsm::parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1");
  for (auto _ : state) benchmark::DoNotOptimize(tsm::predict(p, prob, "gemm_sm90_ws", tile).time_us);
}
BENCHMARK(BM_PredictGemm)->Unit(benchmark::kMicrosecond);

void BM_PredictAttentionFa3(benchmark::State& state) {
  const auto p = tilesim::profiles::resolve_profile("h100");
  const auto tile = tsm::parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1");
  for (auto _ : state) benchmark::DoNotOptimize(tsm::predict(p, attention_problem(), "attn_fa3", tile).time_us);
}
BENCHMARK(BM_PredictAttentionFa3)->Unit(benchmark::kMicrosecond);

void BM_PredictAttentionFa4Causal(benchmark::State& state) {
  const auto p = tilesim::profiles::resolve_profile("b200");
  tsm::Problem prob = attention_problem();
  prob.causal = true;
  const auto tile = tsm::parse_tile("block_m=128,block_n=128,stages=3,exp_emu_fraction=0.25,rescale_threshold=8");
  for (auto _ : state) benchmark::DoNotOptimize(tsm::predict(p, prob, "attn_fa4", tile).time_us);
}
BENCHMARK(BM_PredictAttentionFa4Causal)->Unit(benchmark::kMicrosecond);

// tune over every schedule the chip runs for the attention problem (H100: attn_fa2 +
// attn_fa3; B200: attn_fa2 + attn_fa4).
void BM_TuneAttention(benchmark::State& state, const char* gpu) {
  const auto p = tilesim::profiles::resolve_profile(gpu);
  tsm::TuneStats st;
  for (auto _ : state) {
    st = tsm::TuneStats{};
    benchmark::DoNotOptimize(tsm::tune(p, attention_problem(), "", &st).size());
  }
  state.counters["tiles_considered"] = st.considered;
  state.counters["tiles_feasible"] = st.feasible;
}
BENCHMARK_CAPTURE(BM_TuneAttention, h100, "h100")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TuneAttention, b200, "b200")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
