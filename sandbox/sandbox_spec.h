#pragma once
// What a sandboxed process gets: the one description the launcher, `airlock sandbox run` and the
// broker's supervisor share.

#include <string>
#include <vector>

namespace airlock::sandbox {

struct SandboxSpec {
  std::string program;
  // Absolute host path of the executable. It is bind-mounted read-only at the same path inside
  // the new root and is the only file the process may execute.

  std::vector<std::string> args;
  // argv[1..]; argv[0] is `program`.

  std::vector<std::string> env;
  // The entire environment, as "KEY=VALUE". Nothing is inherited from the launcher.

  std::vector<std::string> readOnlyPaths;
  // Extra absolute host paths made visible read-only at the same path (files or directories).
  // The shared-library directories the program needs are added by the launcher itself.

  std::string hostname = "airlock";
};

}  // namespace airlock::sandbox
