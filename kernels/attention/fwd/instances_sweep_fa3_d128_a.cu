// Sweep points (TILESIM_ALL_KERNELS=ON): FA3 head dim 128, schedule structure and tiles.
#include "instance_macros.cuh"

TILESIM_REGISTER_FA3(128, 128, 2, 0, 1, 0, 0);  // no ping-pong
TILESIM_REGISTER_FA3(128, 128, 2, 1, 0, 0, 0);  // no intra-warpgroup overlap
TILESIM_REGISTER_FA3(128, 128, 3, 1, 1, 0, 0);  // 3 stages
TILESIM_REGISTER_FA3(128, 176, 2, 1, 1, 0, 0);  // FA3's own non-causal hdim-128 tile
TILESIM_REGISTER_FA3(128, 64, 4, 1, 1, 0, 0);   // narrow KV tile, deep ring
