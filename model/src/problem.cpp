// Problem parsing, validation and FLOP/byte counts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <sstream>

#include "tilesim/model/problem.hpp"

#include "tilesim/model/causal_mask.hpp"

namespace tilesim::model {

const char* problem_kind_name(ProblemKind k) {
  switch (k) {
    case ProblemKind::kGemm: return "gemm";
    case ProblemKind::kAttention: return "attention";
    case ProblemKind::kDecode: return "decode";
    case ProblemKind::kMla: return "mla";
  }
  return "?";
}

const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::kBf16: return "bf16";
    case Dtype::kFp16: return "fp16";
    case Dtype::kFp8: return "fp8";
    case Dtype::kTf32: return "tf32";
  }
  return "?";
}

Dtype parse_dtype(const std::string& s) {
  if (s == "bf16") return Dtype::kBf16;
  if (s == "fp16" || s == "f16") return Dtype::kFp16;
  if (s == "fp8" || s == "e4m3" || s == "fp8_e4m3") return Dtype::kFp8;
  if (s == "tf32") return Dtype::kTf32;
  throw ModelError("dtype: unknown '" + s + "' (valid: bf16, fp16, fp8, tf32)");
}

double dtype_bytes(Dtype d) {
  switch (d) {
    case Dtype::kBf16:
    case Dtype::kFp16: return 2.0;
    case Dtype::kFp8: return 1.0;
    case Dtype::kTf32: return 4.0;
  }
  return 2.0;
}

double output_bytes(Dtype d) { return d == Dtype::kTf32 ? 4.0 : 2.0; }

namespace {
void positive(const char* field, int64_t v) {
  if (v <= 0) throw ModelError(std::string(field) + " must be > 0, got " + std::to_string(v));
}
// Sizes beyond this are surely a typo and would overflow the FLOP counts of a real GPU.
constexpr int64_t kMaxDim = int64_t{1} << 31;
void bounded(const char* field, int64_t v) {
  positive(field, v);
  if (v >= kMaxDim)
    throw ModelError(std::string(field) + " = " + std::to_string(v) + " is too large (must be < 2^31)");
}
// Products of sizes: the elements of any one tensor stay below 2^50 (2 PB of bf16, far
// beyond any GPU's memory), so that every count the model forms from them in int64 is
// exact, and the useful FLOPs below 2^70 (~12 days at 1 PFLOP/s), so that times are
// finite and meaningful.
constexpr double kMaxTensorElements = 1125899906842624.0;     // 2^50
constexpr double kMaxFlops = 1180591620717411303424.0;        // 2^70
struct Factor {
  const char* name;
  int64_t value;
};
void product_fits(const char* what, std::initializer_list<Factor> factors) {
  double prod = 1.0;
  std::string names;
  for (const auto& f : factors) {
    prod *= static_cast<double>(f.value);
    names += (names.empty() ? "" : " x ") + std::string(f.name);
  }
  if (prod > kMaxTensorElements) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", prod);
    throw ModelError(std::string("problem too large: ") + names + " (" + what + ") = " + buf +
                     " exceeds 2^50");
  }
}
void check_products(const Problem& p) {
  switch (p.kind) {
    case ProblemKind::kGemm:
      product_fits("elements of A", {{"m", p.m}, {"k", p.k}});
      product_fits("elements of B", {{"k", p.k}, {"n", p.n}});
      product_fits("elements of C", {{"m", p.m}, {"n", p.n}});
      break;
    case ProblemKind::kAttention:
      product_fits("elements of Q", {{"batch", p.batch}, {"heads_q", p.heads_q}, {"seq_q", p.seq_q}, {"head_dim", p.head_dim}});
      product_fits("elements of K", {{"batch", p.batch}, {"heads_kv", p.heads_kv}, {"seq_kv", p.seq_kv}, {"head_dim", p.head_dim}});
      product_fits("elements of V", {{"batch", p.batch}, {"heads_kv", p.heads_kv}, {"seq_kv", p.seq_kv}, {"head_dim_v", p.head_dim_v}});
      product_fits("elements of O", {{"batch", p.batch}, {"heads_q", p.heads_q}, {"seq_q", p.seq_q}, {"head_dim_v", p.head_dim_v}});
      break;
    case ProblemKind::kDecode:
    case ProblemKind::kMla:
      product_fits("elements of Q", {{"batch", p.batch}, {"heads_q", p.heads_q}, {"q_per_seq", p.q_per_seq}, {"head_dim", p.head_dim}});
      product_fits("elements of K", {{"batch", p.batch}, {"heads_kv", p.heads_kv}, {"seq_kv", p.seq_kv}, {"head_dim", p.head_dim}});
      product_fits("elements of V", {{"batch", p.batch}, {"heads_kv", p.heads_kv}, {"seq_kv", p.seq_kv}, {"head_dim_v", p.head_dim_v}});
      product_fits("elements of O", {{"batch", p.batch}, {"heads_q", p.heads_q}, {"q_per_seq", p.q_per_seq}, {"head_dim_v", p.head_dim_v}});
      break;
  }
  const double f = useful_flops(p);
  if (!(f <= kMaxFlops)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", f);
    throw ModelError(std::string("problem too large: ") + buf + " useful FLOPs exceed 2^70");
  }
}
}  // namespace

static void validate_sizes(const Problem& p);

void validate(const Problem& p) {
  validate_sizes(p);
  check_products(p);
}

static void validate_sizes(const Problem& p) {
  switch (p.kind) {
    case ProblemKind::kGemm:
      bounded("m", p.m);
      bounded("n", p.n);
      bounded("k", p.k);
      return;
    case ProblemKind::kAttention:
      bounded("batch", p.batch);
      bounded("heads_q", p.heads_q);
      bounded("heads_kv", p.heads_kv);
      bounded("seq_q", p.seq_q);
      bounded("seq_kv", p.seq_kv);
      bounded("head_dim", p.head_dim);
      bounded("head_dim_v", p.head_dim_v);
      if (p.heads_q % p.heads_kv != 0)
        throw ModelError("heads_q (" + std::to_string(p.heads_q) + ") must be a multiple of heads_kv (" +
                         std::to_string(p.heads_kv) + ")");
      if (p.head_dim > 256 || p.head_dim_v > 512)
        throw ModelError("head_dim must be <= 256 and head_dim_v <= 512 for attention, got " +
                         std::to_string(p.head_dim) + "/" + std::to_string(p.head_dim_v));
      if (p.head_dim % 8 != 0 || p.head_dim_v % 8 != 0)
        throw ModelError("head_dim and head_dim_v must be multiples of 8 (16-byte rows for TMA/cp.async)");
      if (p.dtype == Dtype::kTf32) throw ModelError("dtype: attention supports bf16, fp16, fp8");
      return;
    case ProblemKind::kDecode:
    case ProblemKind::kMla:
      bounded("batch", p.batch);
      bounded("heads_q", p.heads_q);
      bounded("heads_kv", p.heads_kv);
      bounded("seq_kv", p.seq_kv);
      bounded("head_dim", p.head_dim);
      bounded("head_dim_v", p.head_dim_v);
      if (p.q_per_seq < 1 || p.q_per_seq > 16)
        throw ModelError("q_per_seq must be in 1..16, got " + std::to_string(p.q_per_seq));
      if (p.page_size < 0) throw ModelError("page_size must be >= 0 (0 = contiguous), got " + std::to_string(p.page_size));
      if (p.heads_q % p.heads_kv != 0)
        throw ModelError("heads_q must be a multiple of heads_kv");
      if (p.head_dim % 8 != 0 || p.head_dim_v % 8 != 0)
        throw ModelError("head_dim and head_dim_v must be multiples of 8");
      if (p.kind == ProblemKind::kDecode && (p.head_dim > 256 || p.head_dim_v > 256))
        throw ModelError("head_dim must be <= 256 for decode, got " + std::to_string(p.head_dim));
      if (p.kind == ProblemKind::kMla && p.heads_kv != 1)
        throw ModelError("heads_kv must be 1 for mla (one latent KV head)");
      if (p.kind == ProblemKind::kMla && p.head_dim_v > p.head_dim)
        throw ModelError("head_dim_v must be <= head_dim for mla (V is a prefix of the latent KV row)");
      if (p.dtype == Dtype::kTf32) throw ModelError("dtype: decode supports bf16, fp16, fp8");
      return;
  }
}

double useful_flops(const Problem& p) {
  const double b = static_cast<double>(p.batch), hq = static_cast<double>(p.heads_q);
  switch (p.kind) {
    case ProblemKind::kGemm:
      return 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
    case ProblemKind::kAttention: {
      const double area = p.causal ? causal_visible_area(p.seq_q, p.seq_kv)
                                   : static_cast<double>(p.seq_q) * static_cast<double>(p.seq_kv);
      return 2.0 * b * hq * area * static_cast<double>(p.head_dim + p.head_dim_v);
    }
    case ProblemKind::kDecode:
    case ProblemKind::kMla:
      return 2.0 * b * hq * static_cast<double>(p.q_per_seq) * static_cast<double>(p.seq_kv) *
             static_cast<double>(p.head_dim + p.head_dim_v);
  }
  return 0.0;
}

double compulsory_bytes(const Problem& p) {
  const double e = dtype_bytes(p.dtype), o = output_bytes(p.dtype);
  const double b = static_cast<double>(p.batch);
  switch (p.kind) {
    case ProblemKind::kGemm:
      return e * static_cast<double>(p.m * p.k + p.k * p.n) + o * static_cast<double>(p.m) * static_cast<double>(p.n);
    case ProblemKind::kAttention:
      return b * (e * static_cast<double>(p.heads_q * p.seq_q * p.head_dim) +
                  e * static_cast<double>(p.heads_kv * p.seq_kv * (p.head_dim + p.head_dim_v)) +
                  o * static_cast<double>(p.heads_q * p.seq_q * p.head_dim_v));
    case ProblemKind::kDecode:
      return b * (e * static_cast<double>(p.heads_q * p.q_per_seq * p.head_dim) +
                  e * static_cast<double>(p.heads_kv * p.seq_kv * (p.head_dim + p.head_dim_v)) +
                  o * static_cast<double>(p.heads_q * p.q_per_seq * p.head_dim_v));
    case ProblemKind::kMla:  // V is a prefix of the latent row: KV read once (head_dim)
      return b * (e * static_cast<double>(p.heads_q * p.q_per_seq * p.head_dim) +
                  e * static_cast<double>(p.seq_kv * p.head_dim) +
                  o * static_cast<double>(p.heads_q * p.q_per_seq * p.head_dim_v));
  }
  return 0.0;
}

nlohmann::json to_json(const Problem& p) {
  nlohmann::json j;
  j["kind"] = problem_kind_name(p.kind);
  switch (p.kind) {
    case ProblemKind::kGemm:
      j["m"] = p.m;
      j["n"] = p.n;
      j["k"] = p.k;
      break;
    case ProblemKind::kAttention:
      j["batch"] = p.batch;
      j["heads_q"] = p.heads_q;
      j["heads_kv"] = p.heads_kv;
      j["seq_q"] = p.seq_q;
      j["seq_kv"] = p.seq_kv;
      j["head_dim"] = p.head_dim;
      j["head_dim_v"] = p.head_dim_v;
      j["causal"] = p.causal;
      break;
    case ProblemKind::kDecode:
    case ProblemKind::kMla:
      j["batch"] = p.batch;
      j["heads_q"] = p.heads_q;
      j["heads_kv"] = p.heads_kv;
      j["q_per_seq"] = p.q_per_seq;
      j["seq_kv"] = p.seq_kv;
      j["head_dim"] = p.head_dim;
      j["head_dim_v"] = p.head_dim_v;
      j["page_size"] = p.page_size;
      break;
  }
  j["dtype"] = dtype_name(p.dtype);
  return j;
}

namespace {
int64_t get_int(const nlohmann::json& j, const char* key, bool required, int64_t dflt) {
  if (!j.contains(key)) {
    if (required) throw ModelError(std::string("problem: missing field '") + key + "'");
    return dflt;
  }
  const auto& v = j.at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d) return static_cast<int64_t>(d);
  }
  throw ModelError(std::string("problem: field '") + key + "' must be an integer, got " + v.dump());
}
}  // namespace

Problem problem_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ModelError("problem: expected a JSON object, got " + j.dump());
  if (!j.contains("kind") || !j.at("kind").is_string()) throw ModelError("problem: missing string field 'kind'");
  Problem p;
  const std::string kind = j.at("kind").get<std::string>();
  std::vector<std::string> allowed;
  if (kind == "gemm") {
    p.kind = ProblemKind::kGemm;
    allowed = {"kind", "m", "n", "k", "dtype", "layout", "layout_a", "layout_b", "out_dtype"};
    p.m = get_int(j, "m", true, 0);
    p.n = get_int(j, "n", true, 0);
    p.k = get_int(j, "k", true, 0);
  } else if (kind == "attention") {
    p.kind = ProblemKind::kAttention;
    allowed = {"kind", "batch", "heads_q", "heads_kv", "seq_q", "seq_kv", "head_dim", "head_dim_v", "causal", "dtype"};
    p.batch = get_int(j, "batch", true, 0);
    p.heads_q = get_int(j, "heads_q", true, 0);
    p.heads_kv = get_int(j, "heads_kv", false, p.heads_q);
    p.seq_q = get_int(j, "seq_q", true, 0);
    p.seq_kv = get_int(j, "seq_kv", false, p.seq_q);
    p.head_dim = get_int(j, "head_dim", true, 0);
    p.head_dim_v = get_int(j, "head_dim_v", false, p.head_dim);
    if (j.contains("causal")) {
      if (!j.at("causal").is_boolean()) throw ModelError("problem: field 'causal' must be true or false");
      p.causal = j.at("causal").get<bool>();
    }
  } else if (kind == "decode" || kind == "mla") {
    const bool mla = kind == "mla";
    p.kind = mla ? ProblemKind::kMla : ProblemKind::kDecode;
    allowed = {"kind", "batch", "heads_q", "heads_kv", "q_per_seq", "seq_kv", "head_dim", "head_dim_v", "page_size", "dtype"};
    p.batch = get_int(j, "batch", true, 0);
    p.heads_q = get_int(j, "heads_q", true, 0);
    p.heads_kv = get_int(j, "heads_kv", false, mla ? 1 : p.heads_q);
    p.q_per_seq = get_int(j, "q_per_seq", false, 1);
    p.seq_kv = get_int(j, "seq_kv", true, 0);
    p.head_dim = get_int(j, "head_dim", !mla, 576);
    p.head_dim_v = get_int(j, "head_dim_v", false, mla ? 512 : p.head_dim);
    p.page_size = get_int(j, "page_size", false, 0);
  } else {
    throw ModelError("problem: unknown kind '" + kind + "' (valid: gemm, attention, decode, mla)");
  }
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw ModelError("problem: unknown field '" + key + "' for kind " + kind);
  }
  if (j.contains("dtype")) {
    if (!j.at("dtype").is_string()) throw ModelError("problem: field 'dtype' must be a string");
    p.dtype = parse_dtype(j.at("dtype").get<std::string>());
  }
  validate(p);
  return p;
}

std::string describe(const Problem& p) {
  std::ostringstream os;
  switch (p.kind) {
    case ProblemKind::kGemm:
      os << "gemm " << p.m << "x" << p.n << "x" << p.k;
      break;
    case ProblemKind::kAttention:
      os << "attention B" << p.batch << " Hq" << p.heads_q << " Hkv" << p.heads_kv << " Sq" << p.seq_q << " Skv"
         << p.seq_kv << " d" << p.head_dim;
      if (p.head_dim_v != p.head_dim) os << "/" << p.head_dim_v;
      if (p.causal) os << " causal";
      break;
    case ProblemKind::kDecode:
    case ProblemKind::kMla:
      os << (p.kind == ProblemKind::kMla ? "mla" : "decode") << " B" << p.batch << " Hq" << p.heads_q << " Hkv"
         << p.heads_kv << " q" << p.q_per_seq << " Skv" << p.seq_kv << " d" << p.head_dim;
      if (p.head_dim_v != p.head_dim) os << "/" << p.head_dim_v;
      if (p.page_size > 0) os << " page" << p.page_size;
      break;
  }
  os << " " << dtype_name(p.dtype);
  return os.str();
}

}  // namespace tilesim::model
