// tilesim-microbench: measures the GPU units the tilesim model uses (see README.md).
//
// Usage: tilesim-microbench [--tilesim_quick] [Google Benchmark flags]
//   --tilesim_quick   the benchmarks behind the profile fields only, 3 repetitions
//                     (<= 30 s); an explicit --benchmark_filter or
//                     --benchmark_repetitions still wins.
// Defaults: 5 repetitions of 10 timed launches per benchmark. Built twice: as
// tilesim-microbench (sm_90a: wgmma) and, with TILESIM_MICROBENCH_SM100, as
// tilesim-microbench-sm100 (sm_100a: tcgen05, TMEM, FFMA2; the arch-neutral benchmarks
// recompiled). Each needs its own compute capability (9.0 / 10.0); anything else: a
// message and exit code 1. `tilesim bench` picks the binary from the device.
#include <cuda_runtime.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device_report.hpp"
#include "harness.cuh"
#include "reporter.cuh"

namespace {

#ifdef TILESIM_MICROBENCH_SM100
constexpr int kArchMajor = 10;
constexpr const char* kBinary = "tilesim-microbench-sm100 (sm_100a kernels)";
// One benchmark per profile field (README "Output contract", Blackwell rows).
constexpr const char* kQuickFilter =
    "^(tcgen05/(bf16|fp16|e4m3|tf32)/ts/cta1/m128n256/throughput|tcgen05/(bf16|fp16|tf32)/ss/cta1/m128n256/"
    "throughput|tcgen05/bf16/ss/cta1/m128n256/latency|tmem/|mma_sync/bf16/throughput"
    "|alu/(ffma|ffma2|mufu_ex2)/(throughput|latency)"
    "|alu/cvt_bf16x2/throughput|smem/ld128/throughput|smem/latency|l2/read/ws_mb:16/"
    "|l2/latency/|hbm/(read|copy|latency)|tma/(bulk|tensor2d)_g2s/src_l2/ctas_per_sm:1/|launch/)";
#else
constexpr int kArchMajor = 9;
constexpr const char* kBinary = "tilesim-microbench (sm_90a kernels)";
// One benchmark per profile field (README "Output contract").
constexpr const char* kQuickFilter =
    "^(wgmma/(bf16|fp16|e4m3|tf32)/ss/n256/throughput|wgmma/bf16/ss/n(128|256)/latency"
    "|mma_sync/bf16/throughput|alu/(ffma|mufu_ex2)/(throughput|latency)"
    "|alu/cvt_bf16x2/throughput|smem/ld128/throughput|smem/latency|l2/read/ws_mb:16/"
    "|l2/latency/|hbm/(read|copy|latency)|tma/(bulk|tensor2d)_g2s/src_l2/ctas_per_sm:1/|launch/"
    "|op/fa3/.*/(pingpong|free)/)";
#endif

bool starts_with(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

std::string flag_value(const std::vector<char*>& args, const char* prefix) {
  std::string v;
  for (char* a : args) {
    if (starts_with(a, prefix)) v = a + std::strlen(prefix);
  }
  return v;
}

void register_all() {
  using namespace tilesim::microbench;
#ifdef TILESIM_MICROBENCH_SM100
  register_tcgen05_benchmarks();
  register_ffma2_benchmarks();
#else
  register_wgmma_benchmarks();
  register_attn_op_benchmarks();
  register_gemm_epilogue_benchmarks();
#endif
  register_mma_sync_benchmarks();
  register_alu_benchmarks();
  register_smem_benchmarks();
  register_memory_benchmarks();
  register_tma_benchmarks();
  register_tma_stream_benchmarks();
  register_launch_benchmarks();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tilesim::microbench;
  bool quick = false;
  bool list_only = false;  // --benchmark_list_tests works without a GPU (names only)
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tilesim_quick") == 0) {
      quick = true;
    } else {
      if (starts_with(argv[i], "--benchmark_list_tests")) list_only = true;
      args.push_back(argv[i]);
    }
  }
  if (!list_only) {
    try {
      int devices = 0;
      const cudaError_t e = cudaGetDeviceCount(&devices);
      if (e != cudaSuccess || devices == 0) {
        std::cerr << "tilesim-microbench: no CUDA GPU found ("
                  << (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices") << ")\n";
        return 1;
      }
      tilesim::cuda::require_compute_capability(kArchMajor, 0, kBinary);
    } catch (const std::exception& ex) {
      std::cerr << "tilesim-microbench: " << ex.what() << "\n";
      return 1;
    }
  }

  // Defaults that the user's own flags (placed after them) override.
  std::vector<std::string> defaults;
  defaults.emplace_back(quick ? "--benchmark_repetitions=3" : "--benchmark_repetitions=5");
  if (quick) defaults.emplace_back(std::string("--benchmark_filter=") + kQuickFilter);
  std::vector<char*> full{args[0]};
  for (std::string& d : defaults) full.push_back(d.data());
  for (std::size_t i = 1; i < args.size(); ++i) full.push_back(args[i]);
  int full_argc = static_cast<int>(full.size());

  SuiteConfig cfg;
  cfg.quick = quick;
  // Same launch count in both modes: Google Benchmark puts it in the benchmark names.
  cfg.iterations = 10;
  set_suite_config(cfg);

  // Read the output flags before Initialize, which removes the flags it recognises.
  std::string format = flag_value(full, "--benchmark_format=");
  const std::string out = flag_value(full, "--benchmark_out=");
  std::string out_format = flag_value(full, "--benchmark_out_format=");
  if (format.empty()) format = "console";
  if (out_format.empty()) out_format = "json";

  benchmark::Initialize(&full_argc, full.data());
  if (benchmark::ReportUnrecognizedArguments(full_argc, full.data())) return 1;

  try {
    if (list_only) {
      register_all();
      benchmark::RunSpecifiedBenchmarks();
      return 0;
    }
    const nlohmann::json dev = tilesim::cuda::device_report();
    benchmark::AddCustomContext("tilesim_device_report", dev.dump());
    benchmark::AddCustomContext("tilesim_gpu_name", dev["name"].get<std::string>());
    benchmark::AddCustomContext("tilesim_mode", quick ? "quick" : "full");
    const DeviceFacts& f = device_facts();
    benchmark::AddCustomContext("tilesim_sm_count", std::to_string(f.sm_count));
    benchmark::AddCustomContext("tilesim_max_sm_clock_mhz", std::to_string(f.max_sm_clock_mhz));
    benchmark::AddCustomContext("tilesim_hbm_datasheet_bytes_per_s",
                                std::to_string(f.hbm_datasheet_bytes_per_s));
    benchmark::AddCustomContext("tilesim_hbm_bus_bytes_per_s",
                                std::to_string(f.hbm_bus_bytes_per_s));

    register_all();

    FlaggingReporter display(make_reporter(format), /*progress=*/true);
    if (out.empty()) {
      benchmark::RunSpecifiedBenchmarks(&display);
    } else {
      FlaggingReporter file(make_reporter(out_format), /*progress=*/false);
      benchmark::RunSpecifiedBenchmarks(&display, &file);
    }
  } catch (const std::exception& ex) {
    std::cerr << "tilesim-microbench: " << ex.what() << "\n";
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
