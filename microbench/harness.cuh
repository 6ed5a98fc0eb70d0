// What every microbenchmark shares.
//
// Device side: each block records the SM it ran on and both clocks (clock64 cycles of
// that SM, %globaltimer ns) at its start and end. Cycles over ns on the same SM is the
// SM clock under this very load, so per-clock rates hold when the card runs below its
// max boost; per-SM cycle spans give rates per SM per clock without launch overhead.
//
// Host side: run_kernel() warms up, times each launch with CUDA events (Google
// Benchmark manual time), reads the clock records, and sets the counters named in
// microbench/README.md ("Output contract"). Kernels write a checksum of their results to
// a sink buffer so that nothing is optimised away; its first word is reported.
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace tilesim::microbench {

struct BlockClock {
  unsigned long long cycles_begin;
  unsigned long long cycles_end;
  unsigned long long ns_begin;
  unsigned long long ns_end;
  unsigned int smid;
  unsigned int pad;
};

__device__ __forceinline__ unsigned long long global_timer_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ unsigned int sm_id() {
  unsigned int id;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
  return id;
}

// Thread 0 of the block records the start. No barrier: the other warps start within a
// few cycles of it, far below the millisecond spans measured.
__device__ __forceinline__ void clock_begin(BlockClock* clk) {
  if (threadIdx.x == 0 && clk != nullptr) {
    BlockClock& r = clk[blockIdx.x];
    r.smid = sm_id();
    r.ns_begin = global_timer_ns();
    r.cycles_begin = clock64();
  }
}

// After a barrier, so the span covers every warp of the block.
__device__ __forceinline__ void clock_end(BlockClock* clk) {
  __syncthreads();
  if (threadIdx.x == 0 && clk != nullptr) {
    BlockClock& r = clk[blockIdx.x];
    r.cycles_end = clock64();
    r.ns_end = global_timer_ns();
  }
}

// Sizes and names that every benchmark file uses.
struct DeviceFacts {
  int sm_count = 0;
  std::size_t l2_bytes = 0;
  std::size_t smem_per_sm_bytes = 0;
  std::size_t smem_optin_bytes = 0;
  double max_sm_clock_mhz = 0;           // cudaDevAttrClockRate (max boost)
  double hbm_datasheet_bytes_per_s = 0;  // by device name; 0 when unknown
  double hbm_bus_bytes_per_s = 0;        // memory clock x 2 (DDR) x bus width / 8
  std::string name;
};
const DeviceFacts& device_facts();

// Options the binary was started with (see main.cu).
struct SuiteConfig {
  bool quick = false;
  int iterations = 10;  // timed launches per repetition
  // Length of one compute-bound launch, in SM cycles at the unit's peak rate: ~2 ms at
  // 2 GHz, long enough that launch overhead (~5 us) and the %globaltimer tick (<= 1 us)
  // stay below 0.3% of the measured span.
  double target_kernel_cycles = 4e6;
};
const SuiteConfig& suite_config();
void set_suite_config(const SuiteConfig& c);

// Long-lived device buffers shared by the benchmarks (allocated on first use).
BlockClock* clock_records();  // room for kMaxClockRecords blocks
constexpr int kMaxClockRecords = 1 << 16;
unsigned int* sink_buffer();  // kSinkWords words, checksum output
constexpr std::size_t kSinkWords = std::size_t{1} << 22;
// Random 32-bit words (never all zero), `bytes` long, filled once.
const std::uint32_t* random_words(std::size_t bytes);
// Two large buffers for HBM traffic (contents: random words).
std::uint8_t* big_buffer(int which, std::size_t bytes);

// Units of a benchmark's work: the counters are named "<unit>_per_clk_sm" and
// "<unit>_per_s" (see README "Output contract").
struct KernelSpec {
  std::function<void(cudaStream_t, BlockClock*)> launch;
  int blocks = 0;              // clock records the kernel writes (grid size)
  double work = 0;             // units of work per launch
  std::string unit;            // "flop", "bytes", "ops", "" (latency only)
  double peak_per_clk_sm = 0;  // physical peak of the unit; 0: none
  // Called after every timed launch (outside the timed region): extra counters, e.g.
  // latency cycles measured in the kernel. Medians over the timed launches are reported.
  std::function<std::map<std::string, double>()> after_launch;
  int warmup_launches = 2;
};

// Runs one benchmark repetition: warm-up, state.iterations() timed launches, counters.
void run_kernel(benchmark::State& state, const KernelSpec& spec);

// Registers a benchmark with manual time, the suite's iteration count and ms units.
benchmark::internal::Benchmark* register_gpu_benchmark(const std::string& name,
                                                       std::function<void(benchmark::State&)> fn);

// Blocks that give one resident block per SM: dynamic shared memory above half an SM.
std::size_t one_block_per_sm_smem_bytes();

// Copies the sink's first word back: the checksum counter.
double read_checksum();

// Registration entry points, one per benchmark file.
void register_wgmma_benchmarks();
void register_attn_op_benchmarks();
void register_mma_sync_benchmarks();
void register_alu_benchmarks();
void register_smem_benchmarks();
void register_memory_benchmarks();
void register_tma_benchmarks();
void register_tma_stream_benchmarks();
void register_gemm_epilogue_benchmarks();
void register_launch_benchmarks();
// sm_100a only (microbench/sm100/, in tilesim-microbench-sm100).
void register_tcgen05_benchmarks();
void register_ffma2_benchmarks();

}  // namespace tilesim::microbench
