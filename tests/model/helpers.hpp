// Small helpers shared by the model tests.
#pragma once

#include <string>

#include "tilesim/model/model.hpp"

namespace tilesim::model::test {

inline Problem parse_problem(const std::string& json_text) { return problem_from_json(nlohmann::json::parse(json_text)); }

// The built-in constants with the operands warm in L2 (predict --l2-start warm).
inline ModelConstants warm_l2_constants() {
  ModelConstants k = default_constants();
  set_l2_start(k, "warm");
  return k;
}

inline const UnitResult& unit(const Prediction& pr, Unit u) {
  for (const auto& r : pr.units)
    if (r.unit == u) return r;
  static UnitResult none;
  return none;
}

inline const Op& op_named(const std::vector<Op>& ops, const std::string& name) {
  for (const auto& o : ops)
    if (o.name == name) return o;
  throw std::runtime_error("no op " + name);
}

inline double use_work(const Op& op, Unit u) {
  double w = 0.0;
  for (const auto& x : op.uses)
    if (x.unit == u) w += x.work;
  return w;
}

}  // namespace tilesim::model::test
