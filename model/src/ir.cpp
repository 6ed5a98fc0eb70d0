// Names and small helpers of the schedule IR.
#include <algorithm>

#include "tilesim/model/schedule_ir.hpp"

namespace tilesim::model {

namespace {
struct UnitNames {
  const char* name;
  const char* currency;
  bool chip_wide;
};
constexpr UnitNames kUnits[kUnitCount] = {
    {"tensor", "FLOP", false}, {"mufu", "op", false}, {"fma", "op", false}, {"alu", "op", false},
    {"cvt", "op", false},      {"smem", "B", false},  {"l2", "B", true},    {"hbm", "B", true},
    {"issue", "thread-op", false}, {"tma", "cycle", true},
};
}  // namespace

const char* unit_name(Unit u) { return kUnits[static_cast<int>(u)].name; }
const char* unit_currency(Unit u) { return kUnits[static_cast<int>(u)].currency; }
bool unit_is_chip_wide(Unit u) { return kUnits[static_cast<int>(u)].chip_wide; }

bool parse_unit(const std::string& name, Unit* out) {
  for (int i = 0; i < kUnitCount; ++i) {
    if (name == kUnits[i].name) {
      *out = static_cast<Unit>(i);
      return true;
    }
  }
  return false;
}

const char* dep_kind_name(DepKind k) {
  switch (k) {
    case DepKind::kIssue: return "issue";
    case DepKind::kAfter: return "after";
    case DepKind::kDone: return "done";
  }
  return "?";
}

const char* role_kind_name(RoleKind k) {
  switch (k) {
    case RoleKind::kProducer: return "producer";
    case RoleKind::kConsumer: return "consumer";
    case RoleKind::kMma: return "mma";
    case RoleKind::kSoftmax: return "softmax";
    case RoleKind::kCorrection: return "correction";
    case RoleKind::kEpilogue: return "epilogue";
  }
  return "?";
}

const char* scheduler_name(Scheduler s) {
  switch (s) {
    case Scheduler::kPlain: return "plain";
    case Scheduler::kPersistent: return "persistent";
    case Scheduler::kLongestFirst: return "persistent_longest_first";
    case Scheduler::kStaticStride: return "persistent_static_stride";
  }
  return "?";
}

double PostPass::time_us(double hbm_bytes_per_s) const {
  if (!(hbm_bytes > 0.0) || !(hbm_bytes_per_s > 0.0)) return 0.0;
  return launch_us + std::max(hbm_bytes / hbm_bytes_per_s * 1e6, chain_us);
}

double Grid::streaming_fraction() const { return std::clamp(streaming_share, 0.0, 1.0); }

int64_t Grid::total_items() const {
  int64_t n = 0;
  for (const auto& c : classes) n += c.items;
  return n;
}

int64_t Grid::resident_ctas() const { return static_cast<int64_t>(sm_count) * ctas_per_sm; }

int Grid::ctas_sharing_an_sm() const {
  const int64_t per_sm = (std::max<int64_t>(1, total_items()) + sm_count - 1) / std::max(1, sm_count);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(ctas_per_sm, per_sm)));
}

double op_occupancy_cycles(const Op& op, double resident_ctas_chip) {
  double cycles = 0.0;
  const double share = std::max(1.0, resident_ctas_chip);
  for (const auto& u : op.uses) {
    if (u.work <= 0.0 || u.rate_per_clk <= 0.0) continue;
    const double rate = unit_is_chip_wide(u.unit) ? u.rate_per_clk / share : u.rate_per_clk;
    cycles = std::max(cycles, u.work / rate);
  }
  return std::max(cycles, op.chain_cycles);
}

}  // namespace tilesim::model
