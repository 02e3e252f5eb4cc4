#pragma once
// The command line that runs a test's Python script with the in-tree `airlock` package: no
// AIRLOCK_LIBRARY, so the package finds libairlock in the build tree beside BUILD/python; and,
// in the sanitizer build, ASan's runtime preloaded, since python3 is not built with it.

#include <string>
#include <vector>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

// "env ... python3 -B"; append the script and its arguments.
inline std::vector<std::string> pythonCommand() {
  std::vector<std::string> command = {"/usr/bin/env", "-u", "AIRLOCK_LIBRARY",
                                      "PYTHONPATH=" + binDir() + "/../python"};
#ifdef AIRLOCK_ASAN_RUNTIME
  // libstdc++ right after the runtime: ASan resolves __cxa_throw when it starts, and python3
  // itself does not load libstdc++ before libairlock.
  command.insert(command.end(), {std::string("LD_PRELOAD=") + AIRLOCK_ASAN_RUNTIME +
                                     " libstdc++.so.6",
                                 "ASAN_OPTIONS=detect_leaks=0"});  // python3's own, not ours
#endif
  command.insert(command.end(), {"python3", "-B"});
  return command;
}

}  // namespace airlock::testing
