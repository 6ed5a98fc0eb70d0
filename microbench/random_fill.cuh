// Random device data for the benchmarks, made on the GPU (buffers of gigabytes would take
// seconds to upload). Operands are never zeros: tensor cores and memory run faster on
// zeros than on real data (see shared/REFERENCES.md, "Pitfalls").
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtypes.cuh"

namespace tilesim::microbench {

// Fills n 32-bit words with hashed random bits.
void fill_random_words(std::uint32_t* p, std::size_t n, std::uint32_t seed);
// Fills `bytes` with values of type t, uniform in [-1, 1) (fp8: saturated to finite).
void fill_random_operands(void* p, std::size_t bytes, DType t, std::uint32_t seed);
// Device buffer of random operands of type t, at least `bytes` long (cached per type).
const void* random_operands(DType t, std::size_t bytes);

}  // namespace tilesim::microbench
