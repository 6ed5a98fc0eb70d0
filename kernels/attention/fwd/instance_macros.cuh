// Helpers that turn one tile configuration into a registered kernel.
#pragma once

#include <string>

#include "fa2_kernel.cuh"
#include "fa3_kernel.cuh"
#include "registry.hpp"

namespace tilesim::attention {

template <class Cfg>
KernelEntry fa3_entry() {
  KernelEntry e;
  e.name = "fa3_d" + std::to_string(Cfg::head_dim) + "_bn" + std::to_string(Cfg::block_n) + "_s" +
           std::to_string(Cfg::stages) + "_pp" + std::to_string(int(Cfg::pingpong)) + "_io" +
           std::to_string(int(Cfg::intra_overlap)) + "_e" + std::to_string(Cfg::exp_emu_percent) +
           "_t" + std::to_string(Cfg::rescale_threshold) + (Cfg::persistent ? "_ps1" : "");
  e.schedule = "attn_fa3";
  e.tile = {{"block_m", Cfg::block_m},
            {"block_n", Cfg::block_n},
            {"stages", Cfg::stages},
            {"consumers", Cfg::consumers},
            {"pingpong", int(Cfg::pingpong)},
            {"intra_overlap", int(Cfg::intra_overlap)},
            {"exp_emu_fraction", Cfg::exp_emu_percent / 100.0},
            {"rescale_threshold", Cfg::rescale_threshold},
            {"persistent", int(Cfg::persistent)}};
  e.head_dim = Cfg::head_dim;
  e.prepare = [](const AttnArgs& a) { return prepare_fa3<Cfg>(a); };
  return e;
}

template <class Cfg>
KernelEntry fa2_entry() {
  KernelEntry e;
  e.name = "fa2_d" + std::to_string(Cfg::head_dim) + "_bm" + std::to_string(Cfg::block_m) + "_bn" +
           std::to_string(Cfg::block_n) + "_s" + std::to_string(Cfg::stages);
  e.schedule = "attn_fa2";
  e.tile = {{"block_m", Cfg::block_m},
            {"block_n", Cfg::block_n},
            {"warps", Cfg::warps},
            {"stages", Cfg::stages}};
  e.head_dim = Cfg::head_dim;
  e.prepare = [](const AttnArgs& a) { return prepare_fa2<Cfg>(a); };
  return e;
}

}  // namespace tilesim::attention

#define TILESIM_ATTN_CAT2(a, b) a##b
#define TILESIM_ATTN_CAT(a, b) TILESIM_ATTN_CAT2(a, b)
// FA3: head_dim, block_n, stages, pingpong, intra_overlap, exp_emu percent, rescale threshold
// (log2)
#define TILESIM_REGISTER_FA3(D, BN, ST, PP, IO, EMU, THR)        \
  static ::tilesim::attention::KernelRegistrar TILESIM_ATTN_CAT( \
      fa3_reg_, __LINE__)(::tilesim::attention::fa3_entry<       \
                          ::tilesim::attention::Fa3Config<D, BN, ST, PP, IO, EMU, THR>>())
// Same with the persistent-grid flag (last argument, 0/1).
#define TILESIM_REGISTER_FA3P(D, BN, ST, PP, IO, EMU, THR, PS)   \
  static ::tilesim::attention::KernelRegistrar TILESIM_ATTN_CAT( \
      fa3_reg_, __LINE__)(::tilesim::attention::fa3_entry<       \
                          ::tilesim::attention::Fa3Config<D, BN, ST, PP, IO, EMU, THR, PS>>())
// FA2: head_dim, block_m, block_n, stages
#define TILESIM_REGISTER_FA2(D, BM, BN, ST)                                          \
  static ::tilesim::attention::KernelRegistrar TILESIM_ATTN_CAT(fa2_reg_, __LINE__)( \
      ::tilesim::attention::fa2_entry<::tilesim::attention::Fa2Config<D, BM, BN, ST>>())
