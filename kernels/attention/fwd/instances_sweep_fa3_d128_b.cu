// Sweep points (TILESIM_ALL_KERNELS=ON): FA3 head dim 128, FlashAttention-4 softmax tricks.
#include "instance_macros.cuh"

TILESIM_REGISTER_FA3(128, 128, 2, 1, 1, 25, 0);  // 1/4 of exp2 on the FMA pipe
TILESIM_REGISTER_FA3(128, 128, 2, 1, 1, 50, 0);  // 1/2 of exp2 on the FMA pipe
TILESIM_REGISTER_FA3(128, 128, 2, 1, 1, 0, 8);   // conditional rescale, threshold 2^8
TILESIM_REGISTER_FA3(128, 128, 2, 1, 1, 25, 8);  // both
