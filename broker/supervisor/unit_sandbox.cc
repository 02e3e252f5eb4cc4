#include "broker/supervisor/unit_sandbox.h"

namespace airlock::broker {

sandbox::SandboxSpec sandboxSpecFor(const policy::UnitPolicy& unit) {
  sandbox::SandboxSpec spec;
  spec.program = unit.workerPath;
  spec.readOnlyPaths = unit.readOnlyPaths;
  spec.env = {"AIRLOCK_UNIT=" + unit.name};
  spec.landlock = unit.landlock == policy::LayerStrictness::BEST_EFFORT
                      ? sandbox::Strictness::BEST_EFFORT
                      : sandbox::Strictness::REQUIRED;
  spec.limits.addressSpaceMiB = unit.limits.memoryMiB;
  spec.limits.openFiles = unit.limits.openFiles;
  spec.limits.threads = unit.limits.threads;
  spec.limits.fileSizeMiB = unit.limits.fileSizeMiB;
  spec.limits.cpuSeconds = unit.limits.cpuSeconds;
  spec.syscalls = unit.syscalls;
  if (unit.seccompProfile != nullptr) spec.profileGrants = unit.seccompProfile->grants;
  spec.onRefusedSyscall = unit.onRefusedSyscall == policy::SyscallRefusal::ERRNO
                              ? sandbox::OnRefusedSyscall::ERRNO
                              : sandbox::OnRefusedSyscall::KILL;
  return spec;
}

}  // namespace airlock::broker
