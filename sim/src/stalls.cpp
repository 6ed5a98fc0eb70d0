// Stall reasons per role. A role is an instruction stream: at any moment it is either
// executing (some op of it holds a unit or is in flight on L2/HBM) or stalled on the
// first op, in program order (item, prologue / loop iterations / epilogue, list order),
// that has not started yet. That op waits either for a predecessor (the last one to be
// satisfied names the barrier or dependency) or, once ready, for a unit held by another
// op. After its last op started, a role has no work (including the grid's tail).
#include "stalls.hpp"

#include <algorithm>

namespace tilesim::sim::detail {

namespace {

struct Busy {
  std::vector<std::pair<double, double>> iv;  // merged, sorted
  size_t k = 0;
  // Length of [a, b) not covered by busy intervals. Queries come with non-decreasing a.
  double idle(double a, double b) {
    if (b <= a) return 0.0;
    while (k < iv.size() && iv[k].second <= a) ++k;
    double covered = 0.0;
    for (size_t m = k; m < iv.size() && iv[m].first < b; ++m)
      covered += std::max(0.0, std::min(b, iv[m].second) - std::max(a, iv[m].first));
    return (b - a) - covered;
  }
};

}  // namespace

std::vector<RoleStats> role_stalls(const Program& prog, const model::ScheduleDesc& d,
                                   const std::vector<SlotState>& slots,
                                   const std::vector<SmGroup>& groups, double makespan) {
  // Reason ids: labels, then "wait unit <u>" per unit, then a unit-less wait, executing, no work.
  const int n_labels = static_cast<int>(prog.labels.size());
  const int r_unit = n_labels, r_unit_unknown = n_labels + model::kUnitCount,
            r_exec = r_unit_unknown + 1, r_none = r_exec + 1, n_reasons = r_none + 1;
  const size_t nroles = d.roles.size();
  std::vector<std::vector<double>> acc(nroles,
                                       std::vector<double>(static_cast<size_t>(n_reasons), 0.0));
  std::vector<double> total(nroles, 0.0);
  std::vector<std::vector<int64_t>> by_role(nroles);
  std::vector<std::pair<double, double>> merged;
  for (const auto& s : slots) {
    const double w = groups[static_cast<size_t>(s.group)].sms;
    for (auto& v : by_role) v.clear();
    for (size_t x = 0; x < s.op.size(); ++x)
      by_role[static_cast<size_t>(prog.ops[static_cast<size_t>(s.op[x])].role)].push_back(
          static_cast<int64_t>(x));
    for (size_t r = 0; r < nroles; ++r) {
      auto& out = acc[r];
      total[r] += w * makespan;
      const auto& ids = by_role[r];
      Busy busy;
      busy.iv.reserve(ids.size());
      bool sorted = true;
      for (int64_t x : ids) {
        const double a = s.start[static_cast<size_t>(x)], b = s.end[static_cast<size_t>(x)];
        if (b > a) {
          if (!busy.iv.empty() && a < busy.iv.back().first) sorted = false;
          busy.iv.emplace_back(a, b);
        }
      }
      if (!sorted) std::sort(busy.iv.begin(), busy.iv.end());
      merged.clear();
      double busy_len = 0.0;
      for (const auto& iv : busy.iv) {
        if (!merged.empty() && iv.first <= merged.back().second)
          merged.back().second = std::max(merged.back().second, iv.second);
        else
          merged.push_back(iv);
      }
      for (const auto& iv : merged) busy_len += iv.second - iv.first;
      busy.iv.swap(merged);
      out[static_cast<size_t>(r_exec)] += w * busy_len;
      double p = 0.0;  // latest start so far: the front op is the next one in order
      for (int64_t x : ids) {
        const size_t i = static_cast<size_t>(x);
        const double st = s.start[i];
        if (st > p) {
          const double r_at = std::clamp(s.ready[i], p, st);
          const int lab = s.label[i];
          out[static_cast<size_t>(lab >= 0 ? lab : r_unit_unknown)] += w * busy.idle(p, r_at);
          const int u = s.wait_unit[i];
          out[static_cast<size_t>(u >= 0 ? r_unit + u : r_unit_unknown)] += w * busy.idle(r_at, st);
          p = st;
        }
      }
      out[static_cast<size_t>(r_none)] += w * busy.idle(p, makespan);
    }
  }
  auto reason_name = [&](int id) -> std::string {
    if (id < n_labels) return prog.labels[static_cast<size_t>(id)];
    if (id < r_unit_unknown)
      return std::string("wait unit ") + model::unit_name(static_cast<model::Unit>(id - r_unit));
    if (id == r_unit_unknown) return "wait (other)";
    if (id == r_exec) return "executing";
    return "no work";
  };
  std::vector<RoleStats> res;
  for (size_t r = 0; r < nroles; ++r) {
    RoleStats rs;
    rs.role = d.roles[r].name;
    for (int id = 0; id < n_reasons; ++id) {
      const double cyc = acc[r][static_cast<size_t>(id)];
      if (cyc > 0.0 && total[r] > 0.0)
        rs.shares.push_back(StallShare{reason_name(id), cyc / total[r]});
    }
    std::sort(rs.shares.begin(), rs.shares.end(), [](const StallShare& a, const StallShare& b) {
      return a.share > b.share || (a.share == b.share && a.reason < b.reason);
    });
    res.push_back(std::move(rs));
  }
  return res;
}

}  // namespace tilesim::sim::detail
