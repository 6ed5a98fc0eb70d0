// Chrome trace event JSON writer. Slices on one track must nest, so records that overlap
// on a track (async ops of one role, e.g. a wgmma in flight while softmax runs) are put
// on extra lanes of that track ("consumer0 #1").
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <system_error>

#include "tilesim/sim/report.hpp"

namespace tilesim::sim {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o;
}

// Track ids: units 1..kUnitCount; roles 1000 + slot * 10000 + role * 100 + lane.
constexpr int kRoleTidBase = 1000;
int role_tid(int slot, int role, int lane) {
  return kRoleTidBase + slot * 10000 + role * 100 + lane;
}
constexpr int kMaxLanes = 99;

}  // namespace

void write_chrome_trace(const Result& r, const model::ScheduleDesc& d, std::ostream& os) {
  const double mhz = r.clock_mhz;
  auto us = [&](double cycles) { return cycles / mhz; };
  // Lane assignment per (group, track).
  std::vector<size_t> order;
  order.reserve(r.trace.size());
  for (size_t i = 0; i < r.trace.size(); ++i)
    if (r.trace[i].kind != TraceRecord::kCounter) order.push_back(i);
  auto track_key = [&](const TraceRecord& t) {
    return t.kind == TraceRecord::kOp ? role_tid(t.slot, r.op_roles[static_cast<size_t>(t.op)], 0)
                                      : 1 + t.unit;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const TraceRecord &x = r.trace[a], &y = r.trace[b];
    if (x.group != y.group) return x.group < y.group;
    const int kx = track_key(x), ky = track_key(y);
    if (kx != ky) return kx < ky;
    return x.t0 < y.t0;
  });
  std::vector<int> lane(r.trace.size(), 0);
  std::map<std::pair<int, int>, int> lanes_used;  // (group, track) -> lanes
  {
    std::vector<double> lane_end;
    int cur_group = -1, cur_key = -1;
    for (size_t i : order) {
      const TraceRecord& t = r.trace[i];
      const int key = track_key(t);
      if (t.group != cur_group || key != cur_key) {
        lane_end.clear();
        cur_group = t.group;
        cur_key = key;
      }
      size_t l = 0;
      while (l < lane_end.size() && lane_end[l] > t.t0 + 1e-9) ++l;
      if (l == lane_end.size()) lane_end.push_back(0.0);
      if (l > static_cast<size_t>(kMaxLanes)) l = kMaxLanes;
      lane_end[l] = std::max(lane_end[l], t.t1);
      lane[i] = static_cast<int>(l);
      auto& used = lanes_used[{t.group, key}];
      used = std::max(used, static_cast<int>(l) + 1);
    }
  }

  os << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"tool\":\"tilesim simulate\",\"schedule\":\""
     << esc(d.schedule) << "\",\"summary\":\"" << esc(d.summary) << "\",\"clock_mhz\":" << mhz
     << ",\"note\":\"one process per simulated SM group (a representative SM standing for its "
        "SMs); "
        "ts/dur in microseconds at the model clock\""
     << ",\"truncated\":" << (r.trace_truncated ? "true" : "false") << "},\n\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) os << ",\n";
    first = false;
  };
  char buf[512];
  // metadata: processes and tracks
  for (size_t g = 0; g < r.groups.size(); ++g) {
    const int pid = static_cast<int>(g) + 1;
    sep();
    os << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << pid
       << ",\"args\":{\"name\":\"SM group " << g << " (" << r.groups[g].sms << " SM"
       << (r.groups[g].sms == 1 ? "" : "s") << ", representative)\"}}";
    sep();
    os << "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" << pid
       << ",\"args\":{\"sort_index\":" << pid << "}}";
  }
  for (const auto& [key, n] : lanes_used) {
    const int pid = key.first + 1;
    for (int l = 0; l < n; ++l) {
      std::string name;
      int tid = 0;
      if (key.second < kRoleTidBase) {
        name = std::string("unit ") + model::unit_name(static_cast<model::Unit>(key.second - 1));
        tid = key.second + l * 16;
      } else {
        const int slot = (key.second - kRoleTidBase) / 10000;
        const int role = ((key.second - kRoleTidBase) % 10000) / 100;
        name = "cta" + std::to_string(slot) + " " + r.role_names[static_cast<size_t>(role)];
        tid = key.second + l;
      }
      if (l > 0) name += " #" + std::to_string(l);
      sep();
      os << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << pid << ",\"tid\":" << tid
         << ",\"args\":{\"name\":\"" << esc(name) << "\"}}";
      sep();
      os << "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" << pid << ",\"tid\":" << tid
         << ",\"args\":{\"sort_index\":" << tid << "}}";
    }
  }
  // slices and counters
  for (size_t i = 0; i < r.trace.size(); ++i) {
    const TraceRecord& t = r.trace[i];
    const int pid = t.group + 1;
    sep();
    if (t.kind == TraceRecord::kCounter) {
      std::snprintf(buf, sizeof buf,
                    "{\"ph\":\"C\",\"name\":\"%s transfers in "
                    "flight\",\"pid\":%d,\"ts\":%.5f,\"args\":{\"transfers\":%g}}",
                    model::unit_name(static_cast<model::Unit>(t.unit)), pid, us(t.t0), t.value);
      os << buf;
      continue;
    }
    const auto& cls_list =
        r.groups[static_cast<size_t>(t.group)].slot_classes[static_cast<size_t>(t.slot)];
    const int cls = cls_list[static_cast<size_t>(t.item)];
    const int tid = t.kind == TraceRecord::kOp
                        ? role_tid(t.slot, r.op_roles[static_cast<size_t>(t.op)], lane[i])
                        : 1 + t.unit + lane[i] * 16;
    os << "{\"ph\":\"X\",\"name\":\"" << esc(r.op_names[static_cast<size_t>(t.op)])
       << "\",\"cat\":\"" << (t.kind == TraceRecord::kOp ? "op" : "unit") << "\"";
    std::snprintf(
        buf, sizeof buf,
        ",\"pid\":%d,\"tid\":%d,\"ts\":%.5f,\"dur\":%.5f,\"args\":{\"cta\":%d,\"item\":%d,", pid,
        tid, us(t.t0), us(t.t1 - t.t0), t.slot, t.item);
    os << buf << "\"class\":\"" << esc(r.class_names[static_cast<size_t>(cls)])
       << "\",\"iteration\":" << t.iter;
    if (t.kind == TraceRecord::kOp) {
      std::snprintf(buf, sizeof buf, ",\"result_visible_us\":%.5f", us(t.value));
      os << buf;
    }
    os << "}}";
  }
  os << "\n]}\n";
}

void write_chrome_trace_file(const Result& r, const model::ScheduleDesc& d,
                             const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (path.empty()) throw std::runtime_error("empty trace path");
  std::error_code ec;
  if (fs::is_directory(target, ec))
    throw std::runtime_error("trace path " + path + " is a directory");
  // The file is written beside the target and renamed over it: an existing device or
  // pipe (/dev/full, /dev/stdout) would be replaced, not written to.
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec))
    throw std::runtime_error("cannot write trace " + path +
                             " (it exists and is not a regular file; give a file path)");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device rd;
  const fs::path tmp = dir / (target.filename().string() + ".tmp" + std::to_string(rd() % 1000000));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      throw std::runtime_error("cannot write trace " + path + " (cannot create a file in " +
                               dir.string() + ")");
    write_chrome_trace(r, d, f);
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write trace " + path + " (write failed: disk full?)");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ec2;
    fs::remove(tmp, ec2);
    throw std::runtime_error("cannot write trace " + path + " (" + ec.message() + ")");
  }
}

}  // namespace tilesim::sim
