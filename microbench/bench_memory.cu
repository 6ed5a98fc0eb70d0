// L2 and HBM.
//
// L2 read bandwidth vs working set: every thread of a full grid (2 x 1024 threads per SM)
// streams 16-byte ld.global.cg loads (cached in L2 only, never in L1) through a buffer of
// the working-set size, 8 loads in flight per thread, many passes per launch. Below about
// half the L2 the data can sit in the SM's near L2 partition; past it, reads cross to the
// far partition; past the L2 size they come from HBM (the "split L2" of Hopper).
//
// HBM: read, write and copy of 2 GiB buffers (>= 8x L2 on every Hopper), one pass per
// launch, the same access pattern (each warp touches 512 contiguous bytes per access).
//
// Latency: one thread follows a random cycle of 8-byte pointers, one per 128-byte line.
// L2: over 4 MiB, after a warm pass. HBM: over lines spread through 256 MiB, after
// writing a buffer of 2x L2 (evicts the lines). Near/far L2: first-load latency of 4096
// random lines (written after an L2 flush) from one SM, split into two clusters.
#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "event_timer.hpp"
#include "harness.cuh"

namespace tilesim::microbench {
namespace {

constexpr int kThreads = 1024;
constexpr int kBlocksPerSm = 2;
constexpr int kInFlight = 8;  // independent 16-byte accesses per thread per step
constexpr std::size_t kHbmBytes = std::size_t{2} << 30;
constexpr std::size_t kLineBytes = 128;

__device__ __forceinline__ uint4 ld_cg(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.cg.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

// Reads `steps` x kInFlight vectors per thread, walking the buffer (n vectors) with a
// grid-wide stride and wrapping around, so any working set gets the same access pattern.
__global__ void __launch_bounds__(kThreads)
    read_kernel(const uint4* buf, std::size_t n, int steps, unsigned* sink, BlockClock* clk) {
  clock_begin(clk);
  const std::size_t threads = std::size_t{gridDim.x} * blockDim.x;
  const std::size_t stride = threads % n;
  std::size_t idx = (std::size_t{blockIdx.x} * blockDim.x + threadIdx.x) % n;
  unsigned acc = 0;
  for (int s = 0; s < steps; ++s) {
    uint4 v[kInFlight];
#pragma unroll
    for (int j = 0; j < kInFlight; ++j) {
      v[j] = ld_cg(buf + idx);
      idx += stride;
      if (idx >= n) idx -= n;
    }
#pragma unroll
    for (int j = 0; j < kInFlight; ++j) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
  }
  sink[blockIdx.x * blockDim.x + threadIdx.x] = acc;
  clock_end(clk);
}

// One pass over n vectors (n a multiple of the grid size x kInFlight).
__global__ void __launch_bounds__(kThreads)
    write_kernel(uint4* buf, std::size_t n, unsigned seed, BlockClock* clk) {
  clock_begin(clk);
  const std::size_t threads = std::size_t{gridDim.x} * blockDim.x;
  for (std::size_t i = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n;
       i += threads * kInFlight) {
#pragma unroll
    for (int j = 0; j < kInFlight; ++j) {
      if (i + j * threads >= n) break;
      const auto w = static_cast<unsigned>(i + j * threads) ^ seed;
      buf[i + j * threads] = make_uint4(w, w + 1, w + 2, w + 3);
    }
  }
  clock_end(clk);
}

__global__ void __launch_bounds__(kThreads)
    copy_kernel(const uint4* src, uint4* dst, std::size_t n, BlockClock* clk) {
  clock_begin(clk);
  const std::size_t threads = std::size_t{gridDim.x} * blockDim.x;
  for (std::size_t i = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n;
       i += threads * kInFlight) {
    uint4 v[kInFlight] = {};
#pragma unroll
    for (int j = 0; j < kInFlight; ++j) {
      if (i + j * threads < n) v[j] = ld_cg(src + i + j * threads);
    }
#pragma unroll
    for (int j = 0; j < kInFlight; ++j) {
      if (i + j * threads < n) dst[i + j * threads] = v[j];
    }
  }
  clock_end(clk);
}

// Writes the chase: line order[i] holds the address of line order[i+1] (cyclically).
__global__ void build_chase_kernel(std::uint8_t* buf, const std::uint64_t* order, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const std::uint64_t next = order[(i + 1) % n];
    *reinterpret_cast<std::uint64_t*>(buf + order[i] * kLineBytes) =
        reinterpret_cast<std::uint64_t>(buf + next * kLineBytes);
  }
}

__device__ __forceinline__ std::uint64_t ld_cg_u64(std::uint64_t p) {
  std::uint64_t v;
  asm volatile("ld.global.cg.u64 %0, [%1];" : "=l"(v) : "l"(p));
  return v;
}

// Stores v to shared memory: the store has to wait for v, so a clock read placed after it
// is taken after v arrived (in-order issue), which a clock read alone would not be.
__device__ __forceinline__ void consume(std::uint64_t v) {
  __shared__ std::uint64_t slot;
  asm volatile("st.volatile.shared.u64 [%0], %1;" ::"r"(
                   static_cast<std::uint32_t>(__cvta_generic_to_shared(&slot))),
               "l"(v)
               : "memory");
}

// Writes whole lines (every 8-byte word = the line's own address): a partly written 32-byte
// sector would make the next read fetch the rest from HBM.
__global__ void self_lines_kernel(std::uint8_t* buf, const std::uint64_t* lines, int n) {
  constexpr int kWords = kLineBytes / 8;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n * kWords; i += gridDim.x * blockDim.x) {
    std::uint8_t* line = buf + lines[i / kWords] * kLineBytes;
    reinterpret_cast<std::uint64_t*>(line)[i % kWords] = reinterpret_cast<std::uint64_t>(line);
  }
}

// warm_steps untimed, then timed_steps timed dependent loads.
__global__ void chase_kernel(const std::uint8_t* buf, std::uint64_t first_line, int warm_steps,
                             int timed_steps, unsigned* sink, BlockClock* clk,
                             unsigned long long* cycles_out) {
  clock_begin(clk);
  auto p = reinterpret_cast<std::uint64_t>(buf + first_line * kLineBytes);
  for (int i = 0; i < warm_steps; ++i) p = ld_cg_u64(p);
  const long long t0 = clock64();
  for (int i = 0; i < timed_steps; ++i) p = ld_cg_u64(p);
  consume(p);
  const long long t1 = clock64();
  sink[0] = static_cast<unsigned>(p);
  *cycles_out = static_cast<unsigned long long>(t1 - t0);
  clock_end(clk);
}

// Per-line L2 latency from this SM. The lines were just written by another kernel after
// an L2 flush, so each sits in its home L2 partition only; the first load of a line here
// is near or far depending on that home ("first"), the second shows whether the line now
// has a copy near this SM ("repeat"). Each includes ~10 cycles of store + clock read.
__global__ void line_latency_kernel(const std::uint8_t* buf, const std::uint64_t* lines, int n,
                                    float* first_out, float* repeat_out, unsigned* sink,
                                    BlockClock* clk) {
  clock_begin(clk);
  std::uint64_t acc = 0;
  for (int i = 0; i < n; ++i) {
    auto p = reinterpret_cast<std::uint64_t>(buf + lines[i] * kLineBytes);
    const long long t0 = clock64();
    p = ld_cg_u64(p);
    consume(p);
    const long long t1 = clock64();
    p = ld_cg_u64(p);
    consume(p);
    const long long t2 = clock64();
    acc += p;
    first_out[i] = static_cast<float>(t1 - t0);
    repeat_out[i] = static_cast<float>(t2 - t1);
  }
  sink[0] = static_cast<unsigned>(acc);
  clock_end(clk);
}

int grid_blocks() { return device_facts().sm_count * kBlocksPerSm; }

void add_datasheet_counters(benchmark::State& state) {
  const DeviceFacts& dev = device_facts();
  if (state.counters.count("bytes_per_s") == 0) return;
  const double bw = state.counters["bytes_per_s"];
  if (dev.hbm_datasheet_bytes_per_s > 0) {
    state.counters["pct_of_datasheet"] = 100.0 * bw / dev.hbm_datasheet_bytes_per_s;
  }
  state.counters["pct_of_bus_peak"] = 100.0 * bw / dev.hbm_bus_bytes_per_s;
}

void bench_read(benchmark::State& state, std::size_t ws_bytes, double target_bytes,
                bool report_datasheet) {
  const DeviceFacts& dev = device_facts();
  const std::size_t n = ws_bytes / sizeof(uint4);
  const auto* buf = reinterpret_cast<const uint4*>(big_buffer(0, kHbmBytes));
  const double threads = double{kThreads} * grid_blocks();
  const int steps = std::max(1, static_cast<int>(target_bytes / (threads * kInFlight * 16)));
  KernelSpec spec;
  spec.blocks = grid_blocks();
  spec.unit = "bytes";
  spec.work = threads * kInFlight * 16.0 * steps;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    read_kernel<<<grid_blocks(), kThreads, 0, s>>>(buf, n, steps, sink_buffer(), clk);
  };
  run_kernel(state, spec);
  state.counters["ws_bytes"] = static_cast<double>(ws_bytes);
  state.counters["l2_bytes"] = static_cast<double>(dev.l2_bytes);
  if (report_datasheet) add_datasheet_counters(state);
}

void bench_write(benchmark::State& state) {
  auto* buf = reinterpret_cast<uint4*>(big_buffer(1, kHbmBytes));
  const std::size_t n = kHbmBytes / sizeof(uint4);
  KernelSpec spec;
  spec.blocks = grid_blocks();
  spec.unit = "bytes";
  spec.work = static_cast<double>(kHbmBytes);
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    write_kernel<<<grid_blocks(), kThreads, 0, s>>>(buf, n, 0x5eedu, clk);
  };
  run_kernel(state, spec);
  add_datasheet_counters(state);
}

void bench_copy(benchmark::State& state) {
  const auto* src = reinterpret_cast<const uint4*>(big_buffer(0, kHbmBytes));
  auto* dst = reinterpret_cast<uint4*>(big_buffer(1, kHbmBytes));
  const std::size_t n = kHbmBytes / sizeof(uint4);
  KernelSpec spec;
  spec.blocks = grid_blocks();
  spec.unit = "bytes";
  spec.work = 2.0 * static_cast<double>(kHbmBytes);  // bytes read + bytes written
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    copy_kernel<<<grid_blocks(), kThreads, 0, s>>>(src, dst, n, clk);
  };
  run_kernel(state, spec);
  add_datasheet_counters(state);
}

// A random cycle through `lines` distinct lines chosen among the first region_bytes.
std::uint64_t* device_line_order(std::size_t region_bytes, int lines, std::uint32_t seed) {
  const std::size_t region_lines = region_bytes / kLineBytes;
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> order;
  if (static_cast<std::size_t>(lines) == region_lines) {
    order.resize(region_lines);
    std::iota(order.begin(), order.end(), std::uint64_t{0});
    std::shuffle(order.begin(), order.end(), rng);
  } else {
    std::vector<bool> used(region_lines, false);
    std::uniform_int_distribution<std::uint64_t> pick(0, region_lines - 1);
    while (order.size() < static_cast<std::size_t>(lines)) {
      const std::uint64_t l = pick(rng);
      if (!used[l]) {
        used[l] = true;
        order.push_back(l);
      }
    }
  }
  std::uint64_t* d = nullptr;
  TILESIM_CUDA_CHECK(cudaMalloc(&d, order.size() * sizeof(std::uint64_t)));
  TILESIM_CUDA_CHECK(
      cudaMemcpy(d, order.data(), order.size() * sizeof(std::uint64_t), cudaMemcpyHostToDevice));
  return d;
}

unsigned long long* cycles_slot() {
  static unsigned long long* p = [] {
    unsigned long long* q = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&q, sizeof(*q)));
    return q;
  }();
  return p;
}

std::map<std::string, double> read_latency(int steps) {
  unsigned long long c = 0;
  TILESIM_CUDA_CHECK(cudaMemcpy(&c, cycles_slot(), sizeof(c), cudaMemcpyDeviceToHost));
  const double per_step = static_cast<double>(c) / steps;
  return {{"latency_cycles", per_step}};
}

// Chase over region_bytes of a dedicated buffer (the chase overwrites line heads).
void bench_chase(benchmark::State& state, std::size_t region_bytes, int lines, bool flush) {
  static std::uint8_t* buf = [] {
    std::uint8_t* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, std::size_t{256} << 20));
    return p;
  }();
  std::uint64_t* order = device_line_order(region_bytes, lines, 777u);
  build_chase_kernel<<<256, 256>>>(buf, order, lines);
  TILESIM_CHECK_LAUNCH_SYNC("build_chase_kernel");
  std::uint64_t first = 0;
  TILESIM_CUDA_CHECK(cudaMemcpy(&first, order, sizeof(first), cudaMemcpyDeviceToHost));
  TILESIM_CUDA_CHECK(cudaFree(order));
  static cuda::L2Flusher* flusher = new cuda::L2Flusher(2 * device_facts().l2_bytes);
  const int warm = flush ? 0 : lines;
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    if (flush) flusher->flush(s);  // evicts the chase lines (inside the events; unused time)
    chase_kernel<<<1, 1, 0, s>>>(buf, first, warm, lines, sink_buffer(), clk, cycles_slot());
  };
  spec.after_launch = [=] { return read_latency(lines); };
  run_kernel(state, spec);
  state.counters["region_bytes"] = static_cast<double>(region_bytes);
}

// Otsu split of sorted per-line latencies into near and far clusters.
void near_far(std::vector<float> v, double& near, double& far, double& far_fraction) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + v[i];
  double best = -1;
  std::size_t split = n / 2;
  for (std::size_t k = n / 20; k < n - n / 20; ++k) {  // each cluster >= 5% of the lines
    const double w0 = static_cast<double>(k), w1 = static_cast<double>(n - k);
    const double m0 = prefix[k] / w0, m1 = (prefix[n] - prefix[k]) / w1;
    const double between = w0 * w1 * (m1 - m0) * (m1 - m0);
    if (between > best) {
      best = between;
      split = k;
    }
  }
  near = v[split / 2];
  far = v[split + (n - split) / 2];
  far_fraction = static_cast<double>(n - split) / static_cast<double>(n);
}

void bench_near_far(benchmark::State& state) {
  constexpr int kLines = 4096;
  constexpr std::size_t kRegion = std::size_t{16} << 20;
  static std::uint8_t* buf = [] {
    std::uint8_t* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, kRegion));
    return p;
  }();
  static std::uint64_t* lines = device_line_order(kRegion, kLines, 4242u);
  static float* cycles = [] {
    float* p = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&p, 2 * kLines * sizeof(float)));
    return p;
  }();
  static cuda::L2Flusher* flusher = new cuda::L2Flusher(2 * device_facts().l2_bytes);
  KernelSpec spec;
  spec.blocks = 1;
  spec.launch = [=](cudaStream_t s, BlockClock* clk) {
    flusher->flush(s);
    self_lines_kernel<<<256, 256, 0, s>>>(buf, lines, kLines);
    line_latency_kernel<<<1, 1, 0, s>>>(buf, lines, kLines, cycles, cycles + kLines, sink_buffer(),
                                        clk);
  };
  spec.after_launch = [=] {
    std::vector<float> first(kLines), repeat(kLines);
    TILESIM_CUDA_CHECK(
        cudaMemcpy(first.data(), cycles, kLines * sizeof(float), cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(
        cudaMemcpy(repeat.data(), cycles + kLines, kLines * sizeof(float), cudaMemcpyDeviceToHost));
    double near = 0, far = 0, frac = 0;
    near_far(first, near, far, frac);
    std::sort(repeat.begin(), repeat.end());
    return std::map<std::string, double>{{"near_latency_cycles", near},
                                         {"far_latency_cycles", far},
                                         {"far_fraction", frac},
                                         {"repeat_latency_cycles", repeat[kLines / 2]}};
  };
  run_kernel(state, spec);
}

}  // namespace

void register_memory_benchmarks() {
  // Enough bytes per launch for ~1-3 ms at L2 rates (~10 TB/s).
  constexpr double kL2TargetBytes = 12e9;
  const std::vector<int> ws_mb =
      suite_config().quick
          ? std::vector<int>{16, 40}
          : std::vector<int>{2, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 100};
  for (int mb : ws_mb) {
    const std::size_t ws = static_cast<std::size_t>(mb) << 20;
    register_gpu_benchmark("l2/read/ws_mb:" + std::to_string(mb),
                           [ws](benchmark::State& s) { bench_read(s, ws, kL2TargetBytes, false); });
  }
  register_gpu_benchmark("l2/latency/chase", [](benchmark::State& s) {
    bench_chase(s, std::size_t{4} << 20, static_cast<int>((std::size_t{4} << 20) / kLineBytes),
                false);
  });
  register_gpu_benchmark("l2/latency/near_far", bench_near_far);
  register_gpu_benchmark("hbm/read", [](benchmark::State& s) {
    bench_read(s, kHbmBytes, static_cast<double>(kHbmBytes), true);
  });
  register_gpu_benchmark("hbm/write", bench_write);
  register_gpu_benchmark("hbm/copy", bench_copy);
  register_gpu_benchmark("hbm/latency", [](benchmark::State& s) {
    bench_chase(s, std::size_t{256} << 20, 8192, true);
  });
}

}  // namespace tilesim::microbench
