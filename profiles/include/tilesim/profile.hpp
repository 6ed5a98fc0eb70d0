// A GPU hardware profile: every number the model uses, each with a unit and a source.
//
// Profiles are JSON data (data/profiles/*.json, embedded into the binary at build
// time, or any file a user points at). The loader is strict: a missing field, a wrong
// type, an unknown key, a unit other than the one the field is defined in, or a
// non-positive rate is an error that names the file and the field. Nothing defaults.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tilesim/fields.hpp"
#include "tilesim/op_cost.hpp"

namespace tilesim::profiles {

// Where a number comes from. kind is one of datasheet | paper | published (a third
// party's measurement: repository, issue) | measured (by tilesim) | derived |
// assumed. A measured source also names the device, the date and the tool.
struct Source {
  std::string id;
  std::string kind;
  std::string citation;
  std::string device;  // measured only
  std::string date;    // measured only (YYYY-MM-DD)
  std::string tool;    // measured only
};

// Another value that a different source gives for the same quantity (kept so that a
// disagreement between sources stays visible; `value` of the Quantity is the one used).
struct Alternative {
  double value = 0.0;
  std::string source;
  std::string note;
};

struct Quantity {
  double value = 0.0;
  std::string unit;
  std::string source;  // id into Profile::sources
  std::string note;
  std::vector<Alternative> alternatives;
  bool present = false;  // false only for optional fields the file leaves out
};

// The fields, grouped as in the JSON. Each one's unit, rule and meaning are its row in
// schema::kFields below.
struct Clocks {
  Quantity max_boost_mhz;
  Quantity tensor_spec_mhz;
  Quantity sustained_mhz;
  Quantity light_load_mhz;  // optional: measured while the SMs do little (no sustained line)
};

struct PerSmRates {  // per SM per clock
  Quantity tensor_bf16;
  Quantity tensor_fp16;
  Quantity tensor_fp8;
  Quantity tensor_tf32;
  Quantity mma_sync_bf16;
  Quantity mufu_ex2;
  Quantity fp32_fma;
  Quantity alu;
  Quantity cvt_bf16x2;
  Quantity smem;
};

struct ChipRates {
  Quantity l2_bandwidth;
  Quantity hbm_bandwidth;
  // TMA tile loads through L2, optional (measured on Hopper only): the chip spends
  // 1/l2_tma_requests s per load request plus 1/l2_tma_sectors s per 32-byte sector. A box
  // row on a 128-byte line is one request of 4 sectors; a row off the lines is more
  // requests (see tma_row_cost in the model).
  Quantity l2_tma_requests;
  Quantity l2_tma_sectors;
};

struct Capacities {
  Quantity smem_per_sm;
  Quantity smem_per_block;
  Quantity registers_per_sm;
  Quantity max_registers_per_thread;
  Quantity max_threads_per_sm;
  Quantity max_ctas_per_sm;
  Quantity tmem_columns;
  Quantity tmem_lanes;
  Quantity l2;
  Quantity hbm;
};

struct Latencies {
  Quantity smem;
  Quantity l2_near;
  Quantity l2_far;
  Quantity hbm;
  Quantity tensor_mma;
  Quantity mufu;
  Quantity fma;
  Quantity barrier;
  Quantity kernel_launch_us;
};

struct Features {
  Quantity wgmma;
  Quantity tcgen05;
  Quantity two_cta_mma;
  Quantity tma;
  Quantity tma_multicast;
  Quantity max_cluster_size;
  // Instruction-set features the softmax's instruction count depends on (absent = no).
  Quantity packed_fp32x2;    // fma/add/mul.f32x2: two fp32 lanes per instruction
  Quantity three_input_max;  // max.f32 / min.f32 with three inputs
};

// The board's power limit and what it costs to keep the chip awake: the model's energy
// bound (a kernel cannot run faster than its energy over the power the limit leaves) needs
// them. Measured on the card (nvidia-smi); absent on profiles nobody measured.
struct Power {
  Quantity board_limit_w;        // enforced power limit
  Quantity idle_w;               // drawn at the maximum clock with no kernel running
  Quantity limiter_reaction_ms;  // load a kernel sustains before the limit slows it
};

struct Profile {
  std::string id;            // short name used on the command line, e.g. "h100"
  std::string name;          // marketing name
  std::string arch;          // "sm_90", "sm_100"
  std::string family;        // "hopper", "blackwell"
  std::string base;          // id of the built-in profile this one overrides ("" if none)
  std::string origin;        // file path or "built-in:<file>"
  std::map<std::string, Source> sources;
  Quantity sm_count;
  Clocks clocks;
  PerSmRates per_sm;
  ChipRates chip;
  Capacities capacity;
  Latencies latency;
  Features features;
  Power power;
  // Measured op costs (optional; see op_cost.hpp). A profile with "base" replaces the
  // base's entries of the same op and key and keeps the others.
  std::vector<OpCost> ops;

  bool has(const Quantity& q) const { return q.present; }
  bool flag(const Quantity& q) const { return q.present && q.value != 0.0; }
  // The clock the model runs the chip at: measured sustained clock if known, else the
  // tensor spec clock (the one the datasheet's throughput figures are quoted at).
  double model_clock_mhz() const {
    return clocks.sustained_mhz.present ? clocks.sustained_mhz.value : clocks.tensor_spec_mhz.value;
  }
};

// The profile schema: every quantity's JSON path, unit (with the values it may plausibly
// take on any GPU), rule and meaning. The loader, the printers, --scale and
// `tilesim bench` read it; a new quantity is a member above and a row here.
namespace schema {
using fields::field;
using fields::member;
using fields::Rule;
using fields::Unit;

// A few orders of magnitude around today's chips. H100: 132 SM, 1980 MHz, 4096
// FLOP/clk/SM bf16, 128 B/clk/SM SMEM, 3.35e12 B/s HBM, 228 KiB SMEM, 50 MiB L2, 80 GB
// HBM, 30..700 cycle latencies, ~3 us launch.
inline constexpr Unit kSms{"SM", 1, 4096, true};
inline constexpr Unit kMHz{"MHz", 10, 100000};
inline constexpr Unit kFlopPerClk{"FLOP/clk/SM", 1, 1e7};
inline constexpr Unit kOpPerClk{"op/clk/SM", 0.01, 1e6};
inline constexpr Unit kFmaPerClk{"FMA/clk/SM", 0.01, 1e6};
inline constexpr Unit kBytesPerClk{"B/clk/SM", 0.01, 1e6};
inline constexpr Unit kBytesPerS{"B/s", 1e6, 1e16};
inline constexpr Unit kRequestsPerS{"request/s", 1e6, 1e15};
inline constexpr Unit kSectorsPerS{"sector/s", 1e6, 1e16};
inline constexpr Unit kBytes{"B", 1024, 1e15};
inline constexpr Unit kRegisters{"reg", 1, 1e8, true};
inline constexpr Unit kThreads{"thread", 1, 1e6, true};
inline constexpr Unit kCtas{"CTA", 1, 1024, true};
inline constexpr Unit kColumns{"col", 0, 1e6, true};
inline constexpr Unit kLanes{"lane", 0, 1e6, true};
inline constexpr Unit kCycles{"cycles", 0.01, 1e6};
inline constexpr Unit kMicroseconds{"us", 1e-3, 1e4};
inline constexpr Unit kFlag{"flag", 0, 1, true};
inline constexpr Unit kWatts{"W", 10, 5000};
inline constexpr Unit kMilliseconds{"ms", 0.1, 10000};

inline constexpr std::array kFields{
    field("sm_count", member<&Profile::sm_count>, kSms, Rule::kPositive,
          "streaming multiprocessors"),
    field("clocks.max_boost", member<&Profile::clocks, &Clocks::max_boost_mhz>, kMHz,
          Rule::kPositive, "maximum boost SM clock"),
    field("clocks.tensor_spec", member<&Profile::clocks, &Clocks::tensor_spec_mhz>, kMHz,
          Rule::kPositive, "SM clock at which the datasheet's tensor throughput is quoted"),
    field("clocks.sustained", member<&Profile::clocks, &Clocks::sustained_mhz>, kMHz,
          Rule::kPositive, "SM clock measured under sustained load (model uses it when present)",
          fields::kOptional),
    field("clocks.light_load", member<&Profile::clocks, &Clocks::light_load_mhz>, kMHz,
          Rule::kPositive,
          "SM clock measured at light load (few SMs busy, tensor pipe idle); without a sustained clock the "
          "model runs such kernels at it",
          fields::kOptional),
    field("per_sm_per_clk.tensor_bf16", member<&Profile::per_sm, &PerSmRates::tensor_bf16>,
          kFlopPerClk, Rule::kPositive, "dense bf16 tensor-core throughput (wgmma / tcgen05)"),
    field("per_sm_per_clk.tensor_fp16", member<&Profile::per_sm, &PerSmRates::tensor_fp16>,
          kFlopPerClk, Rule::kPositive, "dense fp16 tensor-core throughput"),
    field("per_sm_per_clk.tensor_fp8", member<&Profile::per_sm, &PerSmRates::tensor_fp8>,
          kFlopPerClk, Rule::kPositive, "dense fp8 (e4m3) tensor-core throughput"),
    field("per_sm_per_clk.tensor_tf32", member<&Profile::per_sm, &PerSmRates::tensor_tf32>,
          kFlopPerClk, Rule::kPositive, "dense tf32 tensor-core throughput"),
    field("per_sm_per_clk.mma_sync_bf16", member<&Profile::per_sm, &PerSmRates::mma_sync_bf16>,
          kFlopPerClk, Rule::kPositive,
          "bf16 throughput of the warp-level mma.sync path (FA2-style kernels)"),
    field("per_sm_per_clk.mufu_ex2", member<&Profile::per_sm, &PerSmRates::mufu_ex2>, kOpPerClk,
          Rule::kPositive, "MUFU ex2.approx throughput"),
    field("per_sm_per_clk.fp32_fma", member<&Profile::per_sm, &PerSmRates::fp32_fma>, kFmaPerClk,
          Rule::kPositive, "FP32 FMA lanes (FADD/FMUL issue at the same rate)"),
    field("per_sm_per_clk.alu", member<&Profile::per_sm, &PerSmRates::alu>, kOpPerClk,
          Rule::kPositive, "integer / logic / min-max pipe throughput"),
    field("per_sm_per_clk.cvt_bf16x2", member<&Profile::per_sm, &PerSmRates::cvt_bf16x2>, kOpPerClk,
          Rule::kPositive, "packed f32x2 -> bf16x2 conversion throughput"),
    field("per_sm_per_clk.smem", member<&Profile::per_sm, &PerSmRates::smem>, kBytesPerClk,
          Rule::kPositive, "shared-memory bandwidth"),
    field("chip.l2_bandwidth", member<&Profile::chip, &ChipRates::l2_bandwidth>, kBytesPerS,
          Rule::kPositive, "chip-wide L2 read bandwidth"),
    field("chip.hbm_bandwidth", member<&Profile::chip, &ChipRates::hbm_bandwidth>, kBytesPerS,
          Rule::kPositive, "chip-wide HBM bandwidth"),
    field("chip.l2_tma_requests", member<&Profile::chip, &ChipRates::l2_tma_requests>, kRequestsPerS,
          Rule::kPositive, "chip-wide L2 requests of TMA tile loads (with l2_tma_sectors)", fields::kOptional),
    field("chip.l2_tma_sectors", member<&Profile::chip, &ChipRates::l2_tma_sectors>, kSectorsPerS,
          Rule::kPositive, "chip-wide 32-byte sectors of TMA tile loads (with l2_tma_requests)", fields::kOptional),
    field("capacity.smem_per_sm", member<&Profile::capacity, &Capacities::smem_per_sm>, kBytes,
          Rule::kPositive, "shared memory per SM"),
    field("capacity.smem_per_block", member<&Profile::capacity, &Capacities::smem_per_block>,
          kBytes, Rule::kPositive, "largest shared memory one CTA may opt in to"),
    field("capacity.registers_per_sm", member<&Profile::capacity, &Capacities::registers_per_sm>,
          kRegisters, Rule::kPositive, "32-bit registers per SM"),
    field("capacity.max_registers_per_thread",
          member<&Profile::capacity, &Capacities::max_registers_per_thread>, kRegisters,
          Rule::kPositive, "registers one thread may use"),
    field("capacity.max_threads_per_sm",
          member<&Profile::capacity, &Capacities::max_threads_per_sm>, kThreads, Rule::kPositive,
          "resident threads per SM"),
    field("capacity.max_ctas_per_sm", member<&Profile::capacity, &Capacities::max_ctas_per_sm>,
          kCtas, Rule::kPositive, "resident CTAs per SM"),
    field("capacity.tmem_columns", member<&Profile::capacity, &Capacities::tmem_columns>, kColumns,
          Rule::kNonNegative, "tensor-memory columns per SM (32-bit each; 0 = no TMEM)"),
    field("capacity.tmem_lanes", member<&Profile::capacity, &Capacities::tmem_lanes>, kLanes,
          Rule::kNonNegative, "tensor-memory lanes per SM (0 = no TMEM)"),
    field("capacity.l2", member<&Profile::capacity, &Capacities::l2>, kBytes, Rule::kPositive,
          "L2 cache size"),
    field("capacity.hbm", member<&Profile::capacity, &Capacities::hbm>, kBytes, Rule::kPositive,
          "device memory size"),
    field("latency.smem", member<&Profile::latency, &Latencies::smem>, kCycles, Rule::kPositive,
          "shared-memory load latency"),
    field("latency.l2_near", member<&Profile::latency, &Latencies::l2_near>, kCycles,
          Rule::kPositive, "L2 hit latency, near partition"),
    field("latency.l2_far", member<&Profile::latency, &Latencies::l2_far>, kCycles, Rule::kPositive,
          "L2 hit latency, far partition"),
    field("latency.hbm", member<&Profile::latency, &Latencies::hbm>, kCycles, Rule::kPositive,
          "device-memory load latency"),
    field("latency.tensor_mma", member<&Profile::latency, &Latencies::tensor_mma>, kCycles,
          Rule::kPositive, "one tensor-core instruction (wgmma / tcgen05), issue to result"),
    field("latency.mufu", member<&Profile::latency, &Latencies::mufu>, kCycles, Rule::kPositive,
          "MUFU instruction latency"),
    field("latency.fma", member<&Profile::latency, &Latencies::fma>, kCycles, Rule::kPositive,
          "dependent FP32 FMA latency"),
    field("latency.barrier", member<&Profile::latency, &Latencies::barrier>, kCycles,
          Rule::kPositive, "mbarrier arrive to release of a waiting warp"),
    field("latency.kernel_launch", member<&Profile::latency, &Latencies::kernel_launch_us>,
          kMicroseconds, Rule::kPositive, "launch and teardown of an empty kernel"),
    field("features.wgmma", member<&Profile::features, &Features::wgmma>, kFlag, Rule::kFlag,
          "Hopper warpgroup MMA"),
    field("features.tcgen05", member<&Profile::features, &Features::tcgen05>, kFlag, Rule::kFlag,
          "Blackwell tcgen05 MMA into TMEM"),
    field("features.two_cta_mma", member<&Profile::features, &Features::two_cta_mma>, kFlag,
          Rule::kFlag, "one MMA spanning a 2-CTA pair (cta_group::2)"),
    field("features.tma", member<&Profile::features, &Features::tma>, kFlag, Rule::kFlag,
          "tensor memory accelerator"),
    field("features.tma_multicast", member<&Profile::features, &Features::tma_multicast>, kFlag,
          Rule::kFlag, "TMA multicast to the CTAs of a cluster"),
    field("features.max_cluster_size", member<&Profile::features, &Features::max_cluster_size>,
          kCtas, Rule::kPositive, "largest portable thread-block cluster"),
    field("features.packed_fp32x2", member<&Profile::features, &Features::packed_fp32x2>, kFlag, Rule::kFlag,
          "packed fp32 pairs (fma/add/mul.f32x2): one instruction for two lanes", fields::kOptional),
    field("features.three_input_max", member<&Profile::features, &Features::three_input_max>, kFlag, Rule::kFlag,
          "three-input max.f32/min.f32: a row maximum in half the instructions", fields::kOptional),
    field("power.board_limit", member<&Profile::power, &Power::board_limit_w>, kWatts, Rule::kPositive,
          "enforced board power limit (nvidia-smi power.limit)", fields::kOptional),
    field("power.idle", member<&Profile::power, &Power::idle_w>, kWatts, Rule::kPositive,
          "board power at the maximum SM clock with no kernel running (with power.board_limit)",
          fields::kOptional),
    field("power.limiter_reaction", member<&Profile::power, &Power::limiter_reaction_ms>, kMilliseconds,
          Rule::kPositive,
          "how long a kernel drawing more than the limit keeps its speed before the limiter slows it",
          fields::kOptional),
};

static_assert(fields::rows_distinct(kFields), "one row per quantity, each with its own path");
static_assert(fields::row_count<decltype(kFields)> ==
                  1 + fields::member_count<Clocks>() + fields::member_count<PerSmRates>() +
                      fields::member_count<ChipRates>() + fields::member_count<Capacities>() +
                      fields::member_count<Latencies>() + fields::member_count<Features>() +
                      fields::member_count<Power>(),
              "every Quantity of Profile (sm_count and the groups' members) has a row in kFields");
}  // namespace schema

using ProfileField = fields::Field<Profile, Quantity>;

class ProfileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parse a profile from JSON text; `origin` names the file in every error message.
// A profile with "base" is applied on top of that built-in profile.
Profile parse_profile(const std::string& json_text, const std::string& origin);
Profile load_profile_file(const std::string& path);

// Built-in profiles (embedded from data/profiles at build time).
std::vector<std::string> builtin_ids();
Profile builtin_profile(const std::string& id);

// A name on the command line: a built-in id (case-insensitive, aliases like "h100" for
// "h100_sxm") or a path to a JSON file.
Profile resolve_profile(const std::string& name_or_path);

// The row of the quantity at `path` ("per_sm_per_clk.tensor_bf16"); throws ProfileError
// naming an unknown path.
const ProfileField& field_at(const std::string& path);
// Mutable access by path (for what-if scaling and overrides). Throws on unknown path.
Quantity& field(Profile& p, const std::string& path);

}  // namespace tilesim::profiles
