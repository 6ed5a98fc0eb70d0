#include "grid.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <string>

namespace tilesim::sim::detail {

std::vector<SmGroup> assign_grid(const model::Grid& g, const std::vector<double>& class_cycles,
                                 int max_groups) {
  const int sms = g.sm_count;
  const int per_sm = g.ctas_per_sm;
  // Launch order of classes; longest-first hands out the longest items first.
  std::vector<int> order(g.classes.size());
  std::iota(order.begin(), order.end(), 0);
  if (g.scheduler == model::Scheduler::kLongestFirst)
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return class_cycles[a] > class_cycles[b]; });

  // (free time, rank); rank = slot * sms + sm.
  using Slot = std::pair<double, int64_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> free_slots;
  for (int64_t r = 0; r < static_cast<int64_t>(sms) * per_sm; ++r) free_slots.emplace(0.0, r);
  std::vector<std::vector<std::vector<int>>> per_sm_slots(
      static_cast<size_t>(sms), std::vector<std::vector<int>>(static_cast<size_t>(per_sm)));
  if (g.scheduler == model::Scheduler::kStaticStride) {
    // CTA r takes items r, r + slots, ... of the launch order (the pattern repeated).
    const int64_t slots = static_cast<int64_t>(sms) * per_sm, items = g.total_items();
    const int64_t period = static_cast<int64_t>(g.launch_pattern.size());
    for (int64_t k = 0; k < items; ++k) {
      const int64_t r = k % slots, sm = r % sms, slot = r / sms;
      per_sm_slots[static_cast<size_t>(sm)][static_cast<size_t>(slot)].push_back(
          g.launch_pattern[static_cast<size_t>(k % period)]);
    }
    order.clear();  // handed out above
  }
  for (int c : order) {
    const double dur = std::max(1e-9, class_cycles[static_cast<size_t>(c)]);
    for (int64_t k = 0; k < g.classes[static_cast<size_t>(c)].items; ++k) {
      const Slot s = free_slots.top();
      free_slots.pop();
      const int64_t sm = s.second % sms, slot = s.second / sms;
      per_sm_slots[static_cast<size_t>(sm)][static_cast<size_t>(slot)].push_back(c);
      free_slots.emplace(s.first + dur, s.second);
    }
  }
  // Group SMs with the same (sorted) slot sequences; order groups by first SM.
  std::map<std::vector<std::vector<int>>, int> index;
  std::vector<SmGroup> groups;
  for (int sm = 0; sm < sms; ++sm) {
    auto slots = per_sm_slots[static_cast<size_t>(sm)];
    slots.erase(std::remove_if(slots.begin(), slots.end(), [](const auto& v) { return v.empty(); }),
                slots.end());
    if (slots.empty()) continue;  // an SM with no work
    std::sort(slots.begin(), slots.end());
    auto it = index.find(slots);
    if (it == index.end()) {
      if (static_cast<int>(groups.size()) >= max_groups)
        throw SimError("the grid needs more than " + std::to_string(max_groups) +
                       " distinct SM groups (max_groups); raise it or simulate a smaller problem");
      index.emplace(slots, static_cast<int>(groups.size()));
      SmGroup grp;
      grp.sms = 1;
      grp.slot_classes = std::move(slots);
      groups.push_back(std::move(grp));
    } else {
      groups[static_cast<size_t>(it->second)].sms += 1;
    }
  }
  return groups;
}

}  // namespace tilesim::sim::detail
