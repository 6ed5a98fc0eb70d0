#include <cmath>

#include "cuda_check.hpp"
#include "gemm_fp8_data.hpp"

namespace tilesim::gemm {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 4096;
constexpr int kGroup = kFp8ScaleGroup;
constexpr float kScaleSpreadLog2 = 3.0f;  // group magnitudes in 2^[-3, 3)
constexpr int kScaleAlignElems = 4;       // scale_a rows padded to 16 bytes for TMA

__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
__device__ __forceinline__ float unit_uniform(uint64_t h) {  // (0, 1)
  return (static_cast<float>(h >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

// x[r][c] = N(0,1) * 2^u(r / group_rows, c / 128): Box-Muller on a counter hash.
__global__ void fill_grouped_normal_kernel(float* x, int rows, int cols, int group_rows,
                                           uint64_t seed) {
  const std::size_t count = static_cast<std::size_t>(rows) * cols;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
    const uint64_t h = splitmix64(seed ^ (i * 0xD1B54A32D192ED03ull));
    const float u1 = unit_uniform(h), u2 = unit_uniform(splitmix64(h));
    const float normal = sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
    const uint64_t g = (static_cast<uint64_t>(r / group_rows) << 32) | static_cast<uint64_t>(c / kGroup);
    const float e = (2.0f * unit_uniform(splitmix64(~seed ^ (g * 0x9E3779B97F4A7C15ull))) - 1.0f) *
                    kScaleSpreadLog2;
    x[i] = normal * exp2f(e);
  }
}

// One block per (128-column group, group of `group_rows` rows): amax, scale = amax / 448,
// q = e4m3(x / scale), x := float(q) * scale (the dequantized value, in place).
// Scale of group (rg, kg) goes to scale[rg * s_row + kg * s_col].
__global__ void quantize_groups_kernel(float* x, __nv_fp8_e4m3* q, float* scale, int rows,
                                       int cols, int group_rows, int s_row, int s_col) {
  __shared__ float s_amax[kGroup];
  const int kg = blockIdx.x;
  const int c = kg * kGroup + static_cast<int>(threadIdx.x);
  const int row_groups = (rows + group_rows - 1) / group_rows;
  for (int rg = blockIdx.y; rg < row_groups; rg += gridDim.y) {
    const int r_end = min(rows, (rg + 1) * group_rows);
    float amax = 0.f;
    if (c < cols)
      for (int r = rg * group_rows; r < r_end; ++r)
        amax = fmaxf(amax, fabsf(x[static_cast<std::size_t>(r) * cols + c]));
    s_amax[threadIdx.x] = amax;
    __syncthreads();
    for (int s = kGroup / 2; s > 0; s /= 2) {
      if (static_cast<int>(threadIdx.x) < s)
        s_amax[threadIdx.x] = fmaxf(s_amax[threadIdx.x], s_amax[threadIdx.x + s]);
      __syncthreads();
    }
    const float group_amax = s_amax[0];
    __syncthreads();  // s_amax is rewritten by the next row group
    const float sc = group_amax > 0.f ? group_amax / kE4m3Max : 1.0f;
    if (threadIdx.x == 0) scale[static_cast<std::size_t>(rg) * s_row + static_cast<std::size_t>(kg) * s_col] = sc;
    if (c < cols) {
      for (int r = rg * group_rows; r < r_end; ++r) {
        const std::size_t i = static_cast<std::size_t>(r) * cols + c;
        const __nv_fp8_e4m3 v(x[i] / sc);
        q[i] = v;
        x[i] = static_cast<float>(v) * sc;
      }
    }
  }
}

__global__ void decode_e4m3_kernel(const __nv_fp8_e4m3* q, float* out, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<float>(q[i]);
}

__global__ void f32_to_bf16_kernel(const float* in, __nv_bfloat16* out, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

unsigned blocks_for(std::size_t count) {
  const std::size_t b = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? (b == 0 ? 1 : b) : kMaxBlocks);
}

constexpr unsigned kMaxGridY = 65535;

void quantize(float* x, __nv_fp8_e4m3* q, float* scale, int rows, int cols, int group_rows,
              int s_row, int s_col, uint64_t seed, cudaStream_t stream) {
  const std::size_t count = static_cast<std::size_t>(rows) * cols;
  fill_grouped_normal_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, rows, cols, group_rows,
                                                                        seed);
  TILESIM_CHECK_LAUNCH("fill_grouped_normal_kernel");
  const unsigned row_groups = static_cast<unsigned>((rows + group_rows - 1) / group_rows);
  const dim3 grid(static_cast<unsigned>((cols + kGroup - 1) / kGroup),
                  row_groups < kMaxGridY ? row_groups : kMaxGridY);
  quantize_groups_kernel<<<grid, kGroup, 0, stream>>>(x, q, scale, rows, cols, group_rows, s_row,
                                                      s_col);
  TILESIM_CHECK_LAUNCH("quantize_groups_kernel");
}

}  // namespace

Fp8Problem make_fp8_problem(int m, int n, int k, uint64_t seed, cudaStream_t stream) {
  Fp8Problem p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.k_groups = (k + kGroup - 1) / kGroup;
  p.n_blocks = (n + kGroup - 1) / kGroup;
  p.scale_a_ld = (m + kScaleAlignElems - 1) / kScaleAlignElems * kScaleAlignElems;
  const std::size_t na = static_cast<std::size_t>(m) * k, nb = static_cast<std::size_t>(n) * k;
  const std::size_t nsa = static_cast<std::size_t>(p.k_groups) * p.scale_a_ld;
  const std::size_t nsb = static_cast<std::size_t>(p.n_blocks) * p.k_groups;
  TILESIM_CUDA_CHECK(cudaMalloc(&p.a, na));
  TILESIM_CUDA_CHECK(cudaMalloc(&p.b, nb));
  TILESIM_CUDA_CHECK(cudaMalloc(&p.scale_a, nsa * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&p.scale_b, nsb * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&p.a_deq, na * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMalloc(&p.b_deq, nb * sizeof(float)));
  TILESIM_CUDA_CHECK(cudaMemsetAsync(p.scale_a, 0, nsa * sizeof(float), stream));  // padding
  // A: groups of 1 row x 128 columns, scale_a[kg][row]; B: 128 x 128, scale_b[nb][kg].
  quantize(p.a_deq, p.a, p.scale_a, m, k, 1, 1, p.scale_a_ld, seed, stream);
  quantize(p.b_deq, p.b, p.scale_b, n, k, kGroup, p.k_groups, 1, seed + 0x5EED, stream);
  return p;
}

void free_fp8_problem(Fp8Problem& p) {
  for (void* ptr : {static_cast<void*>(p.a), static_cast<void*>(p.b),
                    static_cast<void*>(p.scale_a), static_cast<void*>(p.scale_b),
                    static_cast<void*>(p.a_deq), static_cast<void*>(p.b_deq)})
    if (ptr != nullptr) TILESIM_CUDA_CHECK(cudaFree(ptr));
  p = Fp8Problem{};
}

void decode_e4m3(const __nv_fp8_e4m3* q, float* out, std::size_t count, cudaStream_t stream) {
  decode_e4m3_kernel<<<blocks_for(count), kThreads, 0, stream>>>(q, out, count);
  TILESIM_CHECK_LAUNCH("decode_e4m3_kernel");
}

void convert_f32_to_bf16(const float* in, __nv_bfloat16* out, std::size_t count,
                         cudaStream_t stream) {
  f32_to_bf16_kernel<<<blocks_for(count), kThreads, 0, stream>>>(in, out, count);
  TILESIM_CHECK_LAUNCH("f32_to_bf16_kernel");
}

}  // namespace tilesim::gemm
