#include "sandbox/python_worker.h"

#include <kj/debug.h>

#include <filesystem>

#include "sandbox/beside_own_binary.h"

namespace airlock::sandbox {

namespace _ {

// The syscall groups (syscall_sets.h) python3 needs before it runs a line of the script.
constexpr const char* PYTHON_GROUPS[] = {
    "system-info",          // sysinfo at start-up (the allocator sizes itself by it)
    "nss-without-daemons",  // site.py's user lookup tries nscd's socket: EPERM, it reads files
};

}  // namespace _

PythonWorkerSdk pythonWorkerSdk() {
  return {besideOwnBinary(AIRLOCK_PYTHON_PACKAGE_FROM_BINDIR),
          besideOwnBinary(AIRLOCK_PYTHON_WORKER_LIBRARY_FROM_BINDIR)};
}

void runAsPythonWorker(SandboxSpec& spec, const std::string& script, const PythonWorkerSdk& sdk) {
  KJ_REQUIRE(!sdk.package.empty(), "a Python worker needs the airlock Python package beside "
             "airlockd (" AIRLOCK_PYTHON_PACKAGE_FROM_BINDIR " from its directory); install "
             "python3-airlock", script);
  KJ_REQUIRE(!sdk.library.empty(), "a Python worker needs libairlock-python-worker.so beside "
             "airlockd (" AIRLOCK_PYTHON_WORKER_LIBRARY_FROM_BINDIR " from its directory)",
             script);
  spec.program = PYTHON_INTERPRETER;
  // -s: no user site directory (there is no home); -B: no .pyc written to a read-only root.
  spec.args = {"-s", "-B", script};
  spec.readOnlyPaths.push_back(script);
  spec.readOnlyPaths.push_back(sdk.package);
  spec.libraryPaths.push_back(sdk.library);
  spec.env.push_back("PYTHONPATH=" + std::filesystem::path(sdk.package).parent_path().string());
  spec.env.push_back("AIRLOCK_WORKER_LIBRARY=" + sdk.library);
  for (const char* group : _::PYTHON_GROUPS) spec.syscalls.push_back(group);
}

}  // namespace airlock::sandbox
