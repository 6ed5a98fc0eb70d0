// Host side of the harness: device facts, shared buffers, and the timed runner that
// turns clock records and event times into the suite's counters.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "harness.cuh"
#include "random_fill.cuh"

namespace tilesim::microbench {
namespace {

SuiteConfig g_config;

// Vendor datasheet HBM bandwidths (decimal bytes/s; see shared/REFERENCES.md). Matched
// on the device name, longest name first so that "H200" is not read as "H20".
double hbm_datasheet_bytes_per_s(const std::string& name) {
  struct Entry {
    const char* key;
    double bytes_per_s;
  };
  static const Entry kTable[] = {
      {"H100 PCIe", 2.0e12}, {"H200", 4.8e12}, {"H100", 3.35e12},
      {"H800", 3.35e12},     {"H20", 4.0e12},  {"B200", 8.0e12},
  };
  for (const Entry& e : kTable) {
    if (name.find(e.key) != std::string::npos) return e.bytes_per_s;
  }
  return 0.0;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct ClockStats {
  double mhz = 0;
  double sum_sm_cycles = 0;  // sum over SMs of (last end - first start) cycles
  int sms = 0;
};

ClockStats clock_stats(const std::vector<BlockClock>& recs) {
  struct Span {
    unsigned long long c0 = ~0ull, c1 = 0, t0 = ~0ull, t1 = 0;
  };
  std::map<unsigned int, Span> per_sm;
  for (const BlockClock& r : recs) {
    if (r.cycles_end <= r.cycles_begin || r.ns_end <= r.ns_begin) continue;  // not written
    Span& s = per_sm[r.smid];
    s.c0 = std::min(s.c0, r.cycles_begin);
    s.c1 = std::max(s.c1, r.cycles_end);
    s.t0 = std::min(s.t0, r.ns_begin);
    s.t1 = std::max(s.t1, r.ns_end);
  }
  ClockStats out;
  double cycles = 0, ns = 0;
  for (const auto& [sm, s] : per_sm) {
    cycles += static_cast<double>(s.c1 - s.c0);
    ns += static_cast<double>(s.t1 - s.t0);
  }
  out.sms = static_cast<int>(per_sm.size());
  out.sum_sm_cycles = cycles;
  out.mhz = ns > 0 ? 1e3 * cycles / ns : 0.0;
  return out;
}

cudaStream_t suite_stream() {
  static cudaStream_t s = [] {
    cudaStream_t st;
    TILESIM_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

}  // namespace

const SuiteConfig& suite_config() { return g_config; }
void set_suite_config(const SuiteConfig& c) { g_config = c; }

const DeviceFacts& device_facts() {
  static const DeviceFacts facts = [] {
    DeviceFacts f;
    cudaDeviceProp prop{};
    TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    f.name = prop.name;
    f.sm_count = prop.multiProcessorCount;
    f.l2_bytes = static_cast<std::size_t>(prop.l2CacheSize);
    f.smem_per_sm_bytes = prop.sharedMemPerMultiprocessor;
    f.smem_optin_bytes = prop.sharedMemPerBlockOptin;
    int clock_khz = 0, mem_khz = 0, bus_bits = 0;
    TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0));
    TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0));
    TILESIM_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0));
    f.max_sm_clock_mhz = clock_khz / 1e3;
    // HBM transfers on both clock edges: 2 transfers per memory clock per bus bit.
    f.hbm_bus_bytes_per_s = mem_khz * 1e3 * 2.0 * bus_bits / 8.0;
    f.hbm_datasheet_bytes_per_s = hbm_datasheet_bytes_per_s(f.name);
    return f;
  }();
  return facts;
}

BlockClock* clock_records() {
  static BlockClock* p = [] {
    BlockClock* q = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&q, sizeof(BlockClock) * kMaxClockRecords));
    return q;
  }();
  return p;
}

unsigned int* sink_buffer() {
  static unsigned int* p = [] {
    unsigned int* q = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&q, sizeof(unsigned int) * kSinkWords));
    TILESIM_CUDA_CHECK(cudaMemset(q, 0, sizeof(unsigned int) * kSinkWords));
    return q;
  }();
  return p;
}

const std::uint32_t* random_words(std::size_t bytes) {
  static std::uint32_t* p = nullptr;
  static std::size_t have = 0;
  if (bytes > have) {
    if (p != nullptr) TILESIM_CUDA_CHECK(cudaFree(p));
    TILESIM_CUDA_CHECK(cudaMalloc(&p, bytes));
    fill_random_words(p, bytes / 4, 0x9e3779b9u);
    have = bytes;
  }
  return p;
}

std::uint8_t* big_buffer(int which, std::size_t bytes) {
  static std::uint8_t* p[2] = {nullptr, nullptr};
  static std::size_t have[2] = {0, 0};
  if (bytes > have[which]) {
    if (p[which] != nullptr) TILESIM_CUDA_CHECK(cudaFree(p[which]));
    TILESIM_CUDA_CHECK(cudaMalloc(&p[which], bytes));
    fill_random_words(reinterpret_cast<std::uint32_t*>(p[which]), bytes / 4,
                      0x1234567u + static_cast<unsigned>(which));
    have[which] = bytes;
  }
  return p[which];
}

std::size_t one_block_per_sm_smem_bytes() {
  const DeviceFacts& d = device_facts();
  return std::min(d.smem_optin_bytes, d.smem_per_sm_bytes / 2 + 1024);
}

double read_checksum() {
  unsigned int v = 0;
  TILESIM_CUDA_CHECK(cudaMemcpy(&v, sink_buffer(), sizeof(v), cudaMemcpyDeviceToHost));
  return static_cast<double>(v);
}

benchmark::internal::Benchmark* register_gpu_benchmark(const std::string& name,
                                                       std::function<void(benchmark::State&)> fn) {
  // A failed CUDA call inside a benchmark marks that benchmark as errored (visible in every
  // output format) instead of ending the whole suite.
  auto guarded = [fn](benchmark::State& s) {
    try {
      fn(s);
    } catch (const std::exception& e) {
      s.SkipWithError(e.what());
    }
  };
  return benchmark::RegisterBenchmark(name.c_str(), guarded)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(suite_config().iterations);
}

void run_kernel(benchmark::State& state, const KernelSpec& spec) {
  const DeviceFacts& dev = device_facts();
  if (spec.blocks > kMaxClockRecords) {
    state.SkipWithError("grid larger than the clock record buffer");
    return;
  }
  cudaStream_t stream = suite_stream();
  BlockClock* clk = clock_records();
  const std::size_t rec_bytes = sizeof(BlockClock) * static_cast<std::size_t>(spec.blocks);
  for (int i = 0; i < spec.warmup_launches; ++i) spec.launch(stream, clk);
  TILESIM_CUDA_CHECK(cudaGetLastError());
  TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));

  cudaEvent_t start, stop;
  TILESIM_CUDA_CHECK(cudaEventCreate(&start));
  TILESIM_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> times_ms, mhz, per_clk;
  std::map<std::string, std::vector<double>> extras;
  std::vector<BlockClock> recs(static_cast<std::size_t>(spec.blocks));
  for (auto _ : state) {
    TILESIM_CUDA_CHECK(cudaMemsetAsync(clk, 0, rec_bytes, stream));
    TILESIM_CUDA_CHECK(cudaEventRecord(start, stream));
    spec.launch(stream, clk);
    TILESIM_CUDA_CHECK(cudaEventRecord(stop, stream));
    TILESIM_CUDA_CHECK(cudaEventSynchronize(stop));
    TILESIM_CUDA_CHECK(cudaGetLastError());
    float ms = 0.f;
    TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
    times_ms.push_back(ms);
    TILESIM_CUDA_CHECK(cudaMemcpy(recs.data(), clk, rec_bytes, cudaMemcpyDeviceToHost));
    const ClockStats cs = clock_stats(recs);
    if (cs.mhz > 0) mhz.push_back(cs.mhz);
    if (cs.sum_sm_cycles > 0 && !spec.unit.empty()) per_clk.push_back(spec.work / cs.sum_sm_cycles);
    if (spec.after_launch) {
      for (const auto& [k, v] : spec.after_launch()) extras[k].push_back(v);
    }
  }
  TILESIM_CUDA_CHECK(cudaEventDestroy(start));
  TILESIM_CUDA_CHECK(cudaEventDestroy(stop));

  const double t_med = median_of(times_ms);
  const double spread_pct = t_med > 0 ? 100.0 *
                                            (*std::max_element(times_ms.begin(), times_ms.end()) -
                                             *std::min_element(times_ms.begin(), times_ms.end())) /
                                            t_med
                                      : 0.0;
  state.counters["spread_pct"] = spread_pct;
  state.counters["sm_count"] = dev.sm_count;
  if (!mhz.empty()) {
    const double m = median_of(mhz);
    state.counters["sm_clock_mhz"] = m;
    state.counters["clock_frac_of_max_boost"] = m / dev.max_sm_clock_mhz;
  }
  if (!spec.unit.empty()) {
    if (!per_clk.empty()) {
      const double pc = median_of(per_clk);
      state.counters[spec.unit + "_per_clk_sm"] = pc;
      if (spec.peak_per_clk_sm > 0)
        state.counters["pct_of_peak"] = 100.0 * pc / spec.peak_per_clk_sm;
    }
    if (t_med > 0) state.counters[spec.unit + "_per_s"] = spec.work / (t_med / 1e3);
  }
  for (const auto& [k, v] : extras) state.counters[k] = median_of(v);
  state.counters["checksum"] = read_checksum();
  if (spread_pct > 3.0) state.SetLabel("SPREAD>3%");
}

}  // namespace tilesim::microbench
