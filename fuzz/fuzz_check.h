#pragma once
// The fuzzers' invariant check. A broken invariant must stop the run as a crash, so that libFuzzer
// saves the input as a reproducer; an exception could be swallowed by the code under test.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace airlock::fuzz {

inline void fuzzCheck(bool holds, const char* invariant, const std::string& detail) {
  if (holds) return;
  std::fprintf(stderr, "\nfuzz invariant broken: %s\n%s\n", invariant, detail.c_str());
  std::abort();
}

}  // namespace airlock::fuzz
