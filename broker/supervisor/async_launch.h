#pragma once
// Starts a sandbox from airlockd's event loop without holding the loop while the child sets up.
// Only the part before the child's release runs on the loop (the spec's plan, clone3, the cgroup
// placement, the id maps: sandbox::beginLaunch); the child's own setup (root, Landlock, seccomp,
// execve) then runs while the loop serves every unit's calls, and its report is read as the
// setup channel becomes readable. A unit starting workers so no longer stalls another's calls.

#include <kj/async-unix.h>

#include "sandbox/launcher.h"

namespace airlock::broker {

kj::Promise<sandbox::SandboxedProcess> launchAsync(kj::UnixEventPort& port,
                                                   const sandbox::SandboxSpec& spec,
                                                   const sandbox::ChildFds& fds);
// Throws at once what beginLaunch() throws (nothing was started); the promise rejects with the
// child's setup failure (the child reaped), or resolves once execve succeeded, as
// sandbox::launch() returns. Dropping the promise kills and reaps a child still setting up.
// `spec` and `fds` are only used before this returns.
// Several launches may now be in flight at once. A child cloned while another is still setting
// up starts with copies of that one's descriptors (its setup channel among them) until it closes
// every descriptor it was not given (arrangeChildFds, close_range); the earlier launch's EOF can
// so come only once the later child got that far or exited: later, never lost.

}  // namespace airlock::broker
