#include "program.hpp"

#include <map>

namespace tilesim::sim::detail {

namespace {

int intern(Program& p, std::map<std::string, int>& ids, const std::string& text) {
  auto it = ids.find(text);
  if (it != ids.end()) return it->second;
  p.labels.push_back(text);
  const int id = static_cast<int>(p.labels.size()) - 1;
  ids.emplace(text, id);
  return id;
}

}  // namespace

Program build_program(const model::ScheduleDesc& d) {
  Program p;
  std::map<std::string, int> ids;
  p.label_item_start = intern(p, ids, "wait item start (CTA launch, setup, previous item)");
  p.label_prologue = intern(p, ids, "wait prologue");
  p.label_prev_item = intern(p, ids, "wait previous item's epilogue");
  p.label_loop_done = intern(p, ids, "wait main loop done");

  p.n_pro = static_cast<int>(d.prologue.size());
  p.n_loop = static_cast<int>(d.loop.size());
  p.n_epi = static_cast<int>(d.epilogue.size());
  p.first_loop = p.n_pro;
  p.first_epi = p.n_pro + p.n_loop;

  for (const auto* list : {&d.prologue, &d.loop, &d.epilogue})
    for (const auto& op : *list)
      for (const auto& u : op.uses) {
        const int ui = static_cast<int>(u.unit);
        if (model::unit_is_chip_wide(u.unit))
          p.chip_rate[ui] = std::max(p.chip_rate[ui], u.rate_per_clk);
      }

  const Phase phases[3] = {Phase::kPrologue, Phase::kLoop, Phase::kEpilogue};
  const std::vector<model::Op>* lists[3] = {&d.prologue, &d.loop, &d.epilogue};
  const int base[3] = {0, p.first_loop, p.first_epi};
  p.ops.resize(static_cast<size_t>(p.n_pro + p.n_loop + p.n_epi));
  for (int ph = 0; ph < 3; ++ph) {
    const auto& list = *lists[ph];
    for (size_t v = 0; v < list.size(); ++v) {
      const model::Op& op = list[v];
      OpT& t = p.ops[static_cast<size_t>(base[ph]) + v];
      t.name = op.name;
      t.phase = phases[ph];
      t.local = static_cast<int>(v);
      t.role = op.role;
      t.latency = op.latency_cycles;
      t.chain = op.chain_cycles;
      for (const auto& u : op.uses) {
        if (u.work <= 0.0 || u.rate_per_clk <= 0.0) continue;
        const int ui = static_cast<int>(u.unit);
        p.any_unit[ui] = true;
        if (model::unit_is_chip_wide(u.unit)) {
          // Items that stream nothing (cluster padding, Grid::streaming_share) are not told
          // apart: every item carries its share of the streaming items' traffic.
          const double bytes = u.work * d.grid.streaming_fraction();
          ChipUse c;
          c.unit = ui;
          c.bytes = bytes;
          c.norm_bytes = bytes * (p.chip_rate[ui] / u.rate_per_clk);
          t.chip.push_back(c);
        } else {
          t.holds.push_back(SmHold{ui, u.work / u.rate_per_clk, u.work});
        }
      }
      for (const auto& dep : op.deps) {
        const std::string what = !dep.barrier.empty()
                                     ? "wait " + dep.barrier
                                     : "wait " + list[static_cast<size_t>(dep.op)].name + " (" +
                                           model::dep_kind_name(dep.kind) + ")";
        OpT& from = p.ops[static_cast<size_t>(base[ph] + dep.op)];
        from.succ[static_cast<int>(dep.kind)].push_back(
            Succ{base[ph] + static_cast<int>(v), dep.distance, intern(p, ids, what)});
        t.dep_distances.push_back(dep.distance);
      }
    }
  }
  return p;
}

}  // namespace tilesim::sim::detail
