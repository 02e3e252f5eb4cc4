// SandboxedProcess: a sandboxed child owned through its pidfd.
#include "sandbox/launcher.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cerrno>

namespace airlock::sandbox {

namespace _ {

ExitStatus toExitStatus(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exited = true;
    status.code = info.si_status;
  } else {
    status.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
  }
  return status;
}

}  // namespace _

SandboxedProcess::SandboxedProcess(pid_t pid, kj::AutoCloseFd pidfd)
    : pid_(pid), pidfd_(kj::mv(pidfd)) {}

SandboxedProcess::SandboxedProcess(SandboxedProcess&& other) noexcept
    : pid_(other.pid_), pidfd_(kj::mv(other.pidfd_)), status_(other.status_) {}

SandboxedProcess::~SandboxedProcess() {
  if (pidfd_ == nullptr || status_) return;
  kill();
  // SIGKILL cannot be caught, so this wait is short. A destructor must not throw.
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([this]() { wait(); })) {
    KJ_LOG(ERROR, "could not reap sandboxed process", pid_, *exception);
  }
}

void SandboxedProcess::kill() {
  if (pidfd_ == nullptr || status_) return;
  // Through the pidfd, so a recycled pid can never be hit.
  if (syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) < 0 && errno != ESRCH) {
    KJ_LOG(ERROR, "pidfd_send_signal(SIGKILL) failed", pid_, strerror(errno));
  }
}

std::optional<ExitStatus> SandboxedProcess::tryReap() {
  if (status_ || pidfd_ == nullptr) return status_;
  siginfo_t info = {};
  KJ_SYSCALL(waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | WNOHANG), pid_);
  if (info.si_pid == 0) return std::nullopt;  // still running
  status_ = _::toExitStatus(info);
  return status_;
}

ExitStatus SandboxedProcess::wait() {
  KJ_REQUIRE(pidfd_ != nullptr, "waiting on a moved-from SandboxedProcess");
  if (status_) return *status_;
  siginfo_t info = {};
  KJ_SYSCALL(waitid(P_PIDFD, pidfd_.get(), &info, WEXITED), pid_);
  status_ = _::toExitStatus(info);
  return *status_;
}

}  // namespace airlock::sandbox
