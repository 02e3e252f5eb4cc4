#pragma once
// Start-up cost: from "start the worker" to "its first call answered", three ways, same binary.

#include <kj/async-io.h>

#include <functional>
#include <memory>
#include <string>

#include "bench/samples.h"
#include "sandbox/sandbox_spec.h"

namespace airlock::bench {

enum class Launcher { AIRLOCK_SANDBOX, BWRAP, FORK_EXEC };
const char* launcherName(Launcher launcher);

// Called before each AIRLOCK_SANDBOX start, inside the timed span, to place the process (e.g. in
// a cgroup leaf made for it). What it returns is kept until the worker has been killed and
// reaped, then dropped (so a leaf is removed after its process is gone, outside the timed span).
using PlaceWorker = std::function<std::shared_ptr<void>(sandbox::SandboxSpec&)>;

// Starts `worker` `count` times with `launcher`, with a socketpair end as fd 3, and times each
// until its `hello` is answered; the worker is then killed. Returns empty samples if the launcher
// is unavailable (bwrap not installed). `afterStart`, if any, runs after each answered `hello`,
// outside the timed span, while the worker still runs (as airlockd's pool makes the next
// worker's cgroup leaf while one starts).
Samples measureSpawnToFirstCall(Launcher launcher, const std::string& worker, int count,
                                kj::AsyncIoContext& io, const PlaceWorker& place = nullptr,
                                const std::function<void()>& afterStart = nullptr);

}  // namespace airlock::bench
