#include "tilesim/from_microbench.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "tilesim/profile.hpp"

namespace tilesim::profiles {

using nlohmann::json;

namespace {

// Flag thresholds the issue sets for a trustworthy run.
constexpr double kMaxSpreadPct = 3.0;      // repetitions' spread (max-min)/median
constexpr double kMaxClockDropPct = 10.0;  // SM clock below the run's max clock

[[noreturn]] void fail(const std::string& origin, const std::string& where, const std::string& what) {
  throw MicrobenchError(origin + ": " + where + ": " + what);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// One benchmark's numbers: the median aggregate row if the run had repetitions, else the
// single iteration row.
struct Row {
  std::string name;
  std::map<std::string, double> counters;
};

std::vector<Row> rows_of(const json& gbench, const std::string& origin) {
  if (!gbench.is_object()) fail(origin, "top level", "not a JSON object (expected Google Benchmark JSON output)");
  if (!gbench.contains("benchmarks") || !gbench["benchmarks"].is_array())
    fail(origin, "benchmarks", "missing or not an array (expected --benchmark_format=json output)");
  std::map<std::string, Row> median_rows, single_rows;
  const auto& list = gbench["benchmarks"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& b = list[i];
    const std::string where = "benchmarks[" + std::to_string(i) + "]";
    if (!b.is_object()) fail(origin, where, "not an object");
    if (!b.contains("name") || !b["name"].is_string()) fail(origin, where + ".name", "missing or not a string");
    const std::string run_type = b.value("run_type", "iteration");
    const std::string run_name = b.contains("run_name") && b["run_name"].is_string() ? b["run_name"].get<std::string>()
                                                                                      : b["name"].get<std::string>();
    if (b.contains("error_occurred") && b["error_occurred"].is_boolean() && b["error_occurred"].get<bool>()) continue;
    Row r;
    r.name = run_name;
    for (const auto& [k, v] : b.items()) {
      if (!v.is_number()) continue;
      const double x = v.get<double>();
      if (!std::isfinite(x)) fail(origin, where + "." + k, "not a finite number");
      r.counters[k] = x;
    }
    if (run_type == "aggregate") {
      if (b.value("aggregate_name", "") == "median") median_rows[run_name] = r;
    } else if (!single_rows.count(run_name)) {
      single_rows[run_name] = r;
    }
  }
  std::vector<Row> out;
  for (auto& [name, r] : single_rows) out.push_back(median_rows.count(name) ? median_rows[name] : r);
  for (auto& [name, r] : median_rows)
    if (!single_rows.count(name)) out.push_back(r);
  return out;
}

std::string context_string(const json& gbench, const char* key) {
  if (!gbench.contains("context")) return "";
  const auto& c = gbench["context"];
  if (!c.contains(key) || !c[key].is_string()) return "";
  return c[key].get<std::string>();
}

// The FA3 op-cost benchmarks ("op/fa3/d<D>/bn<N>/intra<I>/emu<E%>/thr<T>/<mode>/rescale_<never|always>",
// bench_attn_ops.cu) as profile op entries: the modes the kernels run (pingpong, and free
// for the lockstep kernels' consumers); solo runs are diagnostics and stay in the JSON.
void add_fa3_ops(const Row& r, const std::string& src_id, json& ops) {
  int d = 0, bn = 0, intra = 0, emu = 0, thr = 0;
  char mode[16] = {}, rescale[16] = {};
  if (std::sscanf(r.name.c_str(), "op/fa3/d%d/bn%d/intra%d/emu%d/thr%d/%15[a-z]/rescale_%15[a-z]", &d, &bn, &intra, &emu,
                  &thr, mode, rescale) != 7)
    return;
  const std::string m(mode), rs(rescale);
  if (m != "pingpong" && m != "free") return;
  const json key = {{"head_dim", d},          {"block_n", bn},        {"intra_overlap", intra},
                    {"pingpong", m == "pingpong" ? 1 : 0}, {"exp_emu_fraction", emu / 100.0}, {"rescale_threshold", thr}};
  auto counter = [&](const char* name) {
    auto it = r.counters.find(name);
    return it == r.counters.end() ? -1.0 : it->second;
  };
  auto add = [&](const char* op, double cycles, const std::string& how) {
    if (cycles <= 0.0) return;
    ops.push_back({{"op", op}, {"key", key}, {"value", cycles}, {"unit", "cycles"}, {"source", src_id},
                   {"note", how + " [" + r.name + "]"}});
  };
  const double softmax = counter("softmax_cycles"), pack = counter("pack_cycles");
  const double softmax_pack = softmax >= 0.0 && pack >= 0.0 ? softmax + pack : -1.0;
  if (rs == "never") {
    const double issue = counter("issue_cycles"), s_wait = counter("s_wait_cycles");
    add("fa3.qk_block", issue >= 0.0 && s_wait >= 0.0 ? issue + s_wait : -1.0, "issue_cycles + s_wait_cycles");
    add("fa3.softmax", softmax_pack, "softmax_cycles + pack_cycles");
    add("fa3.iteration", counter("iter_cycles"), "iter_cycles");
    const double peeled = counter("peeled_block_cycles"), last_pv = counter("last_pv_cycles"),
                 store = counter("store_o_cycles");
    add("fa3.item", peeled >= 0.0 && last_pv >= 0.0 && store >= 0.0 ? peeled + last_pv + store : -1.0,
        "peeled_block_cycles + last_pv_cycles + store_o_cycles");
  } else if (rs == "always") {
    add("fa3.softmax_rescaling", softmax_pack, "softmax_cycles + pack_cycles");
    add("fa3.rescale", counter("rescale_cycles"), "rescale_cycles");
  }
}

}  // namespace

const std::vector<MicrobenchField>& microbench_map() {
  static const std::vector<MicrobenchField> m = {
      {"per_sm_per_clk.tensor_bf16", "wgmma/bf16/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best wgmma bf16 throughput over N and A-source, FLOP per SM clock at the measured clock"},
      {"per_sm_per_clk.tensor_fp16", "wgmma/fp16/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best wgmma fp16 throughput over N and A-source"},
      {"per_sm_per_clk.tensor_fp8", "wgmma/e4m3/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best wgmma fp8 e4m3 throughput over N and A-source"},
      {"per_sm_per_clk.tensor_tf32", "wgmma/tf32/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best wgmma tf32 throughput over N and A-source"},
      // Blackwell (tilesim-microbench-sm100): the same fields from tcgen05; a run holds
      // either the wgmma or the tcgen05 rows, and a field takes the best row of its entries.
      {"per_sm_per_clk.tensor_bf16", "tcgen05/bf16/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best tcgen05 bf16 throughput over shape, A source and CTA group, FLOP per SM clock at the measured clock"},
      {"per_sm_per_clk.tensor_fp16", "tcgen05/fp16/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best tcgen05 fp16 throughput"},
      {"per_sm_per_clk.tensor_fp8", "tcgen05/e4m3/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best tcgen05 fp8 e4m3 throughput"},
      {"per_sm_per_clk.tensor_tf32", "tcgen05/tf32/", Pick::kMaxPrefix, "flop_per_clk_sm",
       "best tcgen05 tf32 throughput"},
      {"per_sm_per_clk.mma_sync_bf16", "mma_sync/bf16/throughput", Pick::kExact, "flop_per_clk_sm",
       "mma.sync m16n8k16 bf16 throughput"},
      {"per_sm_per_clk.mufu_ex2", "alu/mufu_ex2/throughput", Pick::kExact, "ops_per_clk_sm",
       "ex2.approx throughput (MUFU.EX2 in SASS)"},
      {"per_sm_per_clk.fp32_fma", "alu/ffma/throughput", Pick::kExact, "ops_per_clk_sm",
       "FFMA throughput with independent chains"},
      {"per_sm_per_clk.cvt_bf16x2", "alu/cvt_bf16x2/throughput", Pick::kExact, "ops_per_clk_sm",
       "cvt.rn.bf16x2.f32 throughput"},
      {"per_sm_per_clk.smem", "smem/ld128/throughput", Pick::kExact, "bytes_per_clk_sm",
       "128-bit shared-memory loads, conflict-free"},
      {"chip.l2_bandwidth", "l2/read/ws_mb:16", Pick::kExact, "bytes_per_s",
       "L2 read bandwidth at a 16 MB working set (typical of tiled kernels' reuse; the 2 MB point "
       "is higher because it hits the near partition)"},
      {"chip.hbm_bandwidth", "hbm/read", Pick::kExact, "bytes_per_s", "read of a buffer many times the L2"},
      {"latency.smem", "smem/latency", Pick::kExact, "latency_cycles", "pointer chase in shared memory"},
      {"latency.l2_near", "l2/latency/near_far", Pick::kExact, "near_latency_cycles",
       "pointer chase over lines classified near"},
      {"latency.l2_far", "l2/latency/near_far", Pick::kExact, "far_latency_cycles",
       "pointer chase over lines classified far"},
      {"latency.hbm", "hbm/latency", Pick::kExact, "latency_cycles", "pointer chase over a buffer >> L2"},
      {"latency.tensor_mma", "wgmma/bf16/ss/n256/latency", Pick::kExact, "latency_cycles",
       "dependent chain of wgmma m64n256k16 bf16"},
      {"latency.tensor_mma", "tcgen05/bf16/ss/cta1/m128n256/latency", Pick::kExact, "latency_cycles",
       "one tcgen05.mma m128n256k16 bf16, commit and mbarrier wait"},
      {"latency.mufu", "alu/mufu_ex2/latency", Pick::kExact, "latency_cycles", "dependent ex2.approx chain"},
      {"latency.fma", "alu/ffma/latency", Pick::kExact, "latency_cycles", "dependent FFMA chain"},
      {"latency.kernel_launch", "launch/empty_kernel/back_to_back", Pick::kExact, "launch_overhead_us",
       "back-to-back empty kernels, per launch"},
  };
  return m;
}

std::string base_profile_for_device(const std::string& device_name) {
  const std::string n = lower(device_name);
  // Order matters: "h200" before "h20", and "h20" must not match "h200".
  if (n.find("h200") != std::string::npos) return "h200";
  if (n.find("h100") != std::string::npos) return "h100";
  if (n.find("h20") != std::string::npos) return "h20";
  if (n.find("b200") != std::string::npos) return "b200";
  throw MicrobenchError("no built-in profile for device '" + device_name +
                        "' (tilesim knows H100, H200, H20, B200); a measured profile needs a base");
}

ConversionResult profile_from_microbench(const json& gbench, const std::string& origin, const std::string& id) {
  const std::vector<Row> rows = rows_of(gbench, origin);
  if (rows.empty()) fail(origin, "benchmarks", "no successful benchmark results");
  const std::string device = context_string(gbench, "tilesim_gpu_name");
  if (device.empty())
    fail(origin, "context.tilesim_gpu_name", "missing: not the output of tilesim-microbench (no device recorded)");
  json report;
  const std::string report_text = context_string(gbench, "tilesim_device_report");
  if (!report_text.empty()) {
    try {
      report = json::parse(report_text);
    } catch (const json::exception&) {
      fail(origin, "context.tilesim_device_report", "not valid JSON");
    }
  }
  const std::string date_full = context_string(gbench, "date");
  const std::string date = date_full.size() >= 10 ? date_full.substr(0, 10) : date_full;
  if (date.empty()) fail(origin, "context.date", "missing");

  ConversionResult res;
  std::string base;
  try {
    base = base_profile_for_device(device);
  } catch (const MicrobenchError& e) {
    fail(origin, "context.tilesim_gpu_name", e.what());
  }

  // The clock under load. Tensor-core load pulls the clock down hardest (power), and the
  // model's GEMM/attention predictions run at that clock, so the sustained clock is the
  // median over the tensor throughput benchmarks; without any, over all benchmarks.
  const auto tensor_load = [](const std::string& name) {
    return name.rfind("wgmma/", 0) == 0 || name.rfind("tcgen05/", 0) == 0;
  };
  constexpr const char* kThroughputSuffix = "/throughput";
  std::vector<double> clocks, tensor_clocks;
  for (const auto& r : rows) {
    auto it = r.counters.find("sm_clock_mhz");
    if (it == r.counters.end() || it->second <= 0) continue;
    clocks.push_back(it->second);
    if (tensor_load(r.name) && r.name.ends_with(kThroughputSuffix))
      tensor_clocks.push_back(it->second);
  }
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  const double max_clock = clocks.empty() ? 0.0 : *std::max_element(clocks.begin(), clocks.end());
  const bool tensor_clock = !tensor_clocks.empty();
  const double median_clock = tensor_clock ? median_of(tensor_clocks) : median_of(clocks);
  for (const auto& r : rows) {
    auto sp = r.counters.find("rep_spread_pct");
    if (sp == r.counters.end()) sp = r.counters.find("spread_pct");
    if (sp != r.counters.end() && sp->second > kMaxSpreadPct)
      res.warnings.push_back(r.name + ": spread " + std::to_string(sp->second) + " % > 3 %");
    auto ck = r.counters.find("sm_clock_mhz");
    if (ck != r.counters.end() && max_clock > 0 && ck->second < max_clock * (1.0 - kMaxClockDropPct / 100.0))
      res.warnings.push_back(r.name + ": SM clock " + std::to_string(ck->second) + " MHz fell > 10 % below the run's max " +
                             std::to_string(max_clock) + " MHz");
  }

  const std::string driver = report.value("driver_version", std::string(""));
  const int runtime = report.value("cuda_runtime_version", 0);
  const std::string src_id = "tilesim-bench";
  json src = {{"kind", "measured"},
              {"citation", "tilesim bench (tilesim-microbench, Google Benchmark JSON " + origin + ")"},
              {"device", device},
              {"date", date},
              {"tool", "tilesim-microbench; driver " + (driver.empty() ? std::string("unknown") : driver) +
                           "; CUDA runtime " + std::to_string(runtime)}};

  json p;
  p["schema"] = "tilesim.profile.v1";
  std::string new_id = id;
  if (new_id.empty()) {
    new_id = base + "_measured_" + date;
    std::replace(new_id.begin(), new_id.end(), '-', '_');
  }
  p["id"] = new_id;
  p["base"] = base;
  p["name"] = device + " (measured " + date + ")";
  p["comment"] = "Measured by tilesim bench on " + device + " on " + date +
                 ". Fields not listed here are the built-in '" + base + "' profile's.";
  p["sources"][src_id] = src;

  // The unit a field is defined in comes from the schema.
  auto set_field = [&](const std::string& path, double value, const std::string& note) {
    const std::string unit(field_at(path).unit.symbol);
    const auto dot = path.find('.');
    json q = {{"value", value}, {"unit", unit}, {"source", src_id}, {"note", note}};
    p[path.substr(0, dot)][path.substr(dot + 1)] = q;
    res.measured.push_back(path);
  };

  if (median_clock > 0) {
    set_field("clocks.sustained", median_clock,
              tensor_clock ? "median over the tensor-core (wgmma or tcgen05) throughput benchmarks of clock64 cycles / globaltimer ns on the "
                             "same SM: the clock under sustained tensor-core load"
                           : "median over all benchmarks of clock64 cycles / globaltimer ns on the same SM, under load");
  } else {
    res.missing.push_back("clocks.sustained");
  }

  std::vector<std::string> done;
  for (const auto& first : microbench_map()) {
    if (std::find(done.begin(), done.end(), first.path) != done.end()) continue;
    done.push_back(first.path);
    double best = -1;
    std::string from;
    const MicrobenchField* used = &first;
    for (const auto& f : microbench_map()) {
      if (std::string(f.path) != first.path) continue;
      for (const auto& r : rows) {
      const bool match = f.pick == Pick::kExact ? r.name == f.benchmark : r.name.rfind(f.benchmark, 0) == 0;
      if (!match) continue;
      auto it = r.counters.find(f.counter);
      if (it == r.counters.end()) continue;
        if (it->second > best) {
          best = it->second;
          from = r.name;
          used = &f;
        }
      }
    }
    const MicrobenchField& f = *used;
    if (best <= 0) {
      res.missing.push_back(f.path);
      continue;
    }
    set_field(f.path, best, std::string(f.how) + " [" + from + ": " + f.counter + "]");
  }
  json ops = json::array();
  for (const auto& r : rows) add_fa3_ops(r, src_id, ops);
  if (!ops.empty()) p["ops"] = ops;

  // A measured table must not contradict the schema: parse it back (throws on a bad value,
  // e.g. a zero rate) before anyone writes it to disk.
  try {
    parse_profile(p.dump(), origin + " (converted)");
  } catch (const ProfileError& e) {
    fail(origin, "conversion", e.what());
  }
  res.profile = p;
  return res;
}

MicrobenchSuite suite_for_compute_capability(const std::string& cc) {
  int major = -1, minor = -1;
  if (std::sscanf(cc.c_str(), "%d.%d", &major, &minor) != 2)
    throw MicrobenchError("compute capability '" + cc + "' is not <major>.<minor>");
  if (major == 9 && minor == 0)
    return {"tilesim-microbench", "sm_90a", true,
            "measured on H100 and H200 (microbench/README.md)"};
  if (major == 10 && minor == 0)
    return {"tilesim-microbench-sm100", "sm_100a", false,
            "compiled for sm_100a but never run on a Blackwell GPU: the tcgen05, TMEM and FFMA2 kernels, "
            "their descriptors and the 2-CTA launch are unverified (microbench/README.md, 'Blackwell')"};
  std::string why = "no microbenchmark build for compute capability " + cc +
                    " (tilesim builds sm_90a for 9.0 and sm_100a for 10.0)";
  if (major == 10)
    why += "; arch-specific sm_100a code does not run on " + cc +
           " (e.g. B300 is 10.3): it needs its own sm_10" + std::to_string(minor) + "a build";
  throw MicrobenchError(why);
}

}  // namespace tilesim::profiles
