// Internal: the event engine. One Engine runs a set of SM groups (one representative SM
// each, all its resident CTA slots) against a Program, in one event queue, so that the
// chip-wide units see every group's transfers.
//
// Op instances
//   An instance is (op, item, iteration). Every instance of every item on a slot is laid
//   out up front (prologue, loop x iterations, epilogue per item) with a counter of the
//   predecessors it still waits for. Predecessor events (start -> kIssue, occupancy end
//   -> kAfter, result visible -> kDone) decrement their successors; a loop-carried edge
//   (distance d > 0) is delivered d x loop_edge_overhead_cycles later. A counter at zero
//   makes the instance ready; it starts when all its SM units are free (FIFO per unit).
//
// Items on a slot (the IR's phase rules)
//   - every loop instance of item j waits for item j's prologue ("the loop's first
//     iteration waits for the whole prologue"); every epilogue instance for the whole loop;
//   - plain grid: item j+1 is a new CTA: it starts cta_launch + item_setup cycles after
//     item j ended; loop-carried edges do not cross items;
//   - persistent grid: one CTA runs its items back to back and its pipeline carries on:
//     loop-carried edges cross into the next item (the ring's empty barrier of item j+1's
//     first loads is the release by item j's last consumers). Item j+1's prologue starts
//     item_setup cycles after item j's loop has been issued (prologue_overlaps_previous),
//     after its loop finished (epilogue_overlaps_next) or after its epilogue (neither);
//     the loop ops of item j+1 whose role has epilogue ops also wait for item j's
//     epilogue unless epilogue_overlaps_next (a role is an in-order stream; a producer
//     without epilogue ops runs ahead into the next item, bounded by the ring).
#pragma once

#include <cstdint>
#include <deque>
#include <queue>
#include <vector>

#include "program.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::sim::detail {

struct Item {
  int cls = 0;
  int64_t n = 0;  // iterations
  int64_t pro_base = 0, loop_base = 0, epi_base = 0, end = 0;
  int64_t gbase = 0;  // first global iteration on the slot (persistent continuity)
  int pro_left = 0, epi_left = 0;
  int64_t loop_start_left = 0, loop_done_left = 0;
  bool pro_done = false, loop_done = false, epi_done = false;
  double t_start = -1.0, t_pro_done = -1.0, t_end = -1.0;
};

struct SlotState {
  int group = 0;
  int index = 0;  // slot on the representative SM
  std::vector<Item> items;
  // per instance
  std::vector<int32_t> remaining, op, iter, item, label;
  std::vector<double> ready, start, end, done;
  std::vector<int8_t> wait_unit, pending;
  double t_end = 0.0;
};

class Engine {
 public:
  Engine(const Program& prog, const model::ScheduleDesc& d, const Options& o, bool persistent,
         std::vector<SmGroup>& groups);
  void run();  // throws SimError on deadlock

  const std::vector<SlotState>& slots() const { return slots_; }
  int64_t events() const { return events_; }
  double makespan() const { return makespan_; }
  // Whole-kernel per-unit busy cycles (SM units: summed over all SMs of all groups) and
  // work (unit's currency, all SMs).
  double unit_busy(int u) const { return unit_busy_[u]; }
  double unit_work(int u) const { return unit_work_[u]; }
  std::vector<TraceRecord>& trace() { return trace_; }
  bool trace_truncated() const { return trace_truncated_; }

 private:
  struct Ref {
    int32_t slot;
    int32_t inst;
  };
  struct Event {
    double t;
    uint64_t seq;
    int32_t slot;
    int32_t b;
    int64_t a;
    uint8_t type;
  };
  struct EventLater {
    bool operator()(const Event& x, const Event& y) const {
      return x.t > y.t || (x.t == y.t && x.seq > y.seq);
    }
  };
  enum EventType : uint8_t { kRelease = 0, kDoneLat, kNotifyLate, kItemGate, kChip };
  enum ActType : uint8_t { kTryStart = 0, kOccEnd, kDone };
  struct Act {
    int32_t slot;
    int32_t inst;
    uint8_t type;
  };
  struct UnitState {
    bool busy = false;
    std::deque<Ref> waiting;
  };
  struct GroupState {
    int weight = 1;
    UnitState units[model::kUnitCount];
    int inflight[model::kUnitCount] = {};
    double busy[model::kUnitCount] = {};
    double work[model::kUnitCount] = {};
  };
  struct Transfer {
    double finish;
    uint64_t seq;
    int32_t slot;
    int32_t inst;
    int32_t group;
    int32_t weight;
  };
  struct TransferLater {
    bool operator()(const Transfer& x, const Transfer& y) const {
      return x.finish > y.finish || (x.finish == y.finish && x.seq > y.seq);
    }
  };
  struct ChipState {
    double rate = 0.0;  // whole chip, per clk (fastest use's rate; other uses normalised)
    double cap = 0.0;   // per transfer, 0 = none
    double v = 0.0;     // virtual bytes served to each transfer so far
    double t_last = 0.0;
    int64_t weight = 0;  // transfers in flight on the chip (group transfers x SMs)
    uint32_t version = 0;
    double next_at = -1.0;  // time of the armed completion event (-1 = none)
    std::priority_queue<Transfer, std::vector<Transfer>, TransferLater> q;
  };

  void layout_slot(SlotState& s, const SmGroup& g);
  void push(double t, EventType type, int32_t slot, int64_t a, int32_t b);
  void deliver(int32_t slot, int64_t inst, int32_t label);
  void notify(int32_t slot, int64_t inst, int kind);
  int64_t resolve(const SlotState& s, int64_t inst, const Succ& e) const;
  int first_busy_unit(const SlotState& s, int64_t inst) const;
  void try_start(int32_t slot, int64_t inst);
  void start(int32_t slot, int64_t inst);
  void part_done(int32_t slot, int64_t inst);
  void occ_end(int32_t slot, int64_t inst);
  void done(int32_t slot, int64_t inst);
  void dispatch(int group, int unit);
  // items
  void open_item(int32_t slot, int j);
  void pro_done(int32_t slot, int j);
  bool waits_prev_epilogue(int role) const;
  void loop_all_started(int32_t slot, int j);
  void loop_done(int32_t slot, int j);
  void epi_done(int32_t slot, int j);
  // chip-wide units
  double chip_rate(const ChipState& c) const;
  void chip_advance(ChipState& c);
  void chip_resched(int unit);
  void chip_add(int unit, int32_t slot, int64_t inst, double norm_bytes);
  bool chip_complete(int unit, uint32_t version);  // false: stale event
  void counter(int group, int unit);
  void record(const TraceRecord& r);
  void check_finished() const;

  const Program& prog_;
  const model::ScheduleDesc& d_;
  const Options& o_;
  const bool persistent_;
  std::vector<SmGroup>& groups_;
  std::vector<bool> role_in_epilogue_;  // roles with epilogue ops (their loop follows it)
  std::vector<SlotState> slots_;
  std::vector<GroupState> gs_;
  ChipState chip_[model::kUnitCount];
  std::priority_queue<Event, std::vector<Event>, EventLater> heap_;
  std::vector<Act> imm_;
  size_t imm_head_ = 0;
  uint64_t seq_ = 0;
  double now_ = 0.0;
  int64_t events_ = 0;
  double makespan_ = 0.0;
  double unit_busy_[model::kUnitCount] = {};
  double unit_work_[model::kUnitCount] = {};
  std::vector<TraceRecord> trace_;
  bool trace_truncated_ = false;
};

}  // namespace tilesim::sim::detail
