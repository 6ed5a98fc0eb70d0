// A GPU hardware profile: every number the model uses, each with a unit and a source.
//
// Profiles are JSON data (data/profiles/*.json, embedded into the binary at build
// time, or any file a user points at). The loader is strict: a missing field, a wrong
// type, an unknown key, a unit other than the one the field is defined in, or a
// non-positive rate is an error that names the file and the field. Nothing defaults.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

// The fields, grouped as in the JSON. Units are fixed per field (see fields.cpp).
struct Clocks {
  Quantity max_boost_mhz;    // MHz
  Quantity tensor_spec_mhz;  // MHz: the clock the datasheet's tensor TFLOP/s assume
  Quantity sustained_mhz;    // MHz, optional: measured under load
};

struct PerSmRates {  // per SM per clock
  Quantity tensor_bf16;    // FLOP/clk/SM, dense, wgmma / tcgen05 path
  Quantity tensor_fp16;    // FLOP/clk/SM
  Quantity tensor_fp8;     // FLOP/clk/SM (e4m3)
  Quantity tensor_tf32;    // FLOP/clk/SM
  Quantity mma_sync_bf16;  // FLOP/clk/SM through the legacy warp-level mma.sync path
  Quantity mufu_ex2;       // op/clk/SM
  Quantity fp32_fma;       // FMA/clk/SM (lanes); FADD/FMUL issue at the same rate
  Quantity alu;            // op/clk/SM: integer/logic/min-max pipe
  Quantity cvt_bf16x2;     // op/clk/SM: packed f32x2 -> bf16x2 conversions
  Quantity smem;           // B/clk/SM
};

struct ChipRates {
  Quantity l2_bandwidth;   // B/s
  Quantity hbm_bandwidth;  // B/s
  // TMA tile loads through L2, optional (measured on Hopper only): the chip spends
  // 1/l2_tma_requests s per load request plus 1/l2_tma_sectors s per 32-byte sector. A box
  // row on a 128-byte line is one request of 4 sectors; a row off the lines is more
  // requests (see tma_row_cost in the model).
  Quantity l2_tma_requests;  // request/s
  Quantity l2_tma_sectors;   // sector/s
};

struct Capacities {
  Quantity smem_per_sm;               // B
  Quantity smem_per_block;            // B (opt-in maximum for one CTA)
  Quantity registers_per_sm;          // reg (32-bit)
  Quantity max_registers_per_thread;  // reg
  Quantity max_threads_per_sm;        // thread
  Quantity max_ctas_per_sm;           // CTA
  Quantity tmem_columns;              // col (0 where there is no TMEM)
  Quantity tmem_lanes;                // lane (0 where there is no TMEM)
  Quantity l2;                        // B
  Quantity hbm;                       // B
};

struct Latencies {  // cycles
  Quantity smem;
  Quantity l2_near;
  Quantity l2_far;
  Quantity hbm;
  Quantity tensor_mma;  // one wgmma / tcgen05 instruction, issue to result
  Quantity mufu;
  Quantity fma;
  Quantity barrier;  // mbarrier arrive -> waiting thread released
  Quantity kernel_launch_us;  // us: launch + teardown of an empty kernel
};

struct Features {  // flags are 0/1
  Quantity wgmma;
  Quantity tcgen05;
  Quantity two_cta_mma;
  Quantity tma;
  Quantity tma_multicast;
  Quantity max_cluster_size;  // CTA
};

struct Profile {
  std::string id;            // short name used on the command line, e.g. "h100"
  std::string name;          // marketing name
  std::string arch;          // "sm_90", "sm_100"
  std::string family;        // "hopper", "blackwell"
  std::string base;          // id of the built-in profile this one overrides ("" if none)
  std::string origin;        // file path or "built-in:<file>"
  std::map<std::string, Source> sources;
  Quantity sm_count;         // SM
  Clocks clocks;
  PerSmRates per_sm;
  ChipRates chip;
  Capacities capacity;
  Latencies latency;
  Features features;

  bool has(const Quantity& q) const { return q.present; }
  bool flag(const Quantity& q) const { return q.present && q.value != 0.0; }
  // The clock the model runs the chip at: measured sustained clock if known, else the
  // tensor spec clock (the one the datasheet's throughput figures are quoted at).
  double model_clock_mhz() const {
    return clocks.sustained_mhz.present ? clocks.sustained_mhz.value : clocks.tensor_spec_mhz.value;
  }
};

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

// Generic walk over every quantity, for printing and scaling.
struct FieldRef {
  std::string path;  // "per_sm_per_clk.tensor_bf16"
  std::string unit;  // the unit the field is defined in
  std::string description;
  bool optional;
  const Quantity* q;
};
std::vector<FieldRef> fields(const Profile& p);
// Mutable access by path (for what-if scaling and overrides). Throws on unknown path.
Quantity& field(Profile& p, const std::string& path);
// "" when `value` is plausible for the field at `path` on any GPU, else why not (the
// field's range and unit, or "must be a whole number"). Throws on unknown path.
std::string implausible_value(const std::string& path, double value);

}  // namespace tilesim::profiles
