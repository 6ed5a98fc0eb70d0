// Probe: what the two cluster-wide barriers of a clustered Hopper GEMM cost (after the
// mbarrier init and before exit: kernels/gemm/gemm_sm90_ws.cuh, gemm_sm90_fp8.cuh, via
// ptx::cluster_sync), with the GEMMs' block (384 threads) and dynamic shared memory
// (214112 B: one CTA per SM), timed as the runners time a sample (memset L2 flush, event,
// launch, event, wait; median of 50 after 10 warm-up samples). Each CTA spins a fixed
// number of SM cycles between the barriers (a stand-in for its tiles) and thread 0 reads
// clock64 around each barrier: `start_cyc` / `end_cyc` are the medians over CTAs and
// samples. The plain variant takes __syncthreads() where the cluster one takes
// barrier.cluster.arrive.release + wait.acquire. (A first variant, a cluster launch without
// any barrier, was timed no slower than the plain grid.)
// Built as tilesim-probe-cluster-barrier (microbench/CMakeLists.txt), run by hand.
// Result (H200, 2026-11-29, data/measurements/microbench/2026-11-29_h200_cluster_barrier_probe.json):
// start 483-487 cycles, end 394-398, plain 2-12; kernel +0.32-0.64 us.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

constexpr int kThreads = 384;
constexpr int kSmemBytes = 214112;
constexpr size_t kFlushBytes = 120u << 20;  // about twice the H100/H200 L2
constexpr int kSamples = 60, kWarmup = 10;

__device__ __forceinline__ void cluster_barrier() {
  asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

template <bool kCluster>
__global__ void spin_between_barriers(long long spin_cycles, long long* cycles) {
  extern __shared__ int smem[];
  if (threadIdx.x == 0) smem[0] = blockIdx.x;
  const long long a = clock64();
  if (kCluster) cluster_barrier(); else __syncthreads();
  const long long b = clock64();
  while (clock64() - b < spin_cycles) {}
  const long long c = clock64();
  if (kCluster) cluster_barrier(); else __syncthreads();
  const long long d = clock64();
  if (threadIdx.x == 0) {
    cycles[2 * blockIdx.x] = b - a;
    cycles[2 * blockIdx.x + 1] = d - c;
  }
}

template <bool kCluster>
void launch(int grid, long long spin, long long* cycles) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = 2;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(grid);
  cfg.blockDim = dim3(kThreads);
  cfg.dynamicSmemBytes = kSmemBytes;
  cfg.attrs = attr;
  cfg.numAttrs = kCluster ? 1 : 0;
  if (cudaError_t e = cudaLaunchKernelEx(&cfg, spin_between_barriers<kCluster>, spin, cycles))
    std::printf("launch: %s\n", cudaGetErrorString(e));
}

template <typename T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  cudaFuncSetAttribute(spin_between_barriers<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes);
  cudaFuncSetAttribute(spin_between_barriers<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes);
  long long* cycles;
  cudaMalloc(&cycles, sizeof(long long) * 2 * 132);
  void* flush;
  cudaMalloc(&flush, kFlushBytes);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (int grid : {32, 132})
    for (long long spin : {0LL, 20000LL})
      for (bool cluster : {false, true}) {
        std::vector<float> us;
        std::vector<long long> start, end;
        for (int i = 0; i < kSamples; ++i) {
          cudaMemsetAsync(flush, i & 255, kFlushBytes);
          cudaEventRecord(e0);
          if (cluster) launch<true>(grid, spin, cycles); else launch<false>(grid, spin, cycles);
          cudaEventRecord(e1);
          cudaEventSynchronize(e1);
          float ms;
          cudaEventElapsedTime(&ms, e0, e1);
          if (i < kWarmup) continue;
          us.push_back(1e3f * ms);
          std::vector<long long> h(2 * grid);
          cudaMemcpy(h.data(), cycles, sizeof(long long) * h.size(), cudaMemcpyDeviceToHost);
          for (int j = 0; j < grid; ++j) {
            start.push_back(h[2 * j]);
            end.push_back(h[2 * j + 1]);
          }
        }
        std::printf("grid %3d spin %6lld %-9s med_us %7.3f start_cyc %lld end_cyc %lld\n", grid, spin,
                    cluster ? "cl2_sync" : "plain", median(us), median(start), median(end));
      }
  return 0;
}
