// cuDNN fused SDPA through the frontend graph API (see cudnn_sdpa.hpp). This translation unit
// is the only one that sees the frontend: its bundled JSON library stays out
// (CUDNN_FRONTEND_SKIP_JSON_LIB), the runner's nlohmann/json is the only one in the binary.
#define CUDNN_FRONTEND_SKIP_JSON_LIB
#include "cudnn_sdpa.hpp"

#include <cudnn.h>
#include <cudnn_frontend.h>

#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace tilesim::attention {

namespace fe = cudnn_frontend;

namespace {

void check(fe::error_t e, const char* step) {
  if (e.is_bad()) throw std::runtime_error(std::string("cuDNN SDPA ") + step + ": " + e.get_message());
}

void check_cudnn(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cudnnGetErrorString(s));
}

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Dense [batch, heads, seq, dim] strides, the layout of the runner's buffers.
std::vector<int64_t> bhsd_strides(int64_t heads, int64_t seq, int64_t dim) {
  return {heads * seq * dim, seq * dim, dim, 1};
}

}  // namespace

std::string cudnn_sdpa_versions() {
  const size_t v = cudnnGetVersion();  // major * 10000 + minor * 100 + patch since cuDNN 9
  return "cuDNN " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100) +
         " (library at run time), frontend " + std::to_string(CUDNN_FRONTEND_MAJOR_VERSION) + "." +
         std::to_string(CUDNN_FRONTEND_MINOR_VERSION) + "." + std::to_string(CUDNN_FRONTEND_PATCH_VERSION);
}

struct CudnnSdpa::Impl {
  cudnnHandle_t handle = nullptr;
  fe::graph::Graph graph;
  std::shared_ptr<fe::graph::Tensor_attributes> q, k, v, o;
  void* workspace = nullptr;
  std::string plan;

  ~Impl() {
    if (workspace != nullptr) cudaFree(workspace);
    if (handle != nullptr) cudnnDestroy(handle);
  }
};

CudnnSdpa::CudnnSdpa(const AttnProblem& p) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  check_cudnn(cudnnCreate(&m.handle), "cudnnCreate");
  const int64_t b = p.batch, hq = p.heads_q, hkv = p.heads_kv, sq = p.seq_q, skv = p.seq_kv, d = p.head_dim;
  m.graph.set_io_data_type(fe::DataType_t::BFLOAT16)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  auto tensor = [&](const char* name, int64_t heads, int64_t seq) {
    return m.graph.tensor(fe::graph::Tensor_attributes()
                              .set_name(name)
                              .set_dim({b, heads, seq, d})
                              .set_stride(bhsd_strides(heads, seq, d)));
  };
  m.q = tensor("Q", hq, sq);
  m.k = tensor("K", hkv, skv);  // fewer KV heads than query heads: cuDNN's native GQA
  m.v = tensor("V", hkv, skv);
  auto attrs = fe::graph::SDPA_attributes()
                   .set_name("sdpa")
                   .set_generate_stats(false)  // inference: no softmax statistics for a backward pass
                   .set_attn_scale(static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))));
  if (p.causal) attrs.set_causal_mask(true);  // top-left: query row i sees keys 0..i, as our kernels
  auto outputs = m.graph.sdpa(m.q, m.k, m.v, attrs);
  m.o = outputs[0];
  m.o->set_output(true).set_dim({b, hq, sq, d}).set_stride(bhsd_strides(hq, sq, d));

  check(m.graph.validate(), "validate");
  check(m.graph.build_operation_graph(m.handle), "build_operation_graph");
  check(m.graph.create_execution_plans({fe::HeurMode_t::A}), "create_execution_plans");
  check(m.graph.check_support(m.handle), "check_support");
  check(m.graph.build_plans(m.handle), "build_plans");
  check(m.graph.get_plan_name(m.plan), "get_plan_name");
  int64_t ws_bytes = 0;
  check(m.graph.get_workspace_size(ws_bytes), "get_workspace_size");
  if (ws_bytes > 0) check_cuda(cudaMalloc(&m.workspace, static_cast<size_t>(ws_bytes)), "cudaMalloc (cuDNN workspace)");
}

CudnnSdpa::~CudnnSdpa() = default;

void CudnnSdpa::launch(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* o,
                       cudaStream_t st) {
  Impl& m = *impl_;
  check_cudnn(cudnnSetStream(m.handle, st), "cudnnSetStream");
  std::unordered_map<std::shared_ptr<fe::graph::Tensor_attributes>, void*> pack = {
      {m.q, const_cast<__nv_bfloat16*>(q)},
      {m.k, const_cast<__nv_bfloat16*>(k)},
      {m.v, const_cast<__nv_bfloat16*>(v)},
      {m.o, o}};
  check(m.graph.execute(m.handle, pack, m.workspace), "execute");
}

const std::string& CudnnSdpa::plan_name() const { return impl_->plan; }

}  // namespace tilesim::attention
