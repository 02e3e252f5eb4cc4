#include "broker/supervisor/program_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "broker/supervisor/async_launch.h"
#include "broker/supervisor/syscall_records.h"
#include "broker/supervisor/unit_sandbox.h"

namespace airlock::broker {

namespace _ {

constexpr size_t READ_CHUNK = 64 << 10;

struct Pipe {
  kj::AutoCloseFd read, write;
};

Pipe makePipe() {
  int fds[2];
  KJ_SYSCALL(pipe2(fds, O_CLOEXEC), "program pipe");
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

}  // namespace _

kj::Promise<kj::Own<ProgramRun>> ProgramRun::start(std::shared_ptr<const policy::UnitPolicy> unit,
                                                    const FsRoots& roots, kj::AsyncIoContext& io,
                                                    audit::AuditLog& audit,
                                                    ProgramRequest request,
                                                    kj::Own<resources::WorkerLeaf> leaf) {
  sandbox::SandboxSpec spec = sandboxSpecFor(*unit);
  spec.program = unit->programPath;
  spec.args = request.args;
  brokerSyscalls(*unit, spec);
  if (leaf.get() != nullptr) leaf->place(spec.cgroup);
  auto in = _::makePipe(), out = _::makePipe(), err = _::makePipe();
  sandbox::ChildFds fds;
  fds.stdinFd = in.read.get();
  fds.stdoutFd = out.write.get();
  fds.stderrFd = err.write.get();
  auto launched = launchAsync(io.unixEventPort, spec, fds);
  // The child's ends close here: it holds the only copies, so EOF means it is done with them.
  return launched.then([unit = kj::mv(unit), &roots, &io, &audit, spec = kj::mv(spec),
                        in = kj::mv(in.write), out = kj::mv(out.read), err = kj::mv(err.read),
                        request = kj::mv(request),
                        leaf = kj::mv(leaf)](sandbox::SandboxedProcess process) mutable {
    // Before the loop first services the listener: what the program learns is on record.
    recordSyscallsOf(process, audit,
                     {unit->name, process.pid(), request.caller, request.callId});
    auto broker = kj::heap<syscalls::SyscallBroker>(unit, roots, audit,
                                                    syscalls::SandboxView::of(spec),
                                                    process.pid(), request.caller, request.callId);
    return kj::heap<ProgramRun>(io, kj::mv(process), kj::mv(broker), kj::mv(in), kj::mv(out),
                                kj::mv(err), kj::mv(request), kj::mv(leaf));
  });
}

ProgramRun::ProgramRun(kj::AsyncIoContext& io, sandbox::SandboxedProcess process,
                       kj::Own<syscalls::SyscallBroker> broker, kj::AutoCloseFd in,
                       kj::AutoCloseFd out, kj::AutoCloseFd err, ProgramRequest request,
                       kj::Own<resources::WorkerLeaf> leaf)
    : broker_(kj::mv(broker)),
      leaf_(kj::mv(leaf)),
      process_(kj::mv(process)),
      request_(kj::mv(request)),
      in_(io.lowLevelProvider->wrapOutputFd(in.release(),
                                            kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP)),
      out_(io.lowLevelProvider->wrapInputFd(out.release(),
                                            kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP)),
      err_(io.lowLevelProvider->wrapInputFd(err.release(),
                                            kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP)),
      outBuffer_(kj::heapArray<kj::byte>(_::READ_CHUNK)),
      errBuffer_(kj::heapArray<kj::byte>(_::READ_CHUNK)),
      exitObserver_(io.unixEventPort, process_.pidfd(), kj::UnixEventPort::FdObserver::OBSERVE_READ),
      seccompObserver_(io.unixEventPort, process_.seccompListenerFd(),
                       kj::UnixEventPort::FdObserver::OBSERVE_READ),
      seccompTask_(superviseSeccomp().eagerlyEvaluate([this](kj::Exception&& e) {
        spdlog::error("program pid {}: seccomp supervision failed, killing it: {}", pid(),
                      e.getDescription().cStr());
        process_.kill();
      })) {
  // Before the loop first services the listener: the program's loader is already waiting on it.
  process_.setSyscallHandler(broker_.get());
  exit_.pid = process_.pid();
}

kj::Promise<ProgramExit> ProgramRun::whenDone() {
  // stdin is fed while stdout and stderr drain, so a program that echoes more than a pipe holds
  // before reading all its input cannot deadlock with us. Eagerly: the join below would run the
  // continuation that closes stdin only once every branch is done, and the program waits for
  // that EOF before it ends its output.
  auto fed = feed()
                 .catch_([](kj::Exception&&) {})  // EPIPE: the program did not read it all
                 .eagerlyEvaluate(nullptr);
  auto outputs = kj::joinPromises(kj::arr(kj::mv(fed), collect(*out_, outBuffer_, exit_.out),
                                          collect(*err_, errBuffer_, exit_.err)));
  return outputs.then([this]() { return watchExit(); })
      .then([this](sandbox::ExitStatus status) {
        if (leaf_.get() != nullptr) {
          leaf_->explainExit(status);
          exit_.cpuMicros = static_cast<int64_t>(leaf_->cpuMicros());
        }
        exit_.status = kj::mv(status);
        exit_.brokeredSyscalls = broker_->brokered();
        return kj::mv(exit_);
      });
}

kj::Promise<void> ProgramRun::feed() {
  return in_->write(request_.input.data(), request_.input.size()).then([this]() {
    in_ = nullptr;  // EOF for the program
  });
}

kj::Promise<void> ProgramRun::collect(kj::AsyncInputStream& from, kj::Array<kj::byte>& buffer,
                                      std::string& into) {
  return from.tryRead(buffer.begin(), 1, buffer.size())
      .then([this, &from, &buffer, &into](size_t n) -> kj::Promise<void> {
        if (n == 0) return kj::READY_NOW;
        size_t room = request_.outputCap - kj::min(request_.outputCap, into.size());
        if (n > room) exit_.outputCut = true;  // read on, so the program is never stuck writing
        into.append(reinterpret_cast<const char*>(buffer.begin()), kj::min(n, room));
        return collect(from, buffer, into);
      });
}

kj::Promise<void> ProgramRun::superviseSeccomp() {
  return seccompObserver_.whenBecomesReadable().then([this]() -> kj::Promise<void> {
    process_.serviceSeccomp();
    return superviseSeccomp();
  });
}

kj::Promise<sandbox::ExitStatus> ProgramRun::watchExit() {
  auto status = process_.tryReap();
  if (status) return kj::mv(*status);
  return exitObserver_.whenBecomesReadable().then([this]() { return watchExit(); });
}

}  // namespace airlock::broker
