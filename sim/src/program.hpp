// Internal: a ScheduleDesc flattened for the engine. Ops of the three phases get one
// global id (prologue first, then loop, then epilogue); uses are split into SM-unit holds
// (cycles) and chip-wide transfers (bytes normalised to the unit's fastest rate); deps
// are inverted into successor lists by kind, so that an event touches only its successors.
#pragma once

#include <string>
#include <vector>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/sim/options.hpp"

namespace tilesim::sim::detail {

enum class Phase : uint8_t { kPrologue = 0, kLoop, kEpilogue };

struct SmHold {
  int unit = 0;
  double cycles = 0.0;
  double work = 0.0;  // in the unit's currency (statistics)
};
struct ChipUse {
  int unit = 0;
  double norm_bytes = 0.0;  // bytes x (unit's fastest rate / this use's rate)
  double bytes = 0.0;       // as in the IR (statistics)
};
struct Succ {
  int to = 0;        // global op id
  int distance = 0;  // iterations forward
  int label = 0;     // what the successor waits on (for stall reasons)
};
struct OpT {
  std::string name;
  Phase phase = Phase::kLoop;
  int local = 0;  // index within its phase
  int role = 0;
  std::vector<SmHold> holds;
  std::vector<ChipUse> chip;
  double latency = 0.0;
  double chain = 0.0;  // the op's own warps' dependent instruction stream (holds no unit)
  std::vector<Succ> succ[3];       // by DepKind: issue, after, done
  std::vector<int> dep_distances;  // one per dep (for counting existing predecessors)
};

struct Program {
  std::vector<OpT> ops;  // global ids
  int n_pro = 0, n_loop = 0, n_epi = 0;
  int first_loop = 0, first_epi = 0;
  std::vector<std::string> labels;
  int label_item_start = 0;                  // CTA launch / item setup / previous item
  int label_prologue = 0;                    // the loop waits for the prologue
  int label_prev_item = 0;                   // the loop waits for the previous item's epilogue
  int label_loop_done = 0;                   // the epilogue waits for the whole main loop
  double chip_rate[model::kUnitCount] = {};  // fastest rate_per_clk seen per chip-wide unit
  bool any_unit[model::kUnitCount] = {};
};

Program build_program(const model::ScheduleDesc& d);

}  // namespace tilesim::sim::detail
