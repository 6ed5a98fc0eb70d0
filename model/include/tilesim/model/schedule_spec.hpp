// The one declaration of a schedule: its tile parameters (type, range, tune values,
// meaning, default), the constraints a tile must meet (each with its reason), the chip
// features it needs, the builder that turns it into a ScheduleDesc, the rules our
// compiled kernels add, and the tiles that have a compiled kernel. The registry, tune,
// predict's feasibility checks, `predict --help-schedule` and the CLI help all read
// these specs; no rule is written a second time elsewhere.
//
// Each schedule's spec sits next to its builder in model/src/schedules/<name>.cpp; the
// kernel instances come from kernels/instances.json (embedded at build time), the list
// the kernel runners are also generated from.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tilesim/model/problem.hpp"
#include "tilesim/model/tile.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::model {

struct ScheduleDesc;
namespace detail {
struct Ctx;
}

enum class ParamType { kInt, kFlag, kReal };
const char* param_type_name(ParamType t);  // "int" | "flag" | "real"

// One tile parameter. Its domain (type, [min, max], multiple_of) is checked for every
// tile before any constraint; `tune_values` are what tune tries.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  double min = 0.0, max = 0.0;  // inclusive
  int multiple_of = 0;          // kInt: value % multiple_of == 0 (0: any)
  std::string range_reason;     // why the domain is what it is ("wgmma N"); may be empty
  std::string description;
  bool has_default = false;
  double default_value = 0.0;
  std::vector<double> tune_values;
};

// What a constraint sees: the complete tile, the problem and the chip.
struct TileView {
  const Tile& t;
  const Problem& prob;
  const tilesim::profiles::Profile& p;
  int i(const char* key) const;  // the tile's value as an integer (domains keep it small)
  double d(const char* key) const;
};

// A rule across parameters (and the problem or chip). `key` groups rejections in tune's
// counts ("shape", "cluster"), `rule` says what must hold, `reason` why.
struct Constraint {
  const char* key;
  const char* rule;
  const char* reason;
  bool (*holds)(const TileView&);
};

enum class Feature { kWgmma, kTcgen05, kTma };
struct FeatureReq {
  Feature feature;
  const char* why;  // why the chip needs it ("PTX wgmma.mma_async is sm_90a-only")
};
const char* feature_field(Feature f);  // "features.wgmma"

// A compiled kernel instance, in the model's vocabulary. `tile` holds the compile-time
// parameters (runtime ones, e.g. decode's splits, are absent and match any value);
// `requires_` the problems it serves (head_dim, dtype, paged, max_group_rows).
struct KernelInstance {
  std::string schedule;
  Tile tile;
  nlohmann::json requires_ = nlohmann::json::object();
  bool ci = false;     // also compiled in the CI subset (TILESIM_ALL_KERNELS=OFF)
  std::string group;   // translation unit it is generated into
  // Why the model rejects this compiled (and measured) instance, or "" if it predicts it.
  // Kept next to the instance so the disagreement is visible and tested, not hidden.
  std::string model_disagrees;
};

struct ScheduleSpec {
  std::string name;
  std::string summary;
  ProblemKind kind;
  std::vector<ParamSpec> params;
  std::vector<Constraint> constraints;  // the model's rules (instruction shapes, ...)
  std::vector<FeatureReq> features;
  // Rules our CUDA kernels add beyond the model's (their static_asserts and fixed
  // structure): a tile that breaks one can be predicted but has no kernel.
  std::vector<Constraint> kernel_rules;
  std::vector<std::string> runtime_params;  // chosen per launch by the runner, not compiled
  std::string runner;                       // the runner binary that runs its kernels ("" = none)
  void (*build)(const detail::Ctx&, ScheduleDesc&) = nullptr;
  // A problem the kernels are checked on (kernel-instance test): the instance's
  // requirements are applied on top of it.
  Problem representative;
  std::vector<KernelInstance> kernels;  // from kernels/instances.json

  const ParamSpec* param(const std::string& name) const;
};

// All schedules, in a fixed order.
const std::vector<ScheduleSpec>& schedules();
const ScheduleSpec& schedule_spec(const std::string& name);  // throws ModelError naming the valid ones

// "" if the schedule runs on this chip, else the reason (e.g. "gemm_sm90_ws needs wgmma
// (features.wgmma = 0 on b200: PTX wgmma.mma_async is sm_90a-only)").
std::string chip_support(const tilesim::profiles::Profile& p, const std::string& schedule);
std::string chip_support(const tilesim::profiles::Profile& p, const ScheduleSpec& s);

// Checks a complete tile against the parameter domains and the constraints: nullptr if
// it holds, else the failed rule's key; *message (optional) gets the sentence.
const char* check_tile(const ScheduleSpec& s, const Tile& full, const Problem& prob, const tilesim::profiles::Profile& p,
                       std::string* message = nullptr);
// The kernel rules alone (after check_tile): "" if an instance could exist, else the rule.
std::string check_kernel_rules(const ScheduleSpec& s, const Tile& full, const Problem& prob,
                               const tilesim::profiles::Profile& p);

// Does this instance serve the problem (head dim, dtype, paging, group rows)?
bool instance_serves(const KernelInstance& k, const Problem& prob);
// Has a kernel: a compiled instance matches every compile-time parameter of the complete
// tile and serves the problem.
bool has_kernel(const ScheduleSpec& s, const Tile& full, const Problem& prob);
// The representative problem with the instance's requirements applied.
Problem instance_problem(const ScheduleSpec& s, const KernelInstance& k);

// The spec as JSON (for `predict --help-schedule --json` and tools).
nlohmann::json to_json(const ScheduleSpec& s);
// Human-readable spec: parameters with type, range, default, tune values; constraints
// with reasons; features; kernel rules and instances.
std::string describe(const ScheduleSpec& s);

}  // namespace tilesim::model
