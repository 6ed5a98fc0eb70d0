// Sweep points (TILESIM_ALL_KERNELS=ON): FA3 with a persistent grid (one CTA per SM looping
// over tiles), against the same tiles with one CTA per tile.
#include "instance_macros.cuh"

TILESIM_REGISTER_FA3P(128, 128, 2, 1, 1, 0, 0, 1);
TILESIM_REGISTER_FA3P(128, 128, 2, 0, 1, 0, 0, 1);
TILESIM_REGISTER_FA3P(128, 176, 2, 1, 1, 0, 0, 1);
TILESIM_REGISTER_FA3P(64, 128, 2, 1, 1, 0, 0, 1);
