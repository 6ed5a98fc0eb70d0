// Outputs of a simulation: Chrome trace event JSON (Perfetto / chrome://tracing), the
// --json document (parameters and statistics with type, unit and description) and the
// text summary for people.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::sim {

// Chrome trace event format ("traceEvents" with "ph":"X" slices, ts/dur in us): one
// process per simulated SM group, one track per unit and per (CTA slot, role); ops that
// overlap within a role go to extra lanes of that role.
void write_chrome_trace(const Result& r, const model::ScheduleDesc& d, std::ostream& os);

// Writes the trace to `path` through a temporary file in the same directory and a
// rename, so that a failed write leaves nothing behind. Throws std::runtime_error with
// the reason (the CLI turns it into exit 1).
void write_chrome_trace_file(const Result& r, const model::ScheduleDesc& d,
                             const std::string& path);

// One statistic as printed (gem5 style).
struct StatInfo {
  std::string name;
  std::string type;  // "double" | "int" | "string"
  double value = 0.0;
  std::string text;  // for strings
  std::string unit;
  std::string description;
};
std::vector<StatInfo> statistics(const Result& r);

// {"parameters": [...], "statistics": [...], "units": [...], "roles": [...], "grid": {...}}
nlohmann::json to_json(const Result& r);

// Text summary: total time, steady iteration, per-unit busy fractions, stall reasons.
std::string to_text(const Result& r);

}  // namespace tilesim::sim
