// Internal: the analytic evaluator of a ScheduleDesc.
#pragma once

#include "tilesim/model/model.hpp"

namespace tilesim::model::detail {

// Fills every numeric field of `out` from `d` (out.desc is not touched).
// detailed = false skips the text fields (why, binding_cycle) for tune.
// Reads nothing but `d` (its chip terms included).
void evaluate(const ScheduleDesc& d, Prediction& out, bool detailed = true);
// The energy bound on a kernel that keeps the chip busy `busy_us` (kernel and post pass; of
// `time_us` with the launch) and uses `energy_j`, launched again and again with gaps of
// `gap_us` between launches that themselves use `gap_energy_j` above idle: the time once the
// board's power limit holds the launch-and-gap average (time_us when that average stays
// under the limit or the chip has no power block).
double energy_bound_time_us(const ChipTerms& k, double energy_j, double busy_us, double time_us, double gap_us,
                            double gap_energy_j);
// The chip's and the model constants' terms evaluation needs, copied into every ScheduleDesc.
ChipTerms chip_terms(const Profile& p, const ModelConstants& k);
// Builds with a complete tile, after the problem, kind and chip were checked: checks the
// spec's parameter domains and constraints (throws Infeasible), then runs the builder.
// With `reject` given, an occupancy failure is stored there (key) instead of thrown.
ScheduleDesc build_checked(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const Tile& full,
                           const ModelConstants& k, bool detailed, std::string* reject = nullptr);
// The same without the spec checks, for a tile check_tile() already passed (tune).
ScheduleDesc build_unchecked(const Profile& p, const Problem& prob, const ScheduleSpec& spec, const Tile& full,
                             const ModelConstants& k, bool detailed, std::string* reject = nullptr);
void validate_desc(const ScheduleDesc& d);

// The loop graph's dependency bound: max over cycles of weight/distance, with
// weights from the given per-op occupancy and latency.
struct CycleBound {
  double cycles_per_iter = 0.0;
  std::vector<std::pair<int, int>> binding;  // edges (op, dep index) of the binding cycle
  int distance = 0;
};
CycleBound dependency_bound(const std::vector<Op>& loop, const std::vector<double>& occupancy);

}  // namespace tilesim::model::detail

namespace tilesim::model {
ScheduleDesc build_schedule_impl(const Profile& p, const Problem& prob, const std::string& schedule, const Tile& tile,
                                 const ModelConstants& k, bool detailed);
}
