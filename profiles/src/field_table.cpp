#include "field_table.hpp"

#include <cmath>

#include "tilesim/input_file.hpp"

namespace tilesim::profiles::detail {

#define TS_FIELD(group, name, member, unit, desc, rule, optional) \
  FieldSpec { group, name, unit, desc, rule, optional, [](Profile& p) -> Quantity& { return p.member; } }

const std::vector<FieldSpec>& field_specs() {
  static const std::vector<FieldSpec> specs = {
      TS_FIELD("", "sm_count", sm_count, "SM", "streaming multiprocessors", Rule::kPositive, false),
      TS_FIELD("clocks", "max_boost", clocks.max_boost_mhz, "MHz", "maximum boost SM clock", Rule::kPositive, false),
      TS_FIELD("clocks", "tensor_spec", clocks.tensor_spec_mhz, "MHz",
               "SM clock at which the datasheet's tensor throughput is quoted", Rule::kPositive, false),
      TS_FIELD("clocks", "sustained", clocks.sustained_mhz, "MHz",
               "SM clock measured under sustained load (model uses it when present)", Rule::kPositive, true),
      TS_FIELD("per_sm_per_clk", "tensor_bf16", per_sm.tensor_bf16, "FLOP/clk/SM",
               "dense bf16 tensor-core throughput (wgmma / tcgen05)", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "tensor_fp16", per_sm.tensor_fp16, "FLOP/clk/SM",
               "dense fp16 tensor-core throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "tensor_fp8", per_sm.tensor_fp8, "FLOP/clk/SM",
               "dense fp8 (e4m3) tensor-core throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "tensor_tf32", per_sm.tensor_tf32, "FLOP/clk/SM",
               "dense tf32 tensor-core throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "mma_sync_bf16", per_sm.mma_sync_bf16, "FLOP/clk/SM",
               "bf16 throughput of the warp-level mma.sync path (FA2-style kernels)", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "mufu_ex2", per_sm.mufu_ex2, "op/clk/SM",
               "MUFU ex2.approx throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "fp32_fma", per_sm.fp32_fma, "FMA/clk/SM",
               "FP32 FMA lanes (FADD/FMUL issue at the same rate)", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "alu", per_sm.alu, "op/clk/SM",
               "integer / logic / min-max pipe throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "cvt_bf16x2", per_sm.cvt_bf16x2, "op/clk/SM",
               "packed f32x2 -> bf16x2 conversion throughput", Rule::kPositive, false),
      TS_FIELD("per_sm_per_clk", "smem", per_sm.smem, "B/clk/SM", "shared-memory bandwidth",
               Rule::kPositive, false),
      TS_FIELD("chip", "l2_bandwidth", chip.l2_bandwidth, "B/s", "chip-wide L2 read bandwidth",
               Rule::kPositive, false),
      TS_FIELD("chip", "hbm_bandwidth", chip.hbm_bandwidth, "B/s", "chip-wide HBM bandwidth",
               Rule::kPositive, false),
      TS_FIELD("chip", "l2_tma_requests", chip.l2_tma_requests, "request/s",
               "chip-wide L2 requests of TMA tile loads (optional; with l2_tma_sectors)",
               Rule::kPositive, true),
      TS_FIELD("chip", "l2_tma_sectors", chip.l2_tma_sectors, "sector/s",
               "chip-wide 32-byte sectors of TMA tile loads (optional; with l2_tma_requests)",
               Rule::kPositive, true),
      TS_FIELD("capacity", "smem_per_sm", capacity.smem_per_sm, "B", "shared memory per SM",
               Rule::kPositive, false),
      TS_FIELD("capacity", "smem_per_block", capacity.smem_per_block, "B",
               "largest shared memory one CTA may opt in to", Rule::kPositive, false),
      TS_FIELD("capacity", "registers_per_sm", capacity.registers_per_sm, "reg",
               "32-bit registers per SM", Rule::kPositive, false),
      TS_FIELD("capacity", "max_registers_per_thread", capacity.max_registers_per_thread, "reg",
               "registers one thread may use", Rule::kPositive, false),
      TS_FIELD("capacity", "max_threads_per_sm", capacity.max_threads_per_sm, "thread",
               "resident threads per SM", Rule::kPositive, false),
      TS_FIELD("capacity", "max_ctas_per_sm", capacity.max_ctas_per_sm, "CTA", "resident CTAs per SM",
               Rule::kPositive, false),
      TS_FIELD("capacity", "tmem_columns", capacity.tmem_columns, "col",
               "tensor-memory columns per SM (32-bit each; 0 = no TMEM)", Rule::kNonNegative, false),
      TS_FIELD("capacity", "tmem_lanes", capacity.tmem_lanes, "lane",
               "tensor-memory lanes per SM (0 = no TMEM)", Rule::kNonNegative, false),
      TS_FIELD("capacity", "l2", capacity.l2, "B", "L2 cache size", Rule::kPositive, false),
      TS_FIELD("capacity", "hbm", capacity.hbm, "B", "device memory size", Rule::kPositive, false),
      TS_FIELD("latency", "smem", latency.smem, "cycles", "shared-memory load latency",
               Rule::kPositive, false),
      TS_FIELD("latency", "l2_near", latency.l2_near, "cycles", "L2 hit latency, near partition",
               Rule::kPositive, false),
      TS_FIELD("latency", "l2_far", latency.l2_far, "cycles", "L2 hit latency, far partition",
               Rule::kPositive, false),
      TS_FIELD("latency", "hbm", latency.hbm, "cycles", "device-memory load latency",
               Rule::kPositive, false),
      TS_FIELD("latency", "tensor_mma", latency.tensor_mma, "cycles",
               "one tensor-core instruction (wgmma / tcgen05), issue to result", Rule::kPositive, false),
      TS_FIELD("latency", "mufu", latency.mufu, "cycles", "MUFU instruction latency",
               Rule::kPositive, false),
      TS_FIELD("latency", "fma", latency.fma, "cycles", "dependent FP32 FMA latency",
               Rule::kPositive, false),
      TS_FIELD("latency", "barrier", latency.barrier, "cycles",
               "mbarrier arrive to release of a waiting warp", Rule::kPositive, false),
      TS_FIELD("latency", "kernel_launch", latency.kernel_launch_us, "us",
               "launch and teardown of an empty kernel", Rule::kPositive, false),
      TS_FIELD("features", "wgmma", features.wgmma, "flag", "Hopper warpgroup MMA", Rule::kFlag, false),
      TS_FIELD("features", "tcgen05", features.tcgen05, "flag", "Blackwell tcgen05 MMA into TMEM",
               Rule::kFlag, false),
      TS_FIELD("features", "two_cta_mma", features.two_cta_mma, "flag",
               "one MMA spanning a 2-CTA pair (cta_group::2)", Rule::kFlag, false),
      TS_FIELD("features", "tma", features.tma, "flag", "tensor memory accelerator", Rule::kFlag, false),
      TS_FIELD("features", "tma_multicast", features.tma_multicast, "flag",
               "TMA multicast to the CTAs of a cluster", Rule::kFlag, false),
      TS_FIELD("features", "max_cluster_size", features.max_cluster_size, "CTA",
               "largest portable thread-block cluster", Rule::kPositive, false),
  };
  return specs;
}

#undef TS_FIELD

PlausibleRange plausible_range(const FieldSpec& f) {
  struct ByUnit {
    const char* unit;
    PlausibleRange r;
  };
  // H100: 132 SM, 1980 MHz, 4096 FLOP/clk/SM bf16, 128 B/clk/SM SMEM, 3.35e12 B/s HBM,
  // 228 KiB SMEM, 50 MiB L2, 80 GB HBM, 30..700 cycle latencies, ~3 us launch.
  static const ByUnit table[] = {
      {"SM", {1, 4096, true}},
      {"MHz", {10, 100000, false}},
      {"FLOP/clk/SM", {1, 1e7, false}},
      {"op/clk/SM", {0.01, 1e6, false}},
      {"FMA/clk/SM", {0.01, 1e6, false}},
      {"B/clk/SM", {0.01, 1e6, false}},
      {"B/s", {1e6, 1e16, false}},
      {"B", {1024, 1e15, false}},
      {"reg", {1, 1e8, true}},
      {"thread", {1, 1e6, true}},
      {"CTA", {1, 1024, true}},
      {"col", {0, 1e6, true}},
      {"lane", {0, 1e6, true}},
      {"cycles", {0.01, 1e6, false}},
      {"us", {1e-3, 1e4, false}},
      {"flag", {0, 1, true}},
  };
  for (const auto& b : table)
    if (std::string(b.unit) == f.unit) return b.r;
  return {0, 1e30, false};
}

std::string implausible(const FieldSpec& f, double v) {
  const PlausibleRange r = plausible_range(f);
  if (!std::isfinite(v)) return "must be finite";
  if (v < r.lo || v > r.hi)
    return std::string(v < r.lo ? "implausibly small" : "implausibly large") + " value " + short_number(v) + " " +
           f.unit + " (outside the plausible range [" + short_number(r.lo) + ", " + short_number(r.hi) + "] " +
           f.unit + ")";
  if (r.integer && std::floor(v) != v) return "must be a whole number, got " + short_number(v);
  return "";
}

std::string path_of(const FieldSpec& f) {
  return f.group[0] == '\0' ? std::string(f.name) : std::string(f.group) + "." + f.name;
}

}  // namespace tilesim::profiles::detail
