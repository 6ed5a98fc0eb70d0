// Shared by the fuzz harnesses. A harness calls the parser under test on the input and
// catches exactly the error types that parser documents (they are its way of saying
// "bad input"); anything else (another exception, a sanitizer report, an abort, a broken
// invariant through require()) is a finding. The same harness runs under libFuzzer
// (clang, the fuzz preset) and through replay_main.cpp in every build's CTest, which
// replays the committed corpus and regression inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tilesim::fuzz {

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// An invariant the parser promises for accepted input.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace tilesim::fuzz
