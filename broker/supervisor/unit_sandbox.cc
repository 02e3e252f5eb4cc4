#include "broker/supervisor/unit_sandbox.h"

#include "broker/syscalls/syscall_broker.h"
#include "broker/syscalls/worker_paths.h"
#include "sandbox/native_first.h"
#include "sandbox/python_worker.h"

namespace airlock::broker {

void brokerSyscalls(const policy::UnitPolicy& unit, sandbox::SandboxSpec& spec) {
  spec.brokeredSyscalls = syscalls::brokeredSyscallSpecs(unit);
  spec.emptyDirectories = syscalls::brokeredRoots(unit);
  sandbox::enableNativeFirst(spec, sandbox::nativeFirstLibrary(), spec.emptyDirectories);
}

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
  // A learning unit's workers run the syscalls its groups do not list, and name them.
  spec.learnSyscalls = unit.learning();
  if (!unit.pythonScript.empty()) {
    sandbox::runAsPythonWorker(spec, unit.pythonScript, sandbox::pythonWorkerSdk());
  }
  if (unit.brokerSyscalls) brokerSyscalls(unit, spec);
  return spec;
}

}  // namespace airlock::broker
