// The discrete-event pipeline simulator: executes a model::ScheduleDesc (the same
// description the analytic model evaluates) op instance by op instance.
//
// What is simulated
//   - One representative SM per SM group: SMs that receive the same sequence of work
//     classes on each of their CTA slots behave alike (grid.cpp assigns items to SM slots
//     as the hardware or the persistent scheduler would, then groups SMs). All resident
//     CTAs of that SM are simulated; they share its units (tensor, mufu, fma, alu, cvt,
//     smem). A unit serves one op at a time (FIFO by readiness); an op instance holds
//     each of its units for work/rate cycles; its result is visible latency cycles later.
//   - Chip-wide units (l2, hbm) are processor-shared: every transfer in flight on the
//     chip gets rate / (transfers in flight), where a group's transfers count once per
//     SM of the group (the other SMs of a group load alike).
//   - Dependencies, rings, prologue/loop/epilogue and persistent item sequences follow
//     the IR's timing semantics (schedule_ir.hpp); see engine.cpp for the details.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/sim/options.hpp"

namespace tilesim::sim {

class SimError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// SMs that get the same work: one representative is simulated, `sms` stand behind it.
struct SmGroup {
  int sms = 0;
  std::vector<std::vector<int>> slot_classes;  // per resident CTA slot: class ids in order
  double end_cycles = 0.0;                     // when its last CTA finished
};

struct UnitStats {
  model::Unit unit = model::Unit::kTensor;
  double work = 0.0;         // whole kernel, unit's currency (all SMs)
  double busy_cycles = 0.0;  // whole kernel, summed over SMs (SM units) / chip (l2, hbm)
  double busy_fraction =
      0.0;  // busy / (SMs x kernel cycles) for SM units; bytes / (rate x cycles) chip-wide
};

struct StallShare {
  std::string reason;  // "executing", "wait kv_full", "wait unit tensor", "no work"
  double share = 0.0;  // of the role's time (all its CTAs, whole kernel)
};

struct RoleStats {
  std::string role;
  std::vector<StallShare> shares;  // largest first, sums to 1
};

// One timeline record (trace.cpp turns them into Chrome trace events).
struct TraceRecord {
  enum Kind : uint8_t { kOp = 0, kUnit, kCounter };
  Kind kind = kOp;
  int16_t unit = -1;  // kUnit / kCounter: unit index
  int32_t group = 0;
  int32_t slot = 0;    // CTA slot on the representative SM (kOp, kUnit)
  int32_t op = 0;      // global op id (kOp, kUnit)
  int32_t item = 0;    // item index on the slot
  int32_t iter = 0;    // main-loop iteration (-1 outside the loop)
  double t0 = 0.0;     // cycles
  double t1 = 0.0;     // cycles (kOp: occupancy end; kUnit: hold end)
  double value = 0.0;  // kCounter: transfers in flight on this SM; kOp: result visible at
};

struct Result {
  // time
  double total_us = 0.0;       // kernel + launch + post pass
  double kernel_cycles = 0.0;  // makespan of the grid
  double kernel_us = 0.0;
  double launch_us = 0.0;
  double post_us = 0.0;
  double clock_mhz = 0.0;
  // steady state of the longest item on the representative SMs
  double steady_iteration_cycles = 0.0;
  int64_t steady_first_iter = 0, steady_last_iter = 0;
  std::string steady_op;
  double first_item_cycles = 0.0;  // duration of the first item of that slot (fill included)
  // grid
  std::vector<SmGroup> groups;
  int64_t work_items = 0;
  int ctas_per_sm = 0;
  std::string scheduler;
  // stats
  std::vector<UnitStats> units;  // every unit with work
  std::vector<RoleStats> roles;
  int64_t events = 0;        // processed events (heap pops + same-time actions)
  int64_t op_instances = 0;  // op instances executed on representative SMs
  double wall_ms = 0.0;      // simulator run time on this machine
  // periodic steady state: the result extrapolated from reduced simulations
  bool extrapolated = false;
  double error_bound_us = 0.0;     // |extrapolated - whole simulation| <= this (see README)
  std::string extrapolation;       // how: the reduced grids and the periods used
  int simulations = 1;             // engine runs behind this result
  // timeline
  std::vector<TraceRecord> trace;
  bool trace_truncated = false;
  std::vector<std::string> op_names;  // by global op id (prologue, loop, epilogue)
  std::vector<int> op_roles;          // role index by global op id
  std::vector<std::string> role_names;
  std::vector<std::string> class_names;
  Options options;
};

// Runs the simulation. Throws SimError for a description the engine cannot run
// (deadlock, too many SM groups).
Result simulate(const model::ScheduleDesc& d, const Options& o);

}  // namespace tilesim::sim
