// The one shape syntax of the runners: key=value lists and shapes files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "shape_args.hpp"

namespace tr = tilesim::runner;

TEST(ShapeArgs, AttentionDefaultsFollowTheirSource) {
  const auto s = tr::parse_shape("batch=2,heads_q=32,seq_q=4096,head_dim=128", tr::attention_shape_keys());
  EXPECT_EQ(s["heads_kv"], 32);  // MHA unless given
  EXPECT_EQ(s["seq_kv"], 4096);
  EXPECT_EQ(s["causal"], 0);
  const auto g = tr::parse_shape("batch=1,heads_q=32,heads_kv=4,seq_q=100,seq_kv=300,head_dim=64,causal=1",
                                 tr::attention_shape_keys());
  EXPECT_EQ(g["heads_kv"], 4);
  EXPECT_EQ(g["seq_kv"], 300);
  EXPECT_EQ(g["causal"], 1);
}

TEST(ShapeArgs, ErrorsNameTheKey) {
  auto msg = [](const std::string& text) {
    try {
      tr::parse_shape(text, tr::decode_shape_keys());
    } catch (const tr::ShapeError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg("batch=1,heads_q=8,head_dim=128").find("missing seq_kv"), std::string::npos);
  EXPECT_NE(msg("batch=1,heads_q=8,seq_kv=100,head_dim=128,pages=3").find("unknown key 'pages'"), std::string::npos);
  EXPECT_NE(msg("batch=0,heads_q=8,seq_kv=100,head_dim=128").find("batch=0 is out of range"), std::string::npos);
  EXPECT_NE(msg("batch=1e3,heads_q=8,seq_kv=100,head_dim=128").find("not an integer"), std::string::npos);
  EXPECT_NE(msg("batch=1,batch=2,heads_q=8,seq_kv=100,head_dim=128").find("given twice"), std::string::npos);
  EXPECT_NE(msg("batch").find("not key=value"), std::string::npos);
  EXPECT_NE(msg("").find("empty"), std::string::npos);
  EXPECT_NE(msg("batch=99999999999999999999,heads_q=8,seq_kv=1,head_dim=128").find("too large"), std::string::npos);
}

TEST(ShapeArgs, JsonShapesCheckKindDtypeAndHeadDimV) {
  const auto& keys = tr::attention_shape_keys();
  nlohmann::json ok = {{"kind", "attention"}, {"batch", 1},       {"heads_q", 8}, {"seq_q", 128},
                       {"head_dim", 64},      {"head_dim_v", 64}, {"causal", true}, {"dtype", "bf16"}};
  const auto s = tr::shape_from_json(ok, keys, "attention", {"bf16"}, "t");
  EXPECT_EQ(s["causal"], 1);
  nlohmann::json bad_kind = ok;
  bad_kind["kind"] = "gemm";
  EXPECT_THROW(tr::shape_from_json(bad_kind, keys, "attention", {"bf16"}, "t"), tr::ShapeError);
  nlohmann::json bad_dtype = ok;
  bad_dtype["dtype"] = "fp8";
  EXPECT_THROW(tr::shape_from_json(bad_dtype, keys, "attention", {"bf16"}, "t"), tr::ShapeError);
  nlohmann::json bad_dv = ok;
  bad_dv["head_dim_v"] = 128;
  EXPECT_THROW(tr::shape_from_json(bad_dv, keys, "attention", {"bf16"}, "t"), tr::ShapeError);
  nlohmann::json frac = ok;
  frac["batch"] = 1.5;
  EXPECT_THROW(tr::shape_from_json(frac, keys, "attention", {"bf16"}, "t"), tr::ShapeError);
}

// MLA declares head_dim_v as a key of its own (576 / 512) and takes only the kernels' one
// latent shape and page size.
TEST(ShapeArgs, MlaKeysTakeTheLatentShapeOnly) {
  const auto& keys = tr::mla_shape_keys();
  const auto s = tr::parse_shape("batch=16,heads_q=16,q_per_seq=2,seq_kv=65536", keys);
  EXPECT_EQ(s["head_dim"], 576);
  EXPECT_EQ(s["head_dim_v"], 512);
  EXPECT_EQ(s["heads_kv"], 1);
  EXPECT_EQ(s["page_size"], 64);
  nlohmann::json ok = {{"kind", "mla"},      {"batch", 2},        {"heads_q", 128}, {"seq_kv", 4096},
                       {"head_dim", 576},    {"head_dim_v", 512}, {"page_size", 64}, {"dtype", "bf16"}};
  EXPECT_EQ(tr::shape_from_json(ok, keys, "mla", {"bf16"}, "t")["head_dim_v"], 512);
  nlohmann::json bad_dv = ok;
  bad_dv["head_dim_v"] = 576;
  EXPECT_THROW(tr::shape_from_json(bad_dv, keys, "mla", {"bf16"}, "t"), tr::ShapeError);
  EXPECT_THROW(tr::parse_shape("batch=1,heads_q=16,seq_kv=100,page_size=16", keys), tr::ShapeError);
  EXPECT_THROW(tr::parse_shape("batch=1,heads_q=16,seq_kv=100,heads_kv=2", keys), tr::ShapeError);
  // The held-out MLA list parses with these keys.
  const auto h = tr::shapes_from_file(TILESIM_HELDOUT_FILE, "mla", keys, {"bf16"});
  EXPECT_GE(h.size(), 10u);
}

TEST(ShapeArgs, ShapesFileErrors) {
  const std::string path = ::testing::TempDir() + "shapes_bad.json";
  {
    std::ofstream f(path);
    f << "{\"gemm\": [{\"m\": 1, \"n\": 8}]";
  }
  EXPECT_THROW(tr::shapes_from_file(path, "gemm", tr::gemm_shape_keys(), {"bf16"}), tr::ShapeError);  // truncated
  {
    std::ofstream f(path);
    f << "{\"gemm\": [{\"m\": 1, \"n\": 8}]}";
  }
  try {
    tr::shapes_from_file(path, "gemm", tr::gemm_shape_keys(), {"bf16"});
    FAIL() << "missing k accepted";
  } catch (const tr::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("gemm[0]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tr::shapes_from_file(path, "decode", tr::decode_shape_keys(), {"bf16"}), tr::ShapeError);
  EXPECT_THROW(tr::shapes_from_file(path + ".missing", "gemm", tr::gemm_shape_keys(), {"bf16"}), tr::ShapeError);
  std::remove(path.c_str());
}

// The fp8 GEMM lists: held-out "gemm_fp8" (>= 10 shapes) and the fp8 training shapes parse
// as fp8 GEMM shapes the kernel takes (K % 16 == 0 for e4m3 TMA rows, N % 8 == 0), cover
// K % 128 != 0 and small M, and no training shape is held out.
TEST(ShapeArgs, Fp8GemmListsParseAndDoNotOverlap) {
  const std::string train_file =
      (std::filesystem::path(TILESIM_HELDOUT_FILE).parent_path().parent_path() / "train" / "shapes_fp8_2026-11-27.json").string();
  const auto held = tr::shapes_from_file(TILESIM_HELDOUT_FILE, "gemm_fp8", tr::gemm_shape_keys(), {"fp8"});
  const auto train = tr::shapes_from_file(train_file, "gemm_fp8", tr::gemm_shape_keys(), {"fp8"});
  EXPECT_GE(held.size(), 10u);
  EXPECT_GE(train.size(), 5u);
  bool odd_k = false, small_m = false;
  for (const auto* list : {&held, &train})
    for (const auto& s : *list) {
      EXPECT_EQ(s["k"] % 16 + s["n"] % 8, 0) << s.text;
      odd_k |= s["k"] % 128 != 0;
      small_m |= s["m"] <= 256;
    }
  EXPECT_TRUE(odd_k && small_m);
  for (const auto& t : train)
    for (const auto& h : held) EXPECT_NE(t.v, h.v) << t.text << " is also held out";
  // A bf16 runner reading the fp8 list rejects it by dtype.
  EXPECT_THROW(tr::shapes_from_file(TILESIM_HELDOUT_FILE, "gemm_fp8", tr::gemm_shape_keys(), {"bf16"}), tr::ShapeError);
}

// The committed held-out list parses for every family and meets the protocol's minimum
// (at least 12 shapes per family; attention covers d64 and d128, causal and not, GQA).
TEST(ShapeArgs, HeldOutListParses) {
  const auto a = tr::shapes_from_file(TILESIM_HELDOUT_FILE, "attention", tr::attention_shape_keys(), {"bf16"});
  const auto g = tr::shapes_from_file(TILESIM_HELDOUT_FILE, "gemm", tr::gemm_shape_keys(), {"bf16"});
  const auto d = tr::shapes_from_file(TILESIM_HELDOUT_FILE, "decode", tr::decode_shape_keys(), {"bf16"});
  EXPECT_GE(a.size(), 12u);
  EXPECT_GE(g.size(), 12u);
  EXPECT_GE(d.size(), 12u);
  bool d64 = false, d128 = false, causal = false, plain = false, gqa = false;
  for (const auto& s : a) {
    d64 |= s["head_dim"] == 64;
    d128 |= s["head_dim"] == 128;
    causal |= s["causal"] == 1;
    plain |= s["causal"] == 0;
    gqa |= s["heads_kv"] < s["heads_q"];
    EXPECT_EQ(s["heads_q"] % s["heads_kv"], 0) << s.text;
  }
  EXPECT_TRUE(d64 && d128 && causal && plain && gqa);
  for (const auto& s : g) EXPECT_EQ(s["n"] % 8 + s["k"] % 8, 0) << s.text << ": TMA rows need N, K multiples of 8";
  for (const auto& s : d) {
    // The decode kernels hold at most 32 query rows (group x q_per_seq) per CTA.
    EXPECT_LE(s["heads_q"] / s["heads_kv"] * s["q_per_seq"], 32) << s.text;
    EXPECT_EQ(s["page_size"] & (s["page_size"] - 1), 0) << s.text;
  }
}
