#pragma once
// Transparent brokering: a sandboxed program's own open/stat/access/readlink/mkdir/unlink/rename/
// symlink/chmod/utimes/truncate calls (link and chown: refused), made by libc or by raw syscall
// from any thread, reach the broker as seccomp user notifications (sandbox/launcher.h
// SyscallHandler). Each is decided by the unit's fs.* rules, recorded, performed beneath the
// rule's root and answered, exactly like the SDK's fs.* requests
// (broker/caps/fs.h): same decide functions, same openat2 beneath the root, same events, plus
// args.via = "syscall". What the sandbox itself shows (the program, /usr, libraries) is left to
// the kernel, inside the mount namespace and Landlock, so start-up does not wait on the broker.
//
// The one table of which syscalls are brokered and how is in brokered_syscalls.cc.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/caps/fs_roots.h"
#include "broker/policy/model/policy.h"
#include "broker/caps/serving_calls.h"
#include "broker/syscalls/worker_paths.h"
#include "sandbox/launcher.h"

namespace airlock::broker::syscalls {

// The syscalls `unit`'s filter sends to the broker (for SandboxSpec::brokeredSyscalls): the
// file calls always, socket(2) only when its rules allow some connect.
std::vector<sandbox::BrokeredSyscall> brokeredSyscallSpecs(const policy::UnitPolicy& unit);

class SyscallBroker final : public sandbox::SyscallHandler {
 public:
  // `unit` and `roots` decide and act; `view` is what the sandbox shows (from the same spec the
  // process was launched with); records go to `audit` with `caller` and `callId` (both may be
  // empty: a worker's syscalls belong to no one call).
  SyscallBroker(std::shared_ptr<const policy::UnitPolicy> unit, const FsRoots& roots,
                audit::AuditLog& audit, SandboxView view, pid_t workerPid, std::string caller,
                std::string callId = "");
  ~SyscallBroker() noexcept override;  // SyscallHandler's is noexcept; a kj::Own's is not

  void handle(int listenerFd, int pidfd, const sandbox::RefusedSyscall& call) override;

  // A long-lived worker's syscalls belong to whichever call it is serving when it makes them:
  // its records name that call (ServingCalls::tag) when no `callId` was given.
  void tagWith(kj::Own<ServingCalls> serving) { serving_ = kj::mv(serving); }

  uint64_t brokered() const { return brokered_; }  // calls decided by the broker so far
  // Calls that reached the broker only to be left to the kernel (a path in the sandbox's own
  // view): what native-first reads (sandbox/native_first.h) spare a program.
  uint64_t leftToKernel() const { return leftToKernel_; }

 private:
  friend class BrokeredCall;
  std::shared_ptr<const policy::UnitPolicy> unit_;
  const FsRoots& roots_;
  audit::AuditLog& audit_;
  SandboxView view_;
  std::vector<std::string> brokeredRoots_;
  pid_t workerPid_;
  std::string caller_;
  std::string callId_;  // the call a program unit's run serves; empty for a long-lived worker
  kj::Maybe<kj::Own<ServingCalls>> serving_;  // a long-lived worker's calls in service
  uint64_t brokered_ = 0;
  uint64_t leftToKernel_ = 0;
};

}  // namespace airlock::broker::syscalls
