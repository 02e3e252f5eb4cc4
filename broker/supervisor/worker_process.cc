#include "broker/supervisor/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <capnp/message.h>
#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "broker/supervisor/async_launch.h"
#include "broker/supervisor/fd_refusing_stream.h"
#include "broker/supervisor/syscall_records.h"
#include "broker/supervisor/unit_sandbox.h"
#include "capnp/socket_stream.h"

namespace airlock::broker {

namespace _ {

// The broker sends at most one fd per message (an opened file) and accepts none: see
// FdRefusingStream. This is the broker's *own* limit, which 0.9.2 also applies to sending.
constexpr uint BROKER_MAX_FDS_PER_MESSAGE = 1;

// Bytes of a worker's brokered requests the broker holds unanswered before it stops reading that
// worker's channel (Cap'n Proto's flow limit). Requests wait while their unit is over its
// max_requests_per_second; a worker that pipelines thousands is then held up on its own socket,
// not in the broker's memory. 64 KiB is hundreds of path-sized requests.
constexpr size_t WORKER_REQUEST_FLOW_LIMIT_WORDS = (64 << 10) / sizeof(capnp::word);

// hello, then one call of airlockd's own before the worker is ready: a method name no worker
// can have (empty), answered noSuchMethod without running any of the worker's code. It takes
// both ends of the new channel through the call path once (the worker's lazily bound library
// functions and first-touched pages, the dispatch of Worker.call), so that a fresh worker's
// first real call does not pay for it: under worker_reuse = "never" every call is a first one.
// Nothing in it is the unit's: no capability goes with it, and it is not a call to audit.
kj::Promise<void> warmUp(rpc::Worker::Client& worker) {
  return worker.helloRequest().send().ignoreResult().then([&worker]() {
    auto warm = worker.callRequest();
    warm.setMethod("");
    return warm.send().ignoreResult();
  });
}

// The worker's bootstrap capability, as TwoPartyClient::bootstrap() asks for it.
capnp::Capability::Client bootstrapOf(capnp::RpcSystem<capnp::rpc::twoparty::VatId>& rpc) {
  capnp::word scratch[4];
  memset(scratch, 0, sizeof(scratch));
  capnp::MallocMessageBuilder message(scratch);
  auto vatId = message.getRoot<capnp::rpc::twoparty::VatId>();
  vatId.setSide(capnp::rpc::twoparty::Side::SERVER);
  return rpc.bootstrap(vatId);
}

capnp::RpcSystem<capnp::rpc::twoparty::VatId> flowLimited(
    capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc) {
  rpc.setFlowLimit(WORKER_REQUEST_FLOW_LIMIT_WORDS);
  return rpc;
}

// A worker's output line longer than this is cut: the worker must not make the broker buffer
// without bound.
constexpr size_t MAX_OUTPUT_LINE = 4096;

}  // namespace _

kj::Promise<kj::Own<WorkerProcess>> WorkerProcess::spawn(
    std::shared_ptr<const policy::UnitPolicy> unitPolicy, const FsRoots& roots,
    kj::AsyncIoContext& io, UnitLog& unitLog, audit::AuditLog& audit,
    kj::Own<resources::WorkerLeaf> leaf) {
  const policy::UnitPolicy& unit = *unitPolicy;
  int pair[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "worker channel");
  kj::AutoCloseFd brokerEnd(pair[0]), workerEnd(pair[1]);
  int pipeFds[2];
  KJ_SYSCALL(pipe2(pipeFds, O_CLOEXEC), "worker output pipe");
  kj::AutoCloseFd outputRead(pipeFds[0]), outputWrite(pipeFds[1]);

  sandbox::SandboxSpec spec = sandboxSpecFor(unit);
  sandbox::ChildFds fds;
  fds.channel = workerEnd.get();
  fds.stdoutFd = outputWrite.get();
  fds.stderrFd = outputWrite.get();
  if (leaf.get() != nullptr) leaf->place(spec.cgroup);
  auto launched = launchAsync(io.unixEventPort, spec, fds);
  // workerEnd and outputWrite close here: the child holds the only copies now.
  return launched.then([unitPolicy = kj::mv(unitPolicy), &roots, &io, &unitLog, &audit,
                        spec = kj::mv(spec), brokerEnd = kj::mv(brokerEnd),
                        outputRead = kj::mv(outputRead),
                        leaf = kj::mv(leaf)](sandbox::SandboxedProcess process) mutable {
    const policy::UnitPolicy& unit = *unitPolicy;
    spdlog::info("unit {}: worker pid {} sandboxed: landlock ABI {}, rlimits as {} MiB, {} files, "
                 "{} threads, file size {} MiB, cpu {}", unit.name, process.pid(),
                 process.landlockAbi(), spec.limits.addressSpaceMiB, spec.limits.openFiles,
                 spec.limits.threads, spec.limits.fileSizeMiB,
                 spec.limits.cpuSeconds == 0 ? std::string("unlimited")
                                             : std::to_string(spec.limits.cpuSeconds) + " s");
    auto serving = kj::refcounted<ServingCalls>();
    kj::Maybe<kj::Own<syscalls::SyscallBroker>> syscallBroker;
    if (unit.brokerSyscalls) {
      auto broker = kj::heap<syscalls::SyscallBroker>(
          unitPolicy, roots, audit, syscalls::SandboxView::of(spec), process.pid(), "");
      broker->tagWith(kj::addRef(*serving));
      syscallBroker = kj::mv(broker);
    }
    return kj::heap<WorkerProcess>(unit, io, kj::mv(process), kj::mv(brokerEnd),
                                   kj::mv(outputRead), unitLog, audit, kj::mv(syscallBroker),
                                   kj::mv(serving), kj::mv(leaf));
  });
}

WorkerProcess::WorkerProcess(const policy::UnitPolicy& unit, kj::AsyncIoContext& io,
                             sandbox::SandboxedProcess process, kj::AutoCloseFd channel,
                             kj::AutoCloseFd output, UnitLog& unitLog,
                             audit::AuditLog& audit,
                             kj::Maybe<kj::Own<syscalls::SyscallBroker>> syscallBroker,
                             kj::Own<ServingCalls> serving,
                             kj::Own<resources::WorkerLeaf> leaf)
    : unitName_(unit.name),
      unitLog_(unitLog),
      serving_(kj::mv(serving)),
      syscallBroker_(kj::mv(syscallBroker)),
      leaf_(kj::mv(leaf)),
      process_(kj::mv(process)),
      channel_(kj::heap<FdRefusingStream>(
          rpc::wrapSocket(io, kj::mv(channel), rpc::Fds::REFUSED),  // not kj's: see its header
          "unit " + unitName_ + " worker pid " + std::to_string(process_.pid()))),
      audit_(audit),
      bootstrap_(audit, unitName_, process_.pid()),
      network_(*channel_, _::BROKER_MAX_FDS_PER_MESSAGE, capnp::rpc::twoparty::Side::CLIENT),
      rpc_(_::flowLimited(capnp::makeRpcServer(network_, bootstrap_))),
      worker_(_::bootstrapOf(rpc_).castAs<rpc::Worker>()),
      output_(io.lowLevelProvider->wrapInputFd(kj::mv(output),
                                               kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP)),
      exitObserver_(io.unixEventPort, process_.pidfd(), kj::UnixEventPort::FdObserver::OBSERVE_READ),
      seccompObserver_(io.unixEventPort, process_.seccompListenerFd(),
                       kj::UnixEventPort::FdObserver::OBSERVE_READ),
      // Before watchExit: a refusal is recorded, then the process killed, then its exit seen.
      seccompTask_(superviseSeccomp().eagerlyEvaluate([this](kj::Exception&& e) {
        spdlog::error("[{} pid {}] seccomp supervision failed, killing the worker: {}",
                      unitName_, pid(), e.getDescription().cStr());
        process_.kill();
      })),
      exited_(watchExit().eagerlyEvaluate(nullptr).fork()),
      ready_(_::warmUp(worker_).eagerlyEvaluate(nullptr).fork()),
      outputBuffer_(kj::heapArray<char>(_::MAX_OUTPUT_LINE)),
      outputTask_(logOutput().eagerlyEvaluate([this](kj::Exception&& e) {
        spdlog::warn("[{} pid {}] output pipe: {}", unitName_, pid(), e.getDescription().cStr());
      })) {
  // Before the loop first services the listener: the worker's loader is already waiting on it.
  KJ_IF_MAYBE(broker, syscallBroker_) process_.setSyscallHandler(broker->get());
  process_.setLearnedRecorder(
      [this](const sandbox::RefusedSyscall& learned) { return recordLearned(learned); });
}

WorkerProcess::~WorkerProcess() noexcept(false) {}

kj::Promise<sandbox::ExitStatus> WorkerProcess::watchExit() {
  return exitObserver_.whenBecomesReadable().then([this]() -> kj::Promise<sandbox::ExitStatus> {
    auto status = process_.tryReap();
    if (status) {
      exitedStatus_ = true;
      // Its leaf holds only this worker: an OOM kill counted there took it.
      if (leaf_.get() != nullptr) leaf_->explainExit(*status);
      return *status;
    }
    return watchExit();
  });
}

// A refused syscall stops the worker's thread until we read it; serviceSeccomp() records the
// syscall (ExitStatus::refusedSyscall, hence describe() in the log and the worker.exit audit
// record) and kills the process.
kj::Promise<void> WorkerProcess::superviseSeccomp() {
  return seccompObserver_.whenBecomesReadable().then([this]() -> kj::Promise<void> {
    for (const sandbox::RefusedSyscall& first : process_.serviceSeccomp()) recordAnswered(first);
    return superviseSeccomp();
  });
}

// Under on_refused_syscall = "errno": the first refusal of each syscall by this worker, answered
// ENOSYS; the later ones are only counted (the worker.exit record carries the counts), so a
// worker retrying in a loop cannot flood the log. The record names the calls in service.
void WorkerProcess::recordAnswered(const sandbox::RefusedSyscall& refused) {
  audit::AuditRecord record = answeredSyscallRecord({unitName_, pid(), "", ""}, refused);
  tagServing(record);
  spdlog::warn("[{} pid {}] refused syscall {}, {}", unitName_, pid(), refused.describe(),
               record.result);
  if (!audit_.append(record)) {
    spdlog::error("[{} pid {}] cannot record the refused syscall {}", unitName_, pid(),
                  refused.name());
  }
}

// A learning unit's worker is about to run a syscall its groups do not list: its first use by
// this worker is recorded before it runs; later ones are counted in its worker.exit record, so a
// hot syscall cannot flood the log. `airlock policy suggest` turns these into [sandbox] syscalls.
bool WorkerProcess::recordLearned(const sandbox::RefusedSyscall& learned) {
  spdlog::warn("[{} pid {}] learned syscall {}", unitName_, pid(), learned.describe());
  if (audit_.append(learnedSyscallRecord({unitName_, pid(), "", ""}, learned))) return true;
  spdlog::error("[{} pid {}] cannot record the learned syscall {}; killing the worker", unitName_,
                pid(), learned.name());
  return false;
}

kj::Promise<void> WorkerProcess::logOutput() {
  return output_->tryRead(outputBuffer_.begin(), 1, outputBuffer_.size())
      .then([this](size_t n) -> kj::Promise<void> {
        if (n == 0) {
          if (!pendingOutput_.empty()) logLine(pendingOutput_);
          return kj::READY_NOW;
        }
        pendingOutput_.append(outputBuffer_.begin(), n);
        size_t start = 0, newline;
        while ((newline = pendingOutput_.find('\n', start)) != std::string::npos) {
          logLine(std::string_view(pendingOutput_).substr(start, newline - start));
          start = newline + 1;
        }
        pendingOutput_.erase(0, start);
        if (pendingOutput_.size() >= _::MAX_OUTPUT_LINE) {
          logLine(pendingOutput_ + " [cut]");
          pendingOutput_.clear();
        }
        return logOutput();
      });
}

void WorkerProcess::logLine(std::string_view line) {
  unitLog_.write(pid(), rpc::LogLevel::INFO, line);
}

}  // namespace airlock::broker
