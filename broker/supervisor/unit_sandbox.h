#pragma once
// The sandbox a unit's worker runs in, derived from its policy in one place: airlockd spawns
// workers with it and `airlock sandbox run --policy` runs a program in it, so what the security
// team tries is what the worker gets.

#include "broker/policy/model/policy.h"
#include "sandbox/launcher.h"

namespace airlock::broker {

// `unit`'s worker program with its sandbox: read-only paths, environment (AIRLOCK_UNIT), Landlock
// strictness and [limits] as rlimits.
sandbox::SandboxSpec sandboxSpecFor(const policy::UnitPolicy& unit);
// With [sandbox] broker_syscalls, brokerSyscalls() as well.

// Makes `spec` send the program's own file syscalls to the broker (broker/syscalls/) and show
// the roots of `unit`'s fs.* rules as empty directories: what `airlock run` always does.
void brokerSyscalls(const policy::UnitPolicy& unit, sandbox::SandboxSpec& spec);

}  // namespace airlock::broker
