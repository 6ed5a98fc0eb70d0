// Problem options shared by predict and tune.
#include "problem_options.hpp"

#include <algorithm>

#include "command.hpp"

namespace tilesim::cli {

namespace po = boost::program_options;

namespace {
struct IntOption {
  const char* flag;  // command-line name
  const char* help;
};
constexpr IntOption kIntOptions[] = {
    {"m", "gemm: rows of A and C"},
    {"n", "gemm: columns of B and C"},
    {"k", "gemm: reduction length"},
    {"batch", "attention/decode/mla: batch size"},
    {"heads-q", "attention/decode/mla: query heads"},
    {"heads-kv", "attention/decode: KV heads (default: heads-q; mla: 1)"},
    {"seq-q", "attention: query length"},
    {"seq-kv", "attention (default: seq-q) / decode / mla: KV length"},
    {"head-dim", "QK head dim (mla default 576)"},
    {"head-dim-v", "V head dim (default: head-dim; mla 512)"},
    {"q-per-seq", "decode/mla: query tokens per sequence (default 1)"},
    {"page-size", "decode/mla: KV rows per page (default 0 = contiguous)"},
};

const std::vector<std::string>& applies(const std::string& kind) {
  static const std::vector<std::string> gemm = {"m", "n", "k"};
  static const std::vector<std::string> attn = {"batch", "heads-q", "heads-kv", "seq-q", "seq-kv", "head-dim", "head-dim-v"};
  static const std::vector<std::string> dec = {"batch", "heads-q", "heads-kv", "seq-kv", "head-dim", "head-dim-v", "q-per-seq", "page-size"};
  static const std::vector<std::string> mla = {"batch", "heads-q", "heads-kv", "seq-kv", "head-dim", "head-dim-v", "q-per-seq", "page-size"};
  if (kind == "gemm") return gemm;
  if (kind == "attention") return attn;
  if (kind == "decode") return dec;
  if (kind == "mla") return mla;
  throw UsageError("problem kind: unknown '" + kind + "' (valid: gemm, attention, decode, mla)");
}
}  // namespace

void add_problem_options(po::options_description& opts) {
  for (const auto& o : kIntOptions) opts.add_options()(o.flag, po::value<long long>(), o.help);
  opts.add_options()("dtype", po::value<std::string>()->default_value("bf16"), "bf16 | fp16 | fp8 | tf32 (gemm)")(
      "causal", po::bool_switch(), "attention: causal mask");
}

model::Problem problem_from_options(const std::string& kind, const po::variables_map& vm) {
  const auto& ok = applies(kind);
  for (const auto& o : kIntOptions) {
    if (vm.count(o.flag) && std::find(ok.begin(), ok.end(), o.flag) == ok.end())
      throw UsageError(std::string("--") + o.flag + " does not apply to a " + kind + " problem");
  }
  if (vm["causal"].as<bool>() && kind != "attention") throw UsageError("--causal applies to attention only");
  nlohmann::json j;
  j["kind"] = kind;
  for (const auto& flag : ok) {
    if (!vm.count(flag)) continue;
    std::string key = flag;
    std::replace(key.begin(), key.end(), '-', '_');
    j[key] = vm[flag].as<long long>();
  }
  j["dtype"] = vm["dtype"].as<std::string>();
  if (kind == "attention") j["causal"] = vm["causal"].as<bool>();
  try {
    return model::problem_from_json(j);
  } catch (const model::ModelError& e) {
    // "problem: missing field 'seq_q'" -> name the command-line option
    std::string msg = e.what();
    for (const auto& flag : ok) {
      std::string key = flag;
      std::replace(key.begin(), key.end(), '-', '_');
      const std::string quoted = "'" + key + "'";
      if (auto pos = msg.find(quoted); pos != std::string::npos) msg.replace(pos, quoted.size(), "--" + flag);
    }
    throw UsageError(msg);
  }
}

std::string scale_option(const po::variables_map& vm) {
  if (!vm.count("scale")) return "";
  const std::string s = vm["scale"].as<std::string>();
  if (s.empty() && !vm["scale"].defaulted())
    throw UsageError("--scale: empty (expected unit=factor,..., e.g. mufu=2)");
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw UsageError("--gpu: empty name in '" + s + "'");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

model::Profile load_gpu(const std::string& name, const std::string& scale_spec) {
  const bool is_path = name.find('/') != std::string::npos || name.find(".json") != std::string::npos;
  model::Profile p;
  if (is_path) {
    p = profiles::resolve_profile(name);  // a bad file: ProfileError, exit 1
  } else {
    try {
      p = profiles::resolve_profile(name);
    } catch (const profiles::ProfileError&) {
      std::string ids;
      for (const auto& id : profiles::builtin_ids()) ids += (ids.empty() ? "" : ", ") + id;
      throw UsageError("--gpu: unknown GPU '" + name + "' (built-in: " + ids + "; or a profile .json path)");
    }
  }
  if (!scale_spec.empty()) {
    try {
      model::apply_scale(p, scale_spec);
    } catch (const model::ModelError& e) {
      throw UsageError(e.what());
    }
  }
  return p;
}

model::ModelConstants load_model_constants(const std::string& path) {
  if (path.empty()) return model::default_constants();
  try {
    return model::load_constants_file(path);
  } catch (const model::ModelError& e) {
    throw RuntimeError(e.what());
  }
}

boost::program_options::variables_map parse_with_problem_kind(const std::vector<std::string>& args,
                                                               const boost::program_options::options_description& opts) {
  namespace po = boost::program_options;
  po::options_description hidden;
  hidden.add_options()("kind", po::value<std::string>(), "problem kind");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("kind", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

std::string schedule_choices() {
  std::string s;
  for (const auto& spec : model::schedules()) s += (s.empty() ? "" : " | ") + spec.name;
  return s;
}

}  // namespace tilesim::cli
