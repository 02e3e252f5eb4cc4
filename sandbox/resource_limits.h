#pragma once
// rlimits for the sandbox child (SandboxSpec::limits). cgroup limits are not applied yet.

#include "sandbox/sandbox_spec.h"
#include "sandbox/setup_error.h"

namespace airlock::sandbox {

void validateResourceLimits(const ResourceLimits& limits);
// Broker side, before clone3: throws kj::Exception naming the field if a limit that must be
// positive is 0 (a worker with no address space or files could not even start).

void applyResourceLimits(const ResourceLimits& limits, const SetupReporter& reporter);
// Child side: sets soft == hard for RLIMIT_AS, NOFILE, NPROC, FSIZE, CPU, and RLIMIT_CORE to 0,
// each capped at the launcher's own hard limit (raising one needs CAP_SYS_RESOURCE, which even
// root lacks here). Runs after every step that allocates (the launcher may be a sanitizer build with a huge
// address space) and before seccomp. Fails through `reporter`.

}  // namespace airlock::sandbox
