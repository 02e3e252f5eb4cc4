#pragma once
// One running, sandboxed worker as the broker sees it: its process (owned via pidfd), its RPC
// channel, its stderr, and the promise of its exit. Broker-side, event-loop thread only.

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>

#include <airlock/capnp/worker.capnp.h>

#include <string>
#include <string_view>

#include "broker/caps/fs_roots.h"
#include "broker/caps/held_fds.h"
#include "broker/caps/log.h"
#include "broker/policy/model/policy.h"
#include "broker/resources/resource_groups.h"
#include "broker/supervisor/refused_bootstrap.h"
#include "broker/caps/serving_calls.h"
#include "broker/syscalls/syscall_broker.h"
#include "sandbox/launcher.h"

namespace airlock::broker {

class WorkerProcess {
 public:
  // Starts `unit`'s worker in a fresh sandbox with a socketpair as its only channel and a pipe
  // for its stdout/stderr. Each output line goes to `unitLog` (borrowed; main() keeps every
  // unit's for as long as airlockd runs) as a Log capability line does: escaped, so a worker
  // cannot forge broker log lines, and within the unit's rate, so it cannot flood them. Throws
  // (from the sandbox launcher) if the sandbox cannot be started; the promise rejects if the
  // child's setup fails, and resolves once it has exec'd. The event loop is not held while the
  // child sets up (async_launch.h); dropping the promise kills a child still setting up.
  // `audit` (borrowed likewise) records a worker that asks for the broker's bootstrap
  // (refused_bootstrap.h). With [sandbox] broker_syscalls, the worker's own file syscalls are
  // decided by `unit`'s rules and done beneath `roots` (which belongs to the policy set `unit`
  // keeps alive), on this event loop, as they arrive (broker/syscalls/).
  // With a `leaf` (a cgroup of its own beneath the unit's group, made by the pool, ahead of the
  // start where it can: resources/resource_groups.h), the worker runs in it from before its
  // first instruction, and the worker keeps it till it is reaped; null: no cgroup.
  static kj::Promise<kj::Own<WorkerProcess>> spawn(
      std::shared_ptr<const policy::UnitPolicy> unit, const FsRoots& roots,
      kj::AsyncIoContext& io, UnitLog& unitLog, audit::AuditLog& audit,
      kj::Own<resources::WorkerLeaf> leaf = kj::Own<resources::WorkerLeaf>());

  WorkerProcess(const policy::UnitPolicy& unit, kj::AsyncIoContext& io,
                sandbox::SandboxedProcess process, kj::AutoCloseFd channel,
                kj::AutoCloseFd output, UnitLog& unitLog, audit::AuditLog& audit,
                kj::Maybe<kj::Own<syscalls::SyscallBroker>> syscallBroker,
                kj::Own<ServingCalls> serving,
                kj::Own<resources::WorkerLeaf> leaf = kj::Own<resources::WorkerLeaf>());
  ~WorkerProcess() noexcept(false);

  pid_t pid() const { return process_.pid(); }
  int landlockAbi() const { return process_.landlockAbi(); }  // 0: running without Landlock
  rpc::Worker::Client& worker() { return worker_; }
  // The descriptors this worker holds through File capabilities (broker/caps/held_fds.h).
  kj::Own<HeldFds> heldFds() { return kj::addRef(*heldFds_); }

  kj::Maybe<kj::Own<resources::WorkerLeaf>> leaf() {
    if (leaf_.get() == nullptr) return nullptr;
    return kj::addRef(*leaf_);
  }
  // The worker's own cgroup, for the CPU time a call costs; null when it runs without one.

  kj::Promise<void> whenReady() { return ready_.addBranch(); }
  // Resolves once the worker has answered `hello`; rejects if it dies first.

  kj::Promise<sandbox::ExitStatus> whenExited() { return exited_.addBranch(); }
  // Resolves with the exit status once the process has been reaped.

  // The calls this worker is serving: dispatch begins each (calls/dispatch.cc); the worker's own
  // records (brokered syscalls, refused syscalls, its exit) name them through tagServing().
  ServingCalls& serving() { return *serving_; }
  void tagServing(audit::AuditRecord& record) const { serving_->tag(record); }

  void kill() {
    serving_->freeze();  // its exit names the calls it was serving when airlockd killed it
    process_.kill();
  }
  // SIGKILLs and reaps now, for a pool that is going away and will not watch the exit. Blocks
  // only briefly: SIGKILL cannot be caught.
  sandbox::ExitStatus stop() {
    kill();
    return process_.wait();
  }
  bool exited() const { return exitedStatus_; }  // the exit has been observed and audited

 private:
  kj::Promise<void> logOutput();
  void logLine(std::string_view line);
  kj::Promise<sandbox::ExitStatus> watchExit();
  kj::Promise<void> superviseSeccomp();
  void recordAnswered(const sandbox::RefusedSyscall& refused);
  bool recordLearned(const sandbox::RefusedSyscall& learned);  // false: the log refused it
  const std::string unitName_;  // a copy: a policy reload may free the UnitPolicy it came from
  UnitLog& unitLog_;
  kj::Own<HeldFds> heldFds_ = kj::refcounted<HeldFds>();
  kj::Own<ServingCalls> serving_;
  kj::Maybe<kj::Own<syscalls::SyscallBroker>> syscallBroker_;  // before process_, which uses it
  kj::Own<resources::WorkerLeaf> leaf_;  // before process_: removed once the worker is reaped
  sandbox::SandboxedProcess process_;
  kj::Own<kj::AsyncCapabilityStream> channel_;
  audit::AuditLog& audit_;      // borrowed; main() keeps it for as long as airlockd runs
  RefusedBootstrap bootstrap_;  // before rpc_, which serves it
  capnp::TwoPartyVatNetwork network_;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc_;
  rpc::Worker::Client worker_;
  kj::Own<kj::AsyncInputStream> output_;
  kj::UnixEventPort::FdObserver exitObserver_;
  kj::UnixEventPort::FdObserver seccompObserver_;
  kj::Promise<void> seccompTask_;
  kj::ForkedPromise<sandbox::ExitStatus> exited_;
  kj::ForkedPromise<void> ready_;
  bool exitedStatus_ = false;
  kj::Array<char> outputBuffer_;
  std::string pendingOutput_;
  kj::Promise<void> outputTask_;
};

}  // namespace airlock::broker
