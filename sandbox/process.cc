// SandboxedProcess: a sandboxed child owned through its pidfd, and its seccomp supervisor.
#include "sandbox/launcher.h"

#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/profile_grants.h"
#include "sandbox/refused_syscall.h"
#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

namespace _ {

ExitStatus toExitStatus(const siginfo_t& info, const std::string& refused) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exited = true;
    status.code = info.si_status;
  } else {
    status.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
    status.refusedSyscall = refused;
  }
  return status;
}

// From linux/seccomp.h of Linux 6.6, newer than Debian 12's headers.
constexpr unsigned long SECCOMP_IOCTL_NOTIF_SET_FLAGS = _IOW('!', 4, uint64_t);
constexpr uint64_t SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1;

bool readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

}  // namespace _

SandboxedProcess::SandboxedProcess(pid_t pid, kj::AutoCloseFd pidfd)
    : pid_(pid), pidfd_(kj::mv(pidfd)) {}

SandboxedProcess::SandboxedProcess(SandboxedProcess&& other) noexcept
    : pid_(other.pid_),
      pidfd_(kj::mv(other.pidfd_)),
      listener_(kj::mv(other.listener_)),
      landlockAbi_(other.landlockAbi_),
      refusedSyscall_(kj::mv(other.refusedSyscall_)),
      onRefused_(other.onRefused_),
      answered_(kj::mv(other.answered_)),
      learned_(kj::mv(other.learned_)),
      brokeredNrs_(kj::mv(other.brokeredNrs_)),
      learning_(other.learning_),
      learnedRecorder_(kj::mv(other.learnedRecorder_)),
      answeredRecorder_(kj::mv(other.answeredRecorder_)),
      unlearnableNrs_(kj::mv(other.unlearnableNrs_)),
      profileGrants_(kj::mv(other.profileGrants_)),
      handler_(other.handler_),
      status_(other.status_) {}

void SandboxedProcess::setBrokeredSyscalls(const std::vector<BrokeredSyscall>& brokered) {
  brokeredNrs_.clear();
  if (!brokered.empty() && listener_ != nullptr) {
    // The stopped thread hands its CPU straight to the supervisor and back (Linux 6.6), as a
    // synchronous call would: a brokered syscall's round trip then costs no scheduler wake-ups.
    // Older kernels refuse the flag, and the round trip only costs more.
    uint64_t flags = _::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
    ioctl(listener_.get(), _::SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags);
  }
  for (auto& call : brokered) {
    int nr = seccomp_syscall_resolve_name(call.name.c_str());
    KJ_REQUIRE(nr != __NR_SCMP_ERROR, "brokered syscall unknown on this arch", call.name);
    brokeredNrs_.push_back(nr);
  }
}

void SandboxedProcess::learnSyscallsBut(const std::vector<const char*>& groups,
                                        const std::shared_ptr<const ProfileGrants>& profileGrants) {
  std::vector<int> nrs;
  auto add = [&nrs](const char* name) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR) nrs.push_back(nr);
  };
  for (const char* name : groups) {
    KJ_IF_MAYBE(group, findSyscallGroup(name)) {
      for (auto& entry : group->syscalls) add(entry.name);
    } else {
      add(name);
    }
  }
  if (profileGrants != nullptr) {
    for (const GrantedSyscall& granted : profileGrants->granted) add(granted.name.c_str());
  }
  for (auto& forbidden : forbiddenSyscalls()) add(forbidden.name);
  std::sort(nrs.begin(), nrs.end());
  unlearnableNrs_ = kj::mv(nrs);
  learning_ = true;
}

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

std::vector<RefusedSyscall> SandboxedProcess::serviceSeccomp() {
  std::vector<RefusedSyscall> firsts;
  while (listener_ != nullptr && _::readable(listener_.get())) {
    KJ_IF_MAYBE(refused, receiveRefusal(listener_.get())) {
      bool brokered = !refused->foreignAbi() &&
                      std::find(brokeredNrs_.begin(), brokeredNrs_.end(), refused->nr) !=
                          brokeredNrs_.end();
      if (brokered && handler_ != nullptr) {
        // The handler decides, acts and answers; if it cannot, the process must not go on.
        KJ_IF_MAYBE(exception, kj::runCatchingExceptions(
                                   [&]() { handler_->handle(listener_.get(), pidfd_.get(), *refused); })) {
          KJ_LOG(ERROR, "brokered syscall handler failed; killing the process", pid_, *exception);
          if (refusedSyscall_.empty()) {
            refusedSyscall_ = refused->name() + " [brokered, but the broker failed to answer it: " +
                              exception->getDescription().cStr() + "]";
          }
          kill();
        }
        continue;
      }
      if (learning_ && !refused->foreignAbi() &&
          !std::binary_search(unlearnableNrs_.begin(), unlearnableNrs_.end(), refused->nr)) {
        // Recorded (its first use) and counted before it runs.
        refused->learned = true;
        // No recorder is no record: a syscall is learned on record or not at all.
        // Counted only once it may run: a use that was not recorded never ran.
        auto uses = learned_.find(refused->name());
        bool recorded = uses != learned_.end() ||
                        (learnedRecorder_ != nullptr && learnedRecorder_(*refused));
        if (recorded) {
          ++learned_[refused->name()];
          continueLearned(listener_.get(), *refused);
          continue;
        }
        refusedSyscall_ = refused->describe() +
                          (learnedRecorder_ == nullptr
                               ? " [learnable, but nothing records what this process learns]"
                               : " [learnable, but its record was refused]");
        kill();
        continue;
      }
      if (onRefused_ == OnRefusedSyscall::ERRNO && !refused->foreignAbi()) {
        // Counted before the answer, so a count is never behind what the process has seen.
        refused->answeredErrno =
            profileGrants_ != nullptr ? profileGrants_->errnoFor(refused->name()) : ENOSYS;
        bool first = answered_[refused->name()]++ == 0;
        answerRefusal(listener_.get(), *refused, refused->answeredErrno);
        if (first) {
          firsts.push_back(*refused);
          if (answeredRecorder_ != nullptr) answeredRecorder_(*refused);
        }
        continue;
      }
      // Recorded before the kill, so the exit status always carries it.
      if (refusedSyscall_.empty()) refusedSyscall_ = refused->describe();
      kill();
    } else {
      break;
    }
  }
  return firsts;
}

std::optional<ExitStatus> SandboxedProcess::tryReap() {
  if (status_ || pidfd_ == nullptr) return status_;
  serviceSeccomp();
  siginfo_t info = {};
  KJ_SYSCALL(waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | WNOHANG), pid_);
  if (info.si_pid == 0) return std::nullopt;  // still running
  status_ = _::toExitStatus(info, refusedSyscall_);
  status_->answeredSyscalls = answered_;
  status_->learnedSyscalls = learned_;
  return status_;
}

ExitStatus SandboxedProcess::wait() {
  KJ_REQUIRE(pidfd_ != nullptr, "waiting on a moved-from SandboxedProcess");
  if (status_) return *status_;
  // Service refusals while waiting, or a refusing worker would stay stopped and never exit.
  bool listening = listener_ != nullptr;
  for (;;) {
    struct pollfd fds[2] = {{pidfd_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    int n = poll(fds, listening ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    KJ_SYSCALL(n, "poll(pidfd, seccomp listener)", pid_);
    if (listening && (fds[1].revents & POLLIN)) serviceSeccomp();
    // POLLHUP: no task uses the filter any more (the process is exiting).
    if (listening && (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL))) listening = false;
    if (fds[0].revents != 0) break;
  }
  siginfo_t info = {};
  KJ_SYSCALL(waitid(P_PIDFD, pidfd_.get(), &info, WEXITED), pid_);
  status_ = _::toExitStatus(info, refusedSyscall_);
  status_->answeredSyscalls = answered_;
  status_->learnedSyscalls = learned_;
  return *status_;
}

}  // namespace airlock::sandbox
