#pragma once
// Start-up cost: from "start the worker" to "its first call answered", three ways, same binary.

#include <kj/async-io.h>

#include <string>

#include "bench/samples.h"

namespace airlock::bench {

enum class Launcher { AIRLOCK_SANDBOX, BWRAP, FORK_EXEC };
const char* launcherName(Launcher launcher);

// Starts `worker` `count` times with `launcher`, with a socketpair end as fd 3, and times each
// until its `hello` is answered; the worker is then killed. Returns empty samples if the launcher
// is unavailable (bwrap not installed).
Samples measureSpawnToFirstCall(Launcher launcher, const std::string& worker, int count,
                                kj::AsyncIoContext& io);

}  // namespace airlock::bench
