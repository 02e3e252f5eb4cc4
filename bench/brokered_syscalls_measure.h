#pragma once
// Transparent brokering's cost (docs/PERFORMANCE.md): a worker's own open(2) and stat(2) when the
// unit has [sandbox] broker_syscalls, against the same call outside the sandbox and against the
// SDK's fs.open through the same airlockd build, and a real workload under `airlock run`
// against the same command unsandboxed; all in one run.

#include <kj/async-io.h>

#include <string>
#include <vector>

#include "bench/samples.h"

namespace airlock::bench {

std::vector<Figure> brokeredSyscallFigures(const std::string& binDir, kj::AsyncIoContext& io,
                                           int iterations);

}  // namespace airlock::bench
