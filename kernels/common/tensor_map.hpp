// TMA descriptors (CUtensorMap): bf16 and e4m3 tensors in the 128-byte swizzle, fp32
// tensors without swizzle (scale factors), without linking
// libcuda: cuTensorMapEncodeTiled is fetched from the driver through the runtime's
// cudaGetDriverEntryPointByVersion, so binaries stay on the static cudart only.
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"

namespace tilesim::cuda {

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult q{};
    // 12000: the ABI version of cuTensorMapEncodeTiled we call (introduced in CUDA 12.0).
    TILESIM_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000,
                                                        cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || p == nullptr) {
      throw CudaError("cuTensorMapEncodeTiled not found in the CUDA driver");
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

// Map of a bf16 tensor of `rank` dimensions (innermost first) with byte strides of the
// outer dimensions (strides[i] is the stride of dims[i + 1]), boxes of `box` elements,
// 128-byte swizzle, 256-byte L2 promotion, zero fill out of bounds. The box's inner extent
// must be one swizzle row (64 bf16); TMA needs 16-byte aligned base and strides.
// Map of a tensor of `rank` dimensions (innermost first) with byte strides of the outer
// dimensions (strides[i] is the stride of dims[i + 1]), boxes of `box` elements, 256-byte
// L2 promotion, zero fill out of bounds. With SWIZZLE_128B the box's inner extent must be
// one swizzle row (128 bytes); without swizzle it must be a multiple of 16 bytes. TMA needs
// a 16-byte aligned base and 16-byte multiple strides.
inline CUtensorMap make_tensor_map(const void* base, CUtensorMapDataType type,
                                   std::uint64_t elem_bytes, std::uint32_t rank,
                                   const cuuint64_t* dims, const cuuint64_t* strides,
                                   const cuuint32_t* box, CUtensorMapSwizzle swizzle) {
  constexpr std::uint32_t kSwizzleRowBytes = 128;
  constexpr std::uint32_t kTmaGranuleBytes = 16;
  constexpr std::uint32_t kMaxRank = 5;
  // Errors are built with a stream: GCC 12 warns falsely (-Wrestrict) on "literal" + string.
  // `error` only names the exception type to throw.
  auto fail = [&](auto error, const std::string& what) {
    std::ostringstream msg;
    msg << "tensor map ";
    for (std::uint32_t i = 0; i < rank && i < kMaxRank; ++i) msg << (i ? "x" : "") << dims[i];
    msg << " box ";
    for (std::uint32_t i = 0; i < rank && i < kMaxRank; ++i) msg << (i ? "x" : "") << box[i];
    msg << " (innermost first): " << what;
    throw decltype(error)(msg.str());
  };
  using Invalid = std::invalid_argument;
  if (rank < 1 || rank > kMaxRank) fail(Invalid(""), "rank not in 1..5");
  if (swizzle == CU_TENSOR_MAP_SWIZZLE_128B && box[0] * elem_bytes != kSwizzleRowBytes)
    fail(Invalid(""), "box inner extent must be 128 bytes for SWIZZLE_128B");
  if (swizzle == CU_TENSOR_MAP_SWIZZLE_NONE && (box[0] * elem_bytes) % kTmaGranuleBytes != 0)
    fail(Invalid(""), "box inner extent must be a multiple of 16 bytes");
  for (std::uint32_t i = 0; i + 1 < rank; ++i) {
    if (strides[i] % kTmaGranuleBytes != 0) {
      std::string what = "stride of dimension ";
      what += std::to_string(i + 1);
      what += " is not a multiple of 16 bytes";
      fail(Invalid(""), what);
    }
  }
  if (reinterpret_cast<std::uintptr_t>(base) % kTmaGranuleBytes != 0)
    fail(Invalid(""), "base address not 16-byte aligned");
  CUtensorMap map{};
  const cuuint32_t elem_strides[kMaxRank] = {1, 1, 1, 1, 1};
  const CUresult r = tensor_map_encoder()(
      &map, type, rank, const_cast<void*>(base), dims, strides, box, elem_strides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    std::string what = "cuTensorMapEncodeTiled failed with CUresult ";
    what += std::to_string(r);
    fail(CudaError(""), what);
  }
  return map;
}

// bf16 tensor in the 128-byte swizzle (box inner extent = 64 bf16).
inline CUtensorMap make_tensor_map_bf16_sw128(const void* base, std::uint32_t rank,
                                              const cuuint64_t* dims, const cuuint64_t* strides,
                                              const cuuint32_t* box) {
  return make_tensor_map(base, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, rank, dims, strides, box,
                         CU_TENSOR_MAP_SWIZZLE_128B);
}

// Row-major rows x cols bf16 matrix, boxes of box_rows x box_cols (box_cols = 64).
inline CUtensorMap make_tensor_map_bf16_sw128(const void* base, std::uint64_t rows,
                                              std::uint64_t cols, std::uint32_t box_rows,
                                              std::uint32_t box_cols) {
  const cuuint64_t dims[2] = {cols, rows};
  const cuuint64_t strides[1] = {cols * 2};
  const cuuint32_t box[2] = {box_cols, box_rows};
  return make_tensor_map_bf16_sw128(base, 2, dims, strides, box);
}

// Row-major rows x cols e4m3 (1-byte) matrix in the 128-byte swizzle, boxes of
// box_rows x box_cols (box_cols = 128: one swizzle row). TMA moves bytes, so the data type
// is UINT8; the tensor cores read the bytes as e4m3.
inline CUtensorMap make_tensor_map_e4m3_sw128(const void* base, std::uint64_t rows,
                                              std::uint64_t cols, std::uint32_t box_rows,
                                              std::uint32_t box_cols) {
  const cuuint64_t dims[2] = {cols, rows};
  const cuuint64_t strides[1] = {cols};
  const cuuint32_t box[2] = {box_cols, box_rows};
  return make_tensor_map(base, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, 2, dims, strides, box,
                         CU_TENSOR_MAP_SWIZZLE_128B);
}

// Row-major rows x cols fp32 matrix with a row stride of `ld` elements, no swizzle
// (e.g. per-row scale factors), boxes of box_rows x box_cols.
inline CUtensorMap make_tensor_map_f32(const void* base, std::uint64_t rows, std::uint64_t cols,
                                       std::uint64_t ld, std::uint32_t box_rows,
                                       std::uint32_t box_cols) {
  const cuuint64_t dims[2] = {cols, rows};
  const cuuint64_t strides[1] = {ld * 4};
  const cuuint32_t box[2] = {box_cols, box_rows};
  return make_tensor_map(base, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 4, 2, dims, strides, box,
                         CU_TENSOR_MAP_SWIZZLE_NONE);
}

}  // namespace tilesim::cuda
