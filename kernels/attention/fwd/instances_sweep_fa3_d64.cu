// Sweep points (TILESIM_ALL_KERNELS=ON): FA3 head dim 64, where the per-block MMA and
// MUFU cycle counts are equal on Hopper, so exp2 emulation can pay.
#include "instance_macros.cuh"

TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 25, 0);
TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 50, 0);
TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 100, 0);
TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 0, 8);
TILESIM_REGISTER_FA3(64, 128, 2, 1, 1, 25, 8);
TILESIM_REGISTER_FA3(64, 192, 2, 1, 1, 0, 0);
TILESIM_REGISTER_FA3(64, 128, 4, 1, 1, 0, 0);
TILESIM_REGISTER_FA3(64, 128, 2, 0, 1, 0, 0);
