// Every CUDA runtime and cuBLAS call in tilesim goes through these checks: a failed
// call throws with the call text, file and line, so a runner exits non-zero with a
// message that says what broke instead of timing garbage.
#pragma once

#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>
#include <string>

namespace tilesim::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  std::ostringstream msg;
  msg << file << ":" << line << ": " << call << " failed: " << cudaGetErrorName(status) << " ("
      << cudaGetErrorString(status) << ")";
  throw CudaError(msg.str());
}

// After a kernel launch: catches both launch-configuration errors and (with the
// synchronize) faults raised while the kernel ran.
inline void check_launch(const char* what, const char* file, int line, bool synchronize) {
  check(cudaGetLastError(), what, file, line);
  if (synchronize) check(cudaDeviceSynchronize(), what, file, line);
}

}  // namespace tilesim::cuda

#define TILESIM_CUDA_CHECK(call) ::tilesim::cuda::check((call), #call, __FILE__, __LINE__)
#define TILESIM_CHECK_LAUNCH(what) ::tilesim::cuda::check_launch((what), __FILE__, __LINE__, false)
#define TILESIM_CHECK_LAUNCH_SYNC(what) \
  ::tilesim::cuda::check_launch((what), __FILE__, __LINE__, true)
