#pragma once
// One run of a [unit] program for one Unit.run call: the program in a fresh sandbox, its own file
// syscalls brokered by the unit's rules (broker/syscalls/), its stdin fed from the call, its
// stdout and stderr collected up to a cap, its exit awaited. Broker-side, event-loop thread only.

#include <kj/async-io.h>
#include <kj/async-unix.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/caps/fs_roots.h"
#include "broker/policy/model/policy.h"
#include "broker/resources/resource_groups.h"
#include "broker/syscalls/syscall_broker.h"
#include "sandbox/launcher.h"

namespace airlock::broker {

struct ProgramRequest {
  std::vector<std::string> args;  // after the program's name
  std::string input;              // its whole stdin
  std::string caller;             // tie the run's brokered syscalls to its call record
  std::string callId;
  size_t outputCap = 0;           // bytes kept of stdout and of stderr, each
};

struct ProgramExit {
  pid_t pid = 0;
  sandbox::ExitStatus status;
  std::string out, err;
  bool outputCut = false;
  uint64_t brokeredSyscalls = 0;
  std::string setupFailed;  // non-empty: the sandbox could not be set up, nothing ran; why
  int64_t cpuMicros = -1;   // CPU time of the run's cgroup leaf; -1: it ran without one
};

class ProgramRun {
 public:
  // Starts `unit`'s program. Throws (from the sandbox launcher) if the sandbox cannot be
  // started; the promise rejects if the child's setup fails, without holding the event loop
  // meanwhile (async_launch.h). `roots` belongs to the policy set `unit` keeps alive. With a
  // `leaf` (the unit's [resources], made by its pool), the program runs in it from before its
  // first instruction, alone: an OOM kill there is the run's (ExitStatus::outOfMemory).
  static kj::Promise<kj::Own<ProgramRun>> start(std::shared_ptr<const policy::UnitPolicy> unit,
                                                const FsRoots& roots, kj::AsyncIoContext& io,
                                                audit::AuditLog& audit, ProgramRequest request,
                                                kj::Own<resources::WorkerLeaf> leaf);

  kj::Promise<ProgramExit> whenDone();
  // Resolves once the process has exited and its stdout and stderr are drained. Rejects only on
  // a broker-side failure (the process is then killed).

  void kill() { process_.kill(); }  // past the call's deadline; whenDone() still resolves
  pid_t pid() const { return process_.pid(); }

  ProgramRun(kj::AsyncIoContext& io, sandbox::SandboxedProcess process,
             kj::Own<syscalls::SyscallBroker> broker, kj::AutoCloseFd in, kj::AutoCloseFd out,
             kj::AutoCloseFd err, ProgramRequest request, kj::Own<resources::WorkerLeaf> leaf);

 private:
  kj::Promise<void> feed();
  kj::Promise<void> collect(kj::AsyncInputStream& from, kj::Array<kj::byte>& buffer,
                            std::string& into);
  kj::Promise<void> superviseSeccomp();
  kj::Promise<sandbox::ExitStatus> watchExit();

  kj::Own<syscalls::SyscallBroker> broker_;  // before process_, which calls it
  kj::Own<resources::WorkerLeaf> leaf_;      // before process_: removed once it is reaped
  sandbox::SandboxedProcess process_;
  ProgramRequest request_;
  kj::Own<kj::AsyncOutputStream> in_;
  kj::Own<kj::AsyncInputStream> out_, err_;
  kj::Array<kj::byte> outBuffer_, errBuffer_;
  ProgramExit exit_;
  kj::UnixEventPort::FdObserver exitObserver_;
  kj::UnixEventPort::FdObserver seccompObserver_;
  kj::Promise<void> seccompTask_;
};

}  // namespace airlock::broker
