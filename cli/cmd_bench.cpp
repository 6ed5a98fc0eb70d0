// `tilesim bench`: runs the microbenchmark suite (tilesim-microbench, a CUDA binary
// next to this one) and writes a measured profile; `--from` converts an earlier run's
// Google Benchmark JSON without a GPU. The CLI itself never links CUDA: it runs the
// suite as a child process.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "command.hpp"
#include "tilesim/from_microbench.hpp"
#include "tilesim/profile.hpp"

namespace tilesim::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// First line of a command's stdout ("" if it fails).
std::string first_line(const std::string& cmd, int* status) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  if (!pipe) {
    *status = -1;
    return out;
  }
  std::array<char, 256> buf{};
  if (fgets(buf.data(), static_cast<int>(buf.size()), pipe.get()) != nullptr) out = buf.data();
  while (fgets(buf.data(), static_cast<int>(buf.size()), pipe.get()) != nullptr) {
  }
  *status = pclose(pipe.release());
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The GPU's compute capability ("9.0"), from nvidia-smi.
std::string device_compute_capability() {
  int status = 0;
  const std::string cc = first_line("nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null", &status);
  if (status != 0 || cc.empty())
    throw RuntimeError("no NVIDIA GPU found (nvidia-smi failed): tilesim bench runs on a GPU; "
                       "use --from <benchmark.json> to convert an earlier run");
  return cc;
}

fs::path default_suite_binary(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  for (const fs::path& candidate : {self.parent_path() / name, self.parent_path().parent_path() / "microbench" / name}) {
    if (fs::exists(candidate)) return candidate;
  }
  return self.parent_path() / name;
}

// Writes text to path atomically (temp file + rename) so a failure leaves nothing partial.
void write_file_atomically(const fs::path& path, const std::string& text) {
  std::error_code st_ec;
  if (fs::exists(path, st_ec) && !fs::is_regular_file(path, st_ec))
    throw RuntimeError("cannot write '" + path.string() + "': it exists and is not a regular file");
  const fs::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    if (!out) throw RuntimeError("cannot write '" + path.string() + "' (cannot create a file in its folder)");
    out << text;
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw RuntimeError("cannot write '" + path.string() + "' (write failed: disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw RuntimeError("cannot write '" + path.string() + "': " + ec.message());
  }
}

int run_bench(const std::vector<std::string>& args, Context& ctx) {
  po::options_description opts("tilesim bench [options]");
  opts.add_options()("help,h", "show this help")
      ("out", po::value<std::string>(), "write the measured profile here (refuses to overwrite without --force)")
      ("force", "overwrite --out if it exists")
      ("raw", po::value<std::string>(), "keep the suite's Google Benchmark JSON here (default: <out>.raw.json)")
      ("from", po::value<std::string>(), "convert this earlier Google Benchmark JSON instead of running (no GPU needed)")
      ("quick", "quick mode: only the benchmarks behind profile fields and the op-cost table, fewer repetitions (<= 30 s)")
      ("filter", po::value<std::string>(), "Google Benchmark regex of benchmarks to run")
      ("bin", po::value<std::string>(), "path to the suite binary (default: the one for this GPU, next to tilesim)")
      ("id", po::value<std::string>(), "id of the new profile (default: <chip>_measured_<date>)")
      ("json", "print the conversion summary as JSON");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    ctx.out << "run the microbenchmark suite on this machine's GPU and write a measured profile\n\n" << opts
            << "\nthe suite binary is chosen by the GPU's compute capability:\n"
               "  9.0  (H100, H200, H20, H800)  tilesim-microbench        sm_90a: wgmma, measured on H100/H200\n"
               "  10.0 (B200, GB200)            tilesim-microbench-sm100  sm_100a: tcgen05, TMEM, FFMA2\n"
               "The Blackwell suite is COMPILED BUT NEVER RUN: no B200 was available when it was written.\n"
               "It assumes: the PTX ISA's tcgen05 instruction and shared-memory descriptor layouts (K-major,\n"
               "128-byte swizzle, descriptor version 1); one CTA per SM owning all 512 TMEM columns; the\n"
               "cta_group::2 pair is a cluster of 2 whose even CTA issues; fma.rn.f32x2 is the packed FFMA2;\n"
               "B200 peaks of 8192 (bf16/fp16), 16384 (fp8), 4096 (tf32) FLOP/clk/SM for the %-of-peak\n"
               "counters. Check its numbers against SemiAnalysis' microbench-blackwell before trusting them.\n"
               "\nexamples:\n  tilesim bench --quick --out my_h100.json\n"
               "  tilesim bench --from data/measurements/microbench/run.json --out my_h100.json\n"
               "  tilesim gpus show my_h100.json\n";
    return kExitOk;
  }
  const std::string out_path = vm.count("out") ? vm["out"].as<std::string>() : "";
  if (!out_path.empty() && fs::exists(out_path) && !vm.count("force"))
    throw UsageError("'" + out_path + "' exists; pass --force to overwrite it");
  if (vm.count("from") && (vm.count("quick") || vm.count("filter") || vm.count("bin")))
    throw UsageError("--from converts an earlier run; --quick/--filter/--bin apply only when running the suite");

  std::string raw_path;
  if (vm.count("from")) {
    raw_path = vm["from"].as<std::string>();
    if (!fs::exists(raw_path)) throw RuntimeError("'" + raw_path + "': no such file");
  } else {
    profiles::MicrobenchSuite suite;
    try {
      suite = profiles::suite_for_compute_capability(device_compute_capability());
    } catch (const profiles::MicrobenchError& e) {
      throw RuntimeError(std::string("unsupported GPU: ") + e.what());
    }
    if (!suite.validated_on_hardware) ctx.err << "tilesim bench: warning: " << suite.binary << ": " << suite.caveat << "\n";
    const fs::path bin = vm.count("bin") ? fs::path(vm["bin"].as<std::string>()) : default_suite_binary(suite.binary);
    if (!fs::exists(bin)) throw RuntimeError("microbenchmark binary not found at '" + bin.string() + "' (build it, or pass --bin)");
    raw_path = vm.count("raw") ? vm["raw"].as<std::string>()
                               : (out_path.empty() ? (fs::temp_directory_path() / "tilesim_bench_raw.json").string()
                                                   : out_path + ".raw.json");
    std::string cmd = shell_quote(bin.string()) + " --benchmark_format=console --benchmark_out_format=json --benchmark_out=" +
                      shell_quote(raw_path);
    if (vm.count("quick")) cmd += " --tilesim_quick";
    if (vm.count("filter")) cmd += " --benchmark_filter=" + shell_quote(vm["filter"].as<std::string>());
    cmd += " 1>&2";  // the suite's console table goes to stderr: stdout stays the profile / --json
    ctx.err << "tilesim bench: running " << cmd << "\n";
    const int status = std::system(cmd.c_str());
    if (status != 0)
      throw RuntimeError("the microbenchmark suite failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  }

  std::ifstream in(raw_path);
  if (!in) throw RuntimeError("cannot read '" + raw_path + "'");
  nlohmann::json gbench;
  try {
    gbench = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw RuntimeError("'" + raw_path + "': not valid JSON: " + e.what());
  }
  profiles::ConversionResult res;
  try {
    res = profiles::profile_from_microbench(gbench, raw_path, vm.count("id") ? vm["id"].as<std::string>() : "");
  } catch (const profiles::MicrobenchError& e) {
    throw RuntimeError(e.what());
  }
  const std::string text = res.profile.dump(2) + "\n";
  if (!out_path.empty()) write_file_atomically(out_path, text);

  if (vm.count("json")) {
    nlohmann::json j = {{"profile_id", res.profile["id"]}, {"base", res.profile["base"]}, {"measured", res.measured},
                        {"missing", res.missing}, {"warnings", res.warnings}, {"raw", raw_path}};
    if (!out_path.empty()) j["out"] = out_path;
    else j["profile"] = res.profile;
    ctx.out << j.dump(2) << "\n";
  } else {
    if (out_path.empty()) ctx.out << text;
    ctx.err << "tilesim bench: " << res.measured.size() << " fields measured, " << res.missing.size()
            << " kept from '" << res.profile["base"].get<std::string>() << "'";
    if (!out_path.empty()) ctx.err << "; wrote " << out_path;
    ctx.err << "\n";
    for (const auto& w : res.warnings) ctx.err << "  flagged: " << w << "\n";
  }
  return kExitOk;
}

}  // namespace

TILESIM_REGISTER_COMMAND({"bench", "run the microbenchmarks on this GPU and write a measured profile", run_bench});

}  // namespace tilesim::cli
