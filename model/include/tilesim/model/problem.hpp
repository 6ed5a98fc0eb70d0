// Problems the model predicts: GEMM, attention forward, decode attention, MLA decode.
// Field names are those of the measurement JSON (brief/CONVENTIONS.md), so that a
// measured run's "problem" object parses directly (problem_from_json).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace tilesim::model {

// Bad input (a field out of range, unknown name, malformed value). The CLI turns it into
// exit code 2; the message names the field.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ProblemKind : int { kGemm = 0, kAttention, kDecode, kMla };
const char* problem_kind_name(ProblemKind k);  // "gemm" | "attention" | "decode" | "mla"

// Input element type. fp8 is e4m3 in, bf16 out (GEMM); tf32 is fp32 in memory.
enum class Dtype : int { kBf16 = 0, kFp16, kFp8, kTf32 };
const char* dtype_name(Dtype d);
Dtype parse_dtype(const std::string& s);  // throws ModelError naming "dtype"
double dtype_bytes(Dtype d);              // bytes per input element (tf32: 4)
double output_bytes(Dtype d);             // bytes per output element (fp8 -> bf16: 2)

struct Problem {
  ProblemKind kind = ProblemKind::kGemm;
  Dtype dtype = Dtype::kBf16;
  // gemm: C[m,n] = A[m,k] B[k,n]
  int64_t m = 0, n = 0, k = 0;
  // attention / decode / mla
  int64_t batch = 0;
  int64_t heads_q = 0;
  int64_t heads_kv = 0;    // mla: 1 (one latent KV shared by all query heads)
  int64_t seq_q = 0;       // attention only
  int64_t seq_kv = 0;
  int64_t head_dim = 0;    // QK head dim (mla: 576 = 512 latent + 64 rope)
  int64_t head_dim_v = 0;  // V head dim (mla: 512; decode: = head_dim)
  int64_t q_per_seq = 1;   // decode / mla: query tokens per sequence (1..8, speculative)
  int64_t page_size = 0;   // decode / mla: KV rows per page; 0 = contiguous
  bool causal = false;     // attention only
};

// Throws ModelError naming the first bad field ("seq_kv must be > 0, got 0").
void validate(const Problem& p);

// Useful FLOPs (no padding): gemm 2mnk; attention 2*B*Hq*Sq*Skv*(d+dv), causal: the
// visible area of causal_mask.hpp instead of Sq*Skv (half of it when Sq == Skv, the
// convention of shared/REFERENCES.md); decode/mla 2*B*Hq*q*Skv*(d+dv).
double useful_flops(const Problem& p);

// Minimum HBM bytes (each input read once, each output written once).
double compulsory_bytes(const Problem& p);

// {"kind": "gemm", "m": ..., ...} as in CONVENTIONS.md. Unknown keys are an error.
nlohmann::json to_json(const Problem& p);
Problem problem_from_json(const nlohmann::json& j);

// One line for people: "gemm 8192x8192x8192 bf16".
std::string describe(const Problem& p);

}  // namespace tilesim::model
