// Helpers shared by the simulator tests: problems, model + simulator in one call.
#pragma once

#include <string>

#include "tilesim/model/model.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::sim::testing {

inline model::Problem gemm(int64_t m, int64_t n, int64_t k) {
  model::Problem p;
  p.kind = model::ProblemKind::kGemm;
  p.m = m;
  p.n = n;
  p.k = k;
  return p;
}

inline model::Problem attention(int64_t batch, int64_t heads, int64_t seq, int64_t head_dim,
                                bool causal = false) {
  model::Problem p;
  p.kind = model::ProblemKind::kAttention;
  p.batch = batch;
  p.heads_q = p.heads_kv = heads;
  p.seq_q = p.seq_kv = seq;
  p.head_dim = p.head_dim_v = head_dim;
  p.causal = causal;
  return p;
}

inline model::Problem decode(int64_t batch, int64_t heads_q, int64_t heads_kv, int64_t seq_kv) {
  model::Problem p;
  p.kind = model::ProblemKind::kDecode;
  p.batch = batch;
  p.heads_q = heads_q;
  p.heads_kv = heads_kv;
  p.seq_kv = seq_kv;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

inline model::Problem mla(int64_t batch, int64_t heads_q, int64_t seq_kv) {
  model::Problem p;
  p.kind = model::ProblemKind::kMla;
  p.batch = batch;
  p.heads_q = heads_q;
  p.heads_kv = 1;
  p.seq_kv = seq_kv;
  p.head_dim = 576;
  p.head_dim_v = 512;
  return p;
}

struct ModelAndSim {
  model::Prediction pred;
  Result sim;
};

inline ModelAndSim run(const std::string& gpu, const model::Problem& prob,
                       const std::string& schedule, const std::string& tile,
                       bool ignore_resources = false,
                       const model::ModelConstants& k = model::default_constants()) {
  const profiles::Profile p = profiles::builtin_profile(gpu);
  ModelAndSim r;
  r.pred = model::predict(p, prob, schedule, model::parse_tile(tile), k);
  Options o = default_options(p, k);
  o.ignore_resources = ignore_resources;
  r.sim = simulate(r.pred.desc, o);
  return r;
}

inline double rel(double a, double b) { return (a - b) / b; }

}  // namespace tilesim::sim::testing
