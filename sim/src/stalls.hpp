// Internal: stall reasons per role with time shares (see stalls.cpp).
#pragma once

#include <vector>

#include "engine.hpp"

namespace tilesim::sim::detail {

std::vector<RoleStats> role_stalls(const Program& prog, const model::ScheduleDesc& d,
                                   const std::vector<SlotState>& slots,
                                   const std::vector<SmGroup>& groups, double makespan);

}  // namespace tilesim::sim::detail
