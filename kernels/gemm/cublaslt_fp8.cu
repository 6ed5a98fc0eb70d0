#include <cstdint>
#include <stdexcept>
#include <string>

#include "cublaslt_fp8.hpp"
#include "cuda_check.hpp"

namespace tilesim::gemm {
namespace {

// cuBLASLt's recommended workspace for Hopper (cuBLAS documentation: 32 MiB).
constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;

void lt_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + " failed: cublasStatus " + std::to_string(s));
}

}  // namespace

// Row-major C[M,N] = A[M,K] B[N,K]^T is column-major C^T[N,M] = (B viewed as K x N)^T x
// (A viewed as K x M): cuBLASLt's "A" is our B, column-major K x N (ld K) with op T, its "B"
// our A, K x M (ld K) with op N ("TN", the only layout Hopper's fp8 cuBLASLt takes), D is
// N x M (ld N).
CublasLtFp8::CublasLtFp8(int m, int n, int k, bool fast_accum) {
  lt_check(cublasLtCreate(&handle_), "cublasLtCreate");
  TILESIM_CUDA_CHECK(cudaMalloc(&workspace_, kWorkspaceBytes));
  TILESIM_CUDA_CHECK(cudaMalloc(&unit_scale_, sizeof(float)));
  const float one = 1.0f;
  TILESIM_CUDA_CHECK(cudaMemcpy(unit_scale_, &one, sizeof(float), cudaMemcpyHostToDevice));

  lt_check(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "MatmulDescCreate");
  const cublasOperation_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
  lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof(op_t)),
           "set TRANSA");
  lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)),
           "set TRANSB");
  lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER,
                                          &unit_scale_, sizeof(unit_scale_)),
           "set A_SCALE_POINTER");
  lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
                                          &unit_scale_, sizeof(unit_scale_)),
           "set B_SCALE_POINTER");
  const int8_t fast = fast_accum ? 1 : 0;
  lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast,
                                          sizeof(fast)),
           "set FAST_ACCUM");
  lt_check(cublasLtMatrixLayoutCreate(&lay_a_, CUDA_R_8F_E4M3, k, n, k), "layout A");
  lt_check(cublasLtMatrixLayoutCreate(&lay_b_, CUDA_R_8F_E4M3, k, m, k), "layout B");
  lt_check(cublasLtMatrixLayoutCreate(&lay_d_, CUDA_R_16BF, n, m, n), "layout D");

  cublasLtMatmulPreference_t pref = nullptr;
  lt_check(cublasLtMatmulPreferenceCreate(&pref), "PreferenceCreate");
  const std::size_t ws = kWorkspaceBytes;
  lt_check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                &ws, sizeof(ws)),
           "set MAX_WORKSPACE_BYTES");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(handle_, desc_, lay_a_, lay_b_, lay_d_,
                                                          lay_d_, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (s != CUBLAS_STATUS_SUCCESS || found == 0) {
    why_ = "cublasLtMatmulAlgoGetHeuristic found no fp8 algorithm (status " + std::to_string(s) + ")";
  } else {
    algo_ = result.algo;
  }
}

CublasLtFp8::~CublasLtFp8() {
  if (lay_d_) cublasLtMatrixLayoutDestroy(lay_d_);
  if (lay_b_) cublasLtMatrixLayoutDestroy(lay_b_);
  if (lay_a_) cublasLtMatrixLayoutDestroy(lay_a_);
  if (desc_) cublasLtMatmulDescDestroy(desc_);
  if (handle_) cublasLtDestroy(handle_);
  if (workspace_) cudaFree(workspace_);
  if (unit_scale_) cudaFree(unit_scale_);
}

void CublasLtFp8::run(const void* a, const void* b, void* d, cudaStream_t stream) const {
  if (!why_.empty()) throw std::runtime_error("cuBLASLt fp8: " + why_);
  const float alpha = 1.0f, beta = 0.0f;
  lt_check(cublasLtMatmul(handle_, desc_, &alpha, b, lay_a_, a, lay_b_, &beta, d, lay_d_, d,
                          lay_d_, &algo_, workspace_, kWorkspaceBytes, stream),
           "cublasLtMatmul (fp8)");
}

}  // namespace tilesim::gemm
