// Simulator speed. Each benchmark simulates a whole kernel (grid assignment, event run,
// statistics; no trace) and reports events per second of CPU time ("events/s") and the
// op instances executed. Targets: >= 5e6 events/s on one core; the full
// attention forward below in <= 1 s.
#include <benchmark/benchmark.h>

#include <string>

#include "tilesim/model/model.hpp"
#include "tilesim/sim/simulator.hpp"

namespace {

using namespace tilesim;

model::Problem attention(int64_t batch, int64_t heads, int64_t seq, int64_t d, bool causal) {
  model::Problem p;
  p.kind = model::ProblemKind::kAttention;
  p.batch = batch;
  p.heads_q = p.heads_kv = heads;
  p.seq_q = p.seq_kv = seq;
  p.head_dim = p.head_dim_v = d;
  p.causal = causal;
  return p;
}

void run(benchmark::State& state, const std::string& gpu, const model::Problem& prob,
         const std::string& schedule, const std::string& tile) {
  const profiles::Profile p = profiles::builtin_profile(gpu);
  const model::ScheduleDesc d = model::build_schedule(p, prob, schedule, model::parse_tile(tile));
  const sim::Options o = sim::default_options(p, model::default_constants());
  int64_t events = 0, instances = 0;
  double kernel_us = 0.0;
  for (auto _ : state) {
    const sim::Result r = sim::simulate(d, o);
    events += r.events;
    instances += r.op_instances;
    kernel_us = r.kernel_us;
    benchmark::DoNotOptimize(r);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["op_instances"] =
      static_cast<double>(instances) / static_cast<double>(state.iterations());
  state.SetLabel("simulated " + std::to_string(kernel_us) + " us");
}

const char* kFa3Tile = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1";

// The case: batch 4, 16 heads, 8k, head dim 128 on a 132-SM chip (H100 SXM).
void BM_AttentionForward_Fa3_H100(benchmark::State& state) {
  run(state, "h100", attention(4, 16, 8192, 128, false), "attn_fa3", kFa3Tile);
}
BENCHMARK(BM_AttentionForward_Fa3_H100)->Unit(benchmark::kMillisecond);

// Causal: one class per KV-block count, many distinct SM groups (the heavy case).
void BM_AttentionForwardCausal_Fa3_H100(benchmark::State& state) {
  run(state, "h100", attention(4, 16, 8192, 128, true), "attn_fa3", kFa3Tile);
}
BENCHMARK(BM_AttentionForwardCausal_Fa3_H100)->Unit(benchmark::kMillisecond);

void BM_Gemm8k_Sm90Ws_H100(benchmark::State& state) {
  model::Problem p;
  p.kind = model::ProblemKind::kGemm;
  p.m = p.n = p.k = 8192;
  run(state, "h100", p, "gemm_sm90_ws",
      "block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1");
}
BENCHMARK(BM_Gemm8k_Sm90Ws_H100)->Unit(benchmark::kMillisecond);

// The cost curve against sequence length: batch 4, 16 heads, head dim 128, 1k..1M tokens.
// Up to ~32k the whole grid is simulated and the cost grows with the work; beyond it the
// periodic steady state is extrapolated from reduced grids and the cost stays flat
// ("extrapolated" = 1, "error_bound_pct" the stated bound relative to the kernel time).
void BM_AttentionTokens_Fa3_H100(benchmark::State& state) {
  const int64_t seq = state.range(0);
  const profiles::Profile p = profiles::builtin_profile("h100");
  const model::ScheduleDesc d =
      model::build_schedule(p, attention(4, 16, seq, 128, false), "attn_fa3", model::parse_tile(kFa3Tile));
  const sim::Options o = sim::default_options(p, model::default_constants());
  sim::Result r;
  for (auto _ : state) {
    r = sim::simulate(d, o);
    benchmark::DoNotOptimize(r);
  }
  state.counters["tokens"] = static_cast<double>(seq);
  state.counters["op_instances"] = static_cast<double>(r.op_instances);
  state.counters["extrapolated"] = r.extrapolated ? 1.0 : 0.0;
  state.counters["error_bound_pct"] = r.kernel_us > 0.0 ? 100.0 * r.error_bound_us / r.kernel_us : 0.0;
  state.SetLabel("simulated " + std::to_string(r.kernel_us) + " us");
}
constexpr int64_t kMinTokens = int64_t{1} << 10;
constexpr int64_t kMaxTokens = int64_t{1} << 20;
constexpr int kTokensMultiplier = 4;
BENCHMARK(BM_AttentionTokens_Fa3_H100)
    ->RangeMultiplier(kTokensMultiplier)
    ->Range(kMinTokens, kMaxTokens)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
