#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace tilesim::sim::detail {

namespace {
constexpr int kIssue = static_cast<int>(model::DepKind::kIssue);
constexpr int kAfter = static_cast<int>(model::DepKind::kAfter);
constexpr int kDoneKind = static_cast<int>(model::DepKind::kDone);
}  // namespace

Engine::Engine(const Program& prog, const model::ScheduleDesc& d, const Options& o, bool persistent,
               std::vector<SmGroup>& groups)
    : prog_(prog), d_(d), o_(o), persistent_(persistent), groups_(groups) {
  for (int u = 0; u < model::kUnitCount; ++u) {
    chip_[u].rate = prog.chip_rate[u];
    chip_[u].cap = o.transfer_cap_bytes_per_clk;  // 0 = no cap
  }
  role_in_epilogue_.assign(d.roles.size(), false);
  for (const auto& op : d.epilogue) role_in_epilogue_[static_cast<size_t>(op.role)] = true;
  gs_.resize(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    gs_[g].weight = groups[g].sms;
    for (size_t s = 0; s < groups[g].slot_classes.size(); ++s) {
      SlotState st;
      st.group = static_cast<int>(g);
      st.index = static_cast<int>(s);
      slots_.push_back(std::move(st));
      layout_slot(slots_.back(), groups[g]);
    }
  }
}

void Engine::layout_slot(SlotState& s, const SmGroup& g) {
  const auto& classes = g.slot_classes[static_cast<size_t>(s.index)];
  int64_t total = 0, gbase = 0;
  const int64_t L = prog_.n_loop;
  for (int c : classes) {
    Item it;
    it.cls = c;
    it.n = d_.grid.classes[static_cast<size_t>(c)].iterations;
    it.pro_base = total;
    it.loop_base = total + prog_.n_pro;
    it.epi_base = it.loop_base + L * it.n;
    it.end = it.epi_base + prog_.n_epi;
    it.gbase = gbase;
    it.pro_left = prog_.n_pro;
    it.epi_left = prog_.n_epi;
    it.loop_start_left = it.loop_done_left = L * it.n;
    total = it.end;
    gbase += it.n;
    s.items.push_back(it);
  }
  if (total > INT32_MAX)
    throw SimError("too many op instances on one SM slot (" + std::to_string(total) + ")");
  const size_t n = static_cast<size_t>(total);
  s.remaining.assign(n, 0);
  s.op.assign(n, 0);
  s.iter.assign(n, -1);
  s.item.assign(n, 0);
  s.label.assign(n, -1);
  s.ready.assign(n, -1.0);
  s.start.assign(n, -1.0);
  s.end.assign(n, -1.0);
  s.done.assign(n, -1.0);
  s.wait_unit.assign(n, -1);
  s.pending.assign(n, 0);
  for (size_t j = 0; j < s.items.size(); ++j) {
    const Item& it = s.items[j];
    for (int o = 0; o < prog_.n_pro; ++o) {
      const size_t x = static_cast<size_t>(it.pro_base + o);
      s.op[x] = o;
      s.item[x] = static_cast<int32_t>(j);
      s.remaining[x] =
          1 + static_cast<int32_t>(prog_.ops[static_cast<size_t>(o)].dep_distances.size());
    }
    for (int64_t i = 0; i < it.n; ++i)
      for (int o = 0; o < L; ++o) {
        const size_t x = static_cast<size_t>(it.loop_base + i * L + o);
        const OpT& t = prog_.ops[static_cast<size_t>(prog_.first_loop + o)];
        int32_t cnt = 1;                                  // the loop gate (prologue done)
        if (j > 0 && waits_prev_epilogue(t.role)) ++cnt;  // in-order stream after its epilogue ops
        const int64_t horizon = persistent_ ? it.gbase + i : i;
        for (int dist : t.dep_distances)
          if (dist <= horizon) ++cnt;
        s.op[x] = prog_.first_loop + o;
        s.iter[x] = static_cast<int32_t>(i);
        s.item[x] = static_cast<int32_t>(j);
        s.remaining[x] = cnt;
      }
    for (int o = 0; o < prog_.n_epi; ++o) {
      const size_t x = static_cast<size_t>(it.epi_base + o);
      s.op[x] = prog_.first_epi + o;
      s.item[x] = static_cast<int32_t>(j);
      s.remaining[x] =
          1 + static_cast<int32_t>(
                  prog_.ops[static_cast<size_t>(prog_.first_epi + o)].dep_distances.size());
    }
  }
}

void Engine::push(double t, EventType type, int32_t slot, int64_t a, int32_t b) {
  heap_.push(Event{t, seq_++, slot, b, a, type});
}

void Engine::record(const TraceRecord& r) {
  if (static_cast<int64_t>(trace_.size()) >= o_.max_trace_records) {
    trace_truncated_ = true;
    return;
  }
  trace_.push_back(r);
}

void Engine::deliver(int32_t slot, int64_t inst, int32_t label) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  const size_t x = static_cast<size_t>(inst);
  s.label[x] = label;
  if (--s.remaining[x] == 0) {
    s.ready[x] = now_;
    imm_.push_back(Act{slot, static_cast<int32_t>(inst), kTryStart});
  }
}

int64_t Engine::resolve(const SlotState& s, int64_t inst, const Succ& e) const {
  const size_t x = static_cast<size_t>(inst);
  const int to = e.to;
  const Item& it = s.items[static_cast<size_t>(s.item[x])];
  if (to < prog_.first_loop) return it.pro_base + to;
  if (to >= prog_.first_epi) return it.epi_base + (to - prog_.first_epi);
  int64_t i = s.iter[x] + e.distance;
  size_t j = static_cast<size_t>(s.item[x]);
  while (i >= s.items[j].n) {
    if (!persistent_) return -1;
    i -= s.items[j].n;
    if (++j == s.items.size()) return -1;
  }
  return s.items[j].loop_base + i * prog_.n_loop + (to - prog_.first_loop);
}

void Engine::notify(int32_t slot, int64_t inst, int kind) {
  const SlotState& s = slots_[static_cast<size_t>(slot)];
  const OpT& t = prog_.ops[static_cast<size_t>(s.op[static_cast<size_t>(inst)])];
  for (const Succ& e : t.succ[kind]) {
    const int64_t target = resolve(s, inst, e);
    if (target < 0) continue;
    if (e.distance > 0 && o_.loop_edge_overhead_cycles > 0.0)
      push(now_ + o_.loop_edge_overhead_cycles * e.distance, kNotifyLate, slot, target, e.label);
    else
      deliver(slot, target, e.label);
  }
}

int Engine::first_busy_unit(const SlotState& s, int64_t inst) const {
  const OpT& t = prog_.ops[static_cast<size_t>(s.op[static_cast<size_t>(inst)])];
  const GroupState& g = gs_[static_cast<size_t>(s.group)];
  for (const SmHold& h : t.holds)
    if (g.units[h.unit].busy) return h.unit;
  return -1;
}

void Engine::try_start(int32_t slot, int64_t inst) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  if (!o_.ignore_resources) {
    const int u = first_busy_unit(s, inst);
    if (u >= 0) {
      if (s.wait_unit[static_cast<size_t>(inst)] < 0)
        s.wait_unit[static_cast<size_t>(inst)] = static_cast<int8_t>(u);
      gs_[static_cast<size_t>(s.group)].units[u].waiting.push_back(
          Ref{slot, static_cast<int32_t>(inst)});
      return;
    }
  }
  start(slot, inst);
}

void Engine::start(int32_t slot, int64_t inst) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  const size_t x = static_cast<size_t>(inst);
  GroupState& g = gs_[static_cast<size_t>(s.group)];
  const OpT& t = prog_.ops[static_cast<size_t>(s.op[x])];
  s.start[x] = now_;
  int pending = 0;
  for (const SmHold& h : t.holds) {
    if (!o_.ignore_resources) g.units[h.unit].busy = true;
    g.busy[h.unit] += h.cycles;
    g.work[h.unit] += h.work;
    push(now_ + h.cycles, kRelease, slot, inst, h.unit);
    ++pending;
    if (o_.record_trace)
      record(TraceRecord{TraceRecord::kUnit, static_cast<int16_t>(h.unit), s.group, s.index,
                         s.op[x], s.item[x], s.iter[x], now_, now_ + h.cycles, 0.0});
  }
  for (const ChipUse& c : t.chip) {
    g.work[c.unit] += c.bytes;
    if (o_.ignore_resources) continue;  // unlimited chip bandwidth: only the latency remains
    chip_add(c.unit, slot, inst, c.norm_bytes);
    ++pending;
  }
  if (t.chain > 0.0) {  // the op's warps issue their dependent stream: no unit is held
    push(now_ + t.chain, kRelease, slot, inst, -1);
    ++pending;
  }
  s.pending[x] = static_cast<int8_t>(pending);
  if (pending == 0) imm_.push_back(Act{slot, static_cast<int32_t>(inst), kOccEnd});
  notify(slot, inst, kIssue);
  if (t.phase == Phase::kLoop) {
    Item& it = s.items[static_cast<size_t>(s.item[x])];
    if (--it.loop_start_left == 0) loop_all_started(slot, s.item[x]);
  }
}

void Engine::part_done(int32_t slot, int64_t inst) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  if (--s.pending[static_cast<size_t>(inst)] == 0)
    imm_.push_back(Act{slot, static_cast<int32_t>(inst), kOccEnd});
}

void Engine::occ_end(int32_t slot, int64_t inst) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  const size_t x = static_cast<size_t>(inst);
  const OpT& t = prog_.ops[static_cast<size_t>(s.op[x])];
  s.end[x] = now_;
  if (o_.record_trace)
    record(TraceRecord{TraceRecord::kOp, -1, s.group, s.index, s.op[x], s.item[x], s.iter[x],
                       s.start[x], now_, now_ + t.latency});
  notify(slot, inst, kAfter);
  if (t.latency > 0.0)
    push(now_ + t.latency, kDoneLat, slot, inst, 0);
  else
    done(slot, inst);
}

void Engine::done(int32_t slot, int64_t inst) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  const size_t x = static_cast<size_t>(inst);
  s.done[x] = now_;
  notify(slot, inst, kDoneKind);
  const OpT& t = prog_.ops[static_cast<size_t>(s.op[x])];
  const int j = s.item[x];
  Item& it = s.items[static_cast<size_t>(j)];
  switch (t.phase) {
    case Phase::kPrologue:
      if (--it.pro_left == 0) pro_done(slot, j);
      break;
    case Phase::kLoop:
      if (--it.loop_done_left == 0) loop_done(slot, j);
      break;
    case Phase::kEpilogue:
      if (--it.epi_left == 0) epi_done(slot, j);
      break;
  }
}

void Engine::dispatch(int group, int unit) {
  GroupState& g = gs_[static_cast<size_t>(group)];
  UnitState& u = g.units[unit];
  while (!u.busy && !u.waiting.empty()) {
    const Ref r = u.waiting.front();
    u.waiting.pop_front();
    const int blocker = first_busy_unit(slots_[static_cast<size_t>(r.slot)], r.inst);
    if (blocker < 0)
      start(r.slot, r.inst);
    else
      g.units[blocker].waiting.push_back(r);
  }
}

// --- items -------------------------------------------------------------------------------

void Engine::open_item(int32_t slot, int j) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  Item& it = s.items[static_cast<size_t>(j)];
  it.t_start = now_;
  for (int o = 0; o < prog_.n_pro; ++o) deliver(slot, it.pro_base + o, prog_.label_item_start);
  if (prog_.n_pro == 0) pro_done(slot, j);
}

void Engine::pro_done(int32_t slot, int j) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  Item& it = s.items[static_cast<size_t>(j)];
  it.pro_done = true;
  it.t_pro_done = now_;
  const int64_t n = prog_.n_loop * it.n;
  for (int64_t x = 0; x < n; ++x) deliver(slot, it.loop_base + x, prog_.label_prologue);
  if (n == 0) {
    loop_all_started(slot, j);
    loop_done(slot, j);
  }
}

bool Engine::waits_prev_epilogue(int role) const {
  return persistent_ && !d_.epilogue_overlaps_next && role_in_epilogue_[static_cast<size_t>(role)];
}

void Engine::loop_all_started(int32_t slot, int j) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  if (persistent_ && d_.prologue_overlaps_previous && static_cast<size_t>(j + 1) < s.items.size())
    push(now_ + o_.item_setup_cycles, kItemGate, slot, j + 1, 0);
}

void Engine::loop_done(int32_t slot, int j) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  Item& it = s.items[static_cast<size_t>(j)];
  it.loop_done = true;
  for (int o = 0; o < prog_.n_epi; ++o) deliver(slot, it.epi_base + o, prog_.label_loop_done);
  if (persistent_ && !d_.prologue_overlaps_previous && d_.epilogue_overlaps_next &&
      static_cast<size_t>(j + 1) < s.items.size())
    push(now_ + o_.item_setup_cycles, kItemGate, slot, j + 1, 0);
  if (prog_.n_epi == 0) epi_done(slot, j);
}

void Engine::epi_done(int32_t slot, int j) {
  SlotState& s = slots_[static_cast<size_t>(slot)];
  Item& it = s.items[static_cast<size_t>(j)];
  it.epi_done = true;
  it.t_end = now_;
  s.t_end = std::max(s.t_end, now_);
  makespan_ = std::max(makespan_, now_);
  if (static_cast<size_t>(j + 1) >= s.items.size()) return;
  if (!persistent_) {
    push(now_ + o_.cta_launch_cycles + o_.item_setup_cycles, kItemGate, slot, j + 1, 0);
    return;
  }
  if (!d_.prologue_overlaps_previous && !d_.epilogue_overlaps_next)
    push(now_ + o_.item_setup_cycles, kItemGate, slot, j + 1, 0);
  // Roles that ran this item's epilogue continue with the next item's loop.
  const Item& next = s.items[static_cast<size_t>(j + 1)];
  const int64_t n = prog_.n_loop * next.n;
  for (int64_t x = 0; x < n; ++x) {
    const int64_t inst = next.loop_base + x;
    if (waits_prev_epilogue(prog_.ops[static_cast<size_t>(s.op[static_cast<size_t>(inst)])].role))
      deliver(slot, inst, prog_.label_prev_item);
  }
}

// --- chip-wide units: processor sharing with a virtual clock -----------------------------
// Every transfer in flight gets the same rate r = rate / weight (capped), so the bytes
// served to each since t=0 form one virtual clock v; a transfer of b bytes admitted at v0
// finishes when v reaches v0 + b. Only the earliest finish needs an event.

double Engine::chip_rate(const ChipState& c) const {
  if (c.weight <= 0) return 0.0;
  const double r = c.rate / static_cast<double>(c.weight);
  return c.cap > 0.0 ? std::min(r, c.cap) : r;
}

void Engine::chip_advance(ChipState& c) {
  c.v += chip_rate(c) * (now_ - c.t_last);
  c.t_last = now_;
}

void Engine::chip_resched(int unit) {
  ChipState& c = chip_[unit];
  if (c.q.empty()) {
    ++c.version;  // nothing in flight: any pending completion event is stale
    c.next_at = -1.0;
    return;
  }
  const double t = now_ + std::max(0.0, c.q.top().finish - c.v) / chip_rate(c);
  // A pending event at or before t stays valid: chip_complete re-checks and re-arms.
  if (c.next_at >= now_ && c.next_at <= t) return;
  ++c.version;
  c.next_at = t;
  push(t, kChip, -1, unit, static_cast<int32_t>(c.version));
}

void Engine::chip_add(int unit, int32_t slot, int64_t inst, double norm_bytes) {
  ChipState& c = chip_[unit];
  chip_advance(c);
  const SlotState& s = slots_[static_cast<size_t>(slot)];
  const int w = gs_[static_cast<size_t>(s.group)].weight;
  c.q.push(Transfer{c.v + norm_bytes, seq_++, slot, static_cast<int32_t>(inst), s.group, w});
  c.weight += w;
  gs_[static_cast<size_t>(s.group)].inflight[unit] += 1;
  if (o_.record_trace) counter(s.group, unit);
  chip_resched(unit);
}

bool Engine::chip_complete(int unit, uint32_t version) {
  ChipState& c = chip_[unit];
  if (version != c.version) return false;  // superseded by an earlier completion
  c.next_at = -1.0;
  chip_advance(c);
  // Finish every transfer whose bytes are served: within a relative tolerance for the
  // rounding of v, or so close that the time left is below the resolution of now_ (late
  // in a long kernel, one ulp of now_ is many picocycles: re-arming an event for the
  // remainder would land on now_ again and never advance the clock).
  const double r = chip_rate(c);
  auto served = [&](const Transfer& t) {
    const double left = t.finish - c.v;
    return left <= 1e-9 * std::max(1.0, c.v) || now_ + left / r <= now_;
  };
  while (!c.q.empty() && served(c.q.top())) {
    const Transfer t = c.q.top();
    c.q.pop();
    c.weight -= t.weight;
    gs_[static_cast<size_t>(t.group)].inflight[unit] -= 1;
    if (o_.record_trace) counter(t.group, unit);
    part_done(t.slot, t.inst);
  }
  if (c.q.empty()) c.v = 0.0;  // keep the virtual clock small (precision)
  chip_resched(unit);
  return true;
}

void Engine::counter(int group, int unit) {
  record(TraceRecord{TraceRecord::kCounter, static_cast<int16_t>(unit), group, 0, 0, 0, -1, now_,
                     now_, static_cast<double>(gs_[static_cast<size_t>(group)].inflight[unit])});
}

// --- main loop ---------------------------------------------------------------------------

void Engine::run() {
  for (size_t s = 0; s < slots_.size(); ++s)
    if (!slots_[s].items.empty())
      push(o_.cta_launch_cycles + o_.item_setup_cycles, kItemGate, static_cast<int32_t>(s), 0, 0);
  for (;;) {
    if (imm_head_ < imm_.size()) {
      const Act a = imm_[imm_head_++];
      ++events_;
      switch (a.type) {
        case kTryStart:
          try_start(a.slot, a.inst);
          break;
        case kOccEnd:
          occ_end(a.slot, a.inst);
          break;
        case kDone:
          done(a.slot, a.inst);
          break;
      }
      continue;
    }
    imm_.clear();
    imm_head_ = 0;
    if (heap_.empty()) break;
    const Event e = heap_.top();
    heap_.pop();
    now_ = e.t;
    ++events_;
    switch (e.type) {
      case kRelease: {
        const int g = slots_[static_cast<size_t>(e.slot)].group;
        if (e.b >= 0 && !o_.ignore_resources) gs_[static_cast<size_t>(g)].units[e.b].busy = false;
        part_done(e.slot, e.a);
        if (e.b >= 0 && !o_.ignore_resources) dispatch(g, e.b);
        break;
      }
      case kDoneLat:
        done(e.slot, e.a);
        break;
      case kNotifyLate:
        deliver(e.slot, e.a, e.b);
        break;
      case kItemGate:
        open_item(e.slot, static_cast<int>(e.a));
        break;
      case kChip:
        if (!chip_complete(static_cast<int>(e.a), static_cast<uint32_t>(e.b)))
          --events_;  // stale: not an event
        break;
    }
  }
  check_finished();
  for (size_t g = 0; g < gs_.size(); ++g) {
    groups_[g].end_cycles = 0.0;
    for (const auto& s : slots_)
      if (s.group == static_cast<int>(g))
        groups_[g].end_cycles = std::max(groups_[g].end_cycles, s.t_end);
    for (int u = 0; u < model::kUnitCount; ++u) {
      unit_busy_[u] += gs_[g].busy[u] * gs_[g].weight;
      unit_work_[u] += gs_[g].work[u] * gs_[g].weight;
    }
  }
}

void Engine::check_finished() const {
  for (const auto& s : slots_) {
    for (size_t j = 0; j < s.items.size(); ++j) {
      if (s.items[j].epi_done) continue;
      // Name the first instance that never started and what it waited on.
      const Item& it = s.items[j];
      for (int64_t x = it.pro_base; x < it.end; ++x) {
        if (s.start[static_cast<size_t>(x)] >= 0.0) continue;
        const OpT& t = prog_.ops[static_cast<size_t>(s.op[static_cast<size_t>(x)])];
        const int lab = s.label[static_cast<size_t>(x)];
        throw SimError("deadlock: op " + t.name + " (item " + std::to_string(j) + ", iteration " +
                       std::to_string(s.iter[static_cast<size_t>(x)]) + ") never became ready; " +
                       std::to_string(s.remaining[static_cast<size_t>(x)]) +
                       " predecessor(s) missing, last seen: " +
                       (lab >= 0 ? prog_.labels[static_cast<size_t>(lab)] : std::string("none")));
      }
      throw SimError("deadlock: item " + std::to_string(j) + " never finished");
    }
  }
}

}  // namespace tilesim::sim::detail
