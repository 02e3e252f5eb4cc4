#pragma once
// A unit whose worker is a Python script ([unit] python_worker, docs/policy.md): python3 runs the
// script in the same sandbox as any worker, with the airlock package (sdk/python/airlock) and
// the worker C ABI library it loads with ctypes made visible. The script serves calls through
// the C ABI's pull form (airlock_worker_next), so Python is never called back from C: a ctypes
// callback needs writable executable memory, which the sandbox does not grant.

#include <string>

#include "sandbox/sandbox_spec.h"

namespace airlock::sandbox {

// The interpreter a Python worker runs on: Debian's python3 and its standard library, all
// beneath /usr, which every sandbox shows (the library directories executable, for lib-dynload's
// extension modules and ctypes' libffi).
inline constexpr const char* PYTHON_INTERPRETER = "/usr/bin/python3";

// What a Python worker needs of airlock's own files, found beside the running binary as
// installed or built (lib/airlock/ and the Python package directory); empty where missing.
struct PythonWorkerSdk {
  std::string package;  // canonical directory of the `airlock` package
  std::string library;  // canonical path of libairlock-python-worker.so
};
PythonWorkerSdk pythonWorkerSdk();

void runAsPythonWorker(SandboxSpec& spec, const std::string& script, const PythonWorkerSdk& sdk);
// Makes `spec` run `script` (an absolute host path, bound read-only) with PYTHON_INTERPRETER:
// binds the package read-only and the library executable (spec.libraryPaths), names both in the
// environment, and allows the syscall groups the interpreter needs at start-up. Throws
// kj::Exception naming the missing file if `sdk` lacks either.

}  // namespace airlock::sandbox
