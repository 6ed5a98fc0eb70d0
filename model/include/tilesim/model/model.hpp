// The analytic model's API: predict one (problem, schedule, tile) on a profile; rank
// every feasible tile (tune); explain the arithmetic. Used by the CLI (predict, tune),
// by the simulator (build_schedule) and by validation. The schedules themselves are
// declared in schedule_spec.hpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tilesim/model/constants.hpp"
#include "tilesim/model/problem.hpp"
#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/model/schedule_spec.hpp"
#include "tilesim/model/tile.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::model {

using tilesim::profiles::Profile;

// A tile the profile cannot run (SMEM, registers, TMEM, instruction shape...). `key` is
// a short category used to count reasons in tune ("smem per CTA"), `what()` the full
// sentence ("needs 240.0 KiB SMEM > 227.0 KiB per CTA").
class Infeasible : public std::runtime_error {
 public:
  Infeasible(std::string key, const std::string& message)
      : std::runtime_error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Fills defaults for absent optional parameters (names them in *defaulted) and checks
// that every key is known and every required one present. Throws ModelError.
Tile complete_tile(const std::string& schedule, const Tile& t, std::vector<std::string>* defaulted);

// The schedule description for the simulator (and for predict). Throws ModelError for
// bad input (wrong problem kind, chip without the schedule's features) and Infeasible
// for a tile that does not fit.
ScheduleDesc build_schedule(const Profile& p, const Problem& prob, const std::string& schedule,
                            const Tile& tile, const ModelConstants& k = default_constants());

struct UnitResult {
  Unit unit;
  double cycles_per_iter = 0.0;  // per CTA, one steady-state main-loop iteration, alone
  double utilization = 0.0;      // whole-kernel work / (peak rate * time), 0..1
  // SM units: work / (peak rate * the SMs' active cycles), 0..1: what ncu's
  // pct_of_peak_sustained_active reports (an SM with no CTA resident is not active). Chip-wide
  // units: as utilization.
  double utilization_active = 0.0;
  double work_total = 0.0;       // whole kernel, in the unit's currency
  double bound_us = 0.0;         // work_total at the unit's (effective) rate
};

struct Prediction {
  std::string gpu;        // profile id
  std::string schedule;
  Problem problem;
  Tile tile;              // completed with defaults
  std::vector<std::string> defaulted;  // tile keys that took the schedule's default
  double time_us = 0.0;
  double tflops = 0.0;            // useful FLOPs / time
  double bytes_hbm = 0.0;         // with the L2 reuse model
  // Of bytes_hbm: dirty lines the L2 held at the start, written back as the kernel's traffic
  // evicts them (ModelConstants::l2_clean_at_start; 0 on a clean L2).
  double l2_writeback_bytes = 0.0;
  double bytes_l2 = 0.0;
  double hbm_gbps = 0.0;          // bytes_hbm / time (achieved bandwidth, GB/s)
  std::string bottleneck;         // unit name
  std::string bound_kind;         // throughput | dependency | memory | launch | tail
  std::string why;                // one line
  std::vector<UnitResult> units;  // every unit with work
  // steady-state iteration
  double iteration_cycles = 0.0;
  double resource_bound_cycles = 0.0;   // ctas_per_sm-shared busiest unit
  double dependency_bound_cycles = 0.0; // max cycle ratio of the loop graph
  std::string binding_cycle;            // "qk.wg0 -> softmax.wg0 -> qk.wg0 (1 iter)"
  // grid
  int ctas_per_sm = 0;
  std::string occupancy_limit;
  int64_t work_items = 0;
  double waves = 0.0;             // work items / resident CTA slots
  double tail_efficiency = 0.0;   // busy slot-time / (slots * makespan)
  double makespan_us = 0.0;      // kernel part (max of list schedule and unit bounds)
  double makespan_cycles = 0.0;  // list schedule of the work items, incl. hidden parts
  double prologue_cycles = 0.0;  // per item
  double fill_cycles = 0.0;      // per item: first iteration's latency beyond one steady iteration
  double epilogue_cycles = 0.0;  // per item
  double hidden_cycles = 0.0;    // per item, hidden by a persistent grid (prologue/epilogue overlap)
  int share_sm = 1;              // CTAs that share one SM's units in the steady state
  double active_ctas = 0.0;      // CTAs streaming at once (chip-wide units are shared by these)
  double launch_us = 0.0;
  double post_us = 0.0;
  double clock_mhz = 0.0;         // predicted SM clock (model/src/clock.hpp)
  std::string clock_model;        // how it was obtained
  // The energy bound (evaluate.cpp): time_us is a launch on a rested card (the clock the
  // fast limits allow); sustained_time_us is the same launch repeated back to back for
  // longer than the power limiter's reaction time: at least the kernel's energy over the
  // power the board limit leaves above idle. Without a measured power block (power_known
  // false) they are equal.
  double energy_j = 0.0;              // the kernel's energy (J), its work x the model's energies (0 without power)
  bool power_known = false;
  double power_w = 0.0;               // board power at time_us: idle + energy / kernel time
  double sustained_time_us = 0.0;
  double sustained_clock_mhz = 0.0;   // the clock that stretches the kernel to sustained_time_us
  ScheduleDesc desc;              // what was evaluated (simulator, --explain)
};

// The time of `pr`'s kernel timed in samples separated by gaps of `gap_us` that draw
// `gap_energy_j` above idle (an L2 flush, the host's wait), once the power limiter acts:
// sustained_time_us is the case without gaps. pr.time_us when the chip's power is unknown.
double power_limited_time_us(const Prediction& pr, double gap_us, double gap_energy_j);
// The SM clock at which a kernel of `kernel_us` at `clock_mhz` takes `extra_us` longer: the
// same cycles, more slowly (what the power limiter does to it).
double stretched_clock_mhz(double clock_mhz, double kernel_us, double extra_us);

// Throws ModelError (bad input, schedule not on chip) or Infeasible (tile). The desc of
// the result carries no explanatory strings (Use::what, notes, summary): use
// detailed = true for explain().
Prediction predict(const Profile& p, const Problem& prob, const std::string& schedule,
                   const Tile& tile, const ModelConstants& k = default_constants());
Prediction predict(const Profile& p, const Problem& prob, const std::string& schedule,
                   const Tile& tile, const ModelConstants& k, bool detailed);

struct Ranked {
  std::string schedule;
  Tile tile;
  double time_us = 0.0;
  double sustained_time_us = 0.0;  // back to back under the board's power limit (Prediction's)
  double tflops = 0.0;
  double hbm_gbps = 0.0;
  std::string bottleneck;
  std::string bound_kind;
  double bottleneck_utilization = 0.0;
  double tensor_utilization = 0.0;
  double second_utilization = 0.0;  // the second-busiest unit's (second_busiest_utilization)
  double waves = 0.0;
  int ctas_per_sm = 0;
  bool has_kernel = false;  // a compiled kernel instance runs this tile on this problem
};

struct TuneStats {
  int considered = 0;
  int feasible = 0;
  std::map<std::string, int> infeasible_by_reason;    // key -> count
  std::map<std::string, std::string> reason_example;  // key -> one full message
  std::map<std::string, std::string> schedules_rejected;  // schedule -> reason
};

struct TuneOptions {
  std::string schedule;       // "" = every schedule of the problem's kind valid on the chip
  bool kernels_only = false;  // only tiles a compiled kernel instance runs (has_kernel)
  bool sustained = false;     // rank by sustained_time_us (a layer run back to back), not time_us
};

// Candidates whose predicted times lie within this fraction of the fastest of their group are
// a tie: the model's error on shapes it never saw is several times larger.
constexpr double kRankTieTolerance = 0.005;

// The whole-kernel utilization of the prediction's second-busiest unit (0..1): how close the
// next bound is, where contention the model does not count would strike first. The second
// form takes the units' utilizations as a list (a validation record's).
double second_busiest_utilization(const Prediction& p);
double second_busiest_utilization(const std::vector<double>& utilizations);

// The order tune ranks candidates in (indices into the inputs): by time, and a group of
// candidates within kRankTieTolerance of the group's fastest by their second-busiest unit's
// utilization (most headroom first), then by time. `validate` judges the model's pick by the
// same order.
std::vector<size_t> rank_order(const std::vector<double>& time_us, const std::vector<double>& second_utilization);

// Every tile of tune_values (per schedule) that is feasible, ranked by rank_order on time
// (fastest first; on sustained time with TuneOptions::sustained). With kernels_only, the
// candidates are the schedule's kernel instances that serve the problem (runtime parameters
// from tune_values) instead.
std::vector<Ranked> tune(const Profile& p, const Problem& prob, const TuneOptions& opt, TuneStats* stats = nullptr,
                         const ModelConstants& k = default_constants());
std::vector<Ranked> tune(const Profile& p, const Problem& prob, const std::string& schedule,
                         TuneStats* stats = nullptr, const ModelConstants& k = default_constants());

// The dependency (cycle) bound of a main loop on its own: max over the loop graph's
// cycles of sum(edge weights) / sum(distances), weights per dependency kind (issue = 0,
// after = occupancy, done = occupancy + latency); chip-wide units shared by
// `resident_ctas_chip`. `binding` (optional) receives the binding cycle's op names.
double loop_dependency_bound(const std::vector<Op>& loop, double resident_ctas_chip, std::string* binding = nullptr);

// The arithmetic behind a prediction, in words (--explain).
std::string explain(const Prediction& pr, const Profile& p);
// JSON of a prediction (the CLI's --json); never NaN/inf.
nlohmann::json to_json(const Prediction& pr);
nlohmann::json to_json(const Ranked& r);
// The schedule description as JSON (roles, ops with uses and deps, rings, grid): for the
// simulator's debugging and `predict --json --ir`.
nlohmann::json to_json(const ScheduleDesc& d);

// What-if chip: "mufu=2,tensor=2" multiplies the profile's rates. Units: tensor (all
// tensor rates incl. mma.sync), mufu, fma, alu, cvt, smem, l2, hbm, sms (SM count),
// clock. Throws ModelError listing the valid names for an unknown one.
void apply_scale(Profile& p, const std::string& spec);
std::vector<std::string> scale_units();

}  // namespace tilesim::model
