// Building TMA descriptors (CUtensorMap) for row-major bf16 matrices without linking
// libcuda: cuTensorMapEncodeTiled is fetched from the driver through the runtime's
// cudaGetDriverEntryPointByVersion, so binaries stay on the static cudart only.
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"

namespace tilesim::gemm {

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult q{};
    // 12000: the ABI version of cuTensorMapEncodeTiled we call (introduced in CUDA 12.0).
    TILESIM_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000,
                                                        cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || p == nullptr) {
      throw std::runtime_error("cuTensorMapEncodeTiled not found in the CUDA driver");
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

// Map of a row-major rows x cols bf16 matrix, box = box_rows x box_cols elements,
// 128-byte swizzle (box_cols * 2 bytes must be 128: one swizzle row), zero fill out of bounds.
inline CUtensorMap make_tensor_map_bf16_sw128(const void* base, uint64_t rows, uint64_t cols,
                                              uint32_t box_rows, uint32_t box_cols) {
  constexpr uint64_t kElemBytes = 2;
  constexpr uint32_t kSwizzleRowBytes = 128;
  if (box_cols * kElemBytes != kSwizzleRowBytes) {
    throw std::invalid_argument("tensor map: box inner extent must be 128 bytes for SWIZZLE_128B");
  }
  if ((cols * kElemBytes) % 16 != 0) {
    // TMA needs every row stride to be a multiple of 16 bytes.
    throw std::invalid_argument("tensor map: row length " + std::to_string(cols) +
                                " bf16 is not a multiple of 8 elements (16 bytes)");
  }
  if (reinterpret_cast<uintptr_t>(base) % 16 != 0) {
    throw std::invalid_argument("tensor map: base address not 16-byte aligned");
  }
  CUtensorMap map{};
  const cuuint64_t dims[2] = {cols, rows};
  const cuuint64_t strides[1] = {cols * kElemBytes};
  const cuuint32_t box[2] = {box_cols, box_rows};
  const cuuint32_t elem_strides[2] = {1, 1};
  CUresult r = tensor_map_encoder()(
      &map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(base), dims, strides, box,
      elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    throw std::runtime_error("cuTensorMapEncodeTiled failed with CUresult " + std::to_string(r) +
                             " (rows " + std::to_string(rows) + ", cols " + std::to_string(cols) +
                             ", box " + std::to_string(box_rows) + "x" + std::to_string(box_cols) +
                             ")");
  }
  return map;
}

}  // namespace tilesim::gemm
