#pragma once
// Starts a program inside the airlock sandbox.
//
// Setup runs in the child between clone3() and execve(), as one linear sequence (see
// launcher.cc). Any failed step is reported on a close-on-exec setup channel and the child exits
// before exec: a half-applied sandbox never runs code. Called only by the broker (or the CLI),
// from one thread at a time: the child continues as a fork of the calling thread and, until
// execve, uses no allocator or lock another thread of the caller could hold.

#include <signal.h>
#include <sys/types.h>

#include <kj/io.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/refused_syscall.h"
#include "sandbox/sandbox_spec.h"

namespace airlock::sandbox {

struct ExitStatus {
  bool exited = false;   // true: normal exit with `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;
  std::string refusedSyscall;
  // Set when the supervisor killed the process (SIGKILL) because seccomp refused a syscall: the
  // syscall's name and registers, from RefusedSyscall::describe(). Empty otherwise.

  std::map<std::string, uint64_t> answeredSyscalls;
  // A learning process's syscalls outside its groups that were let run, by syscall, each counted
  // (the first of each recorded before it ran).
  std::map<std::string, uint64_t> learnedSyscalls;
  // Under OnRefusedSyscall::ERRNO: the refused syscalls answered with an errno, by name, with
  // how often.

  bool outOfMemory = false;
  uint64_t memoryPeakBytes = 0;
  // Set by the broker from the worker's cgroup (broker/resources/) after the exit: the kernel's
  // OOM killer took it at its unit's memory_max_mib, and the most memory its leaf ever held.

  bool killedBySandbox() const { return !refusedSyscall.empty() || (!exited && signal == SIGSYS); }
  // A seccomp refusal: a named one (foreign-architecture calls included), or a bare SIGSYS when
  // the refusal could not be read.

  std::string describe() const;
  // e.g. "exited with status 3", "killed by SIGSEGV", "killed by seccomp: refused syscall
  // ptrace(0x10, ...) [always refused: ...]", "killed by seccomp: refused syscall creat(...)
  // [i386 ABI: ...]", "killed by SIGSYS (seccomp)".
};

// Answers the syscalls a SandboxSpec brokers (SandboxSpec::brokeredSyscalls), on the thread that
// services the listener. Implemented by the broker (broker/syscalls/), which decides each call
// against the unit's policy.
class SyscallHandler {
 public:
  virtual ~SyscallHandler() = default;
  virtual void handle(int listenerFd, int pidfd, const RefusedSyscall& call) = 0;
  // Must answer `call` (or leave it to the kernel's ENOENT when the thread is gone): the calling
  // thread stays stopped until it does. Throwing kills the process (fail closed).
};

// A sandboxed child process, owned through its pidfd (never a recyclable pid), and the supervisor
// of its seccomp filter, through the filter's listener fd: a refused syscall stops the calling
// thread until this object reads the notification, records the syscall and kills the process.
// So whoever owns it must keep servicing it — wait() does; an event loop watches
// seccompListenerFd() and calls serviceSeccomp() — or a refusing worker just stays stopped (never
// running the syscall). The destructor kills it with SIGKILL via the pidfd and reaps it.
class SandboxedProcess {
 public:
  SandboxedProcess(pid_t pid, kj::AutoCloseFd pidfd);
  // Without a listener yet: launch() attaches it once the child has sent it.
  SandboxedProcess(SandboxedProcess&&) noexcept;
  SandboxedProcess& operator=(SandboxedProcess&&) = delete;
  ~SandboxedProcess();

  pid_t pid() const { return pid_; }   // host pid, for logs and audit records only
  int pidfd() const { return pidfd_.get(); }  // readable once the process has exited
  int seccompListenerFd() const { return listener_.get(); }  // readable when a syscall is refused
  int landlockAbi() const { return landlockAbi_; }  // the Landlock ABI applied; 0: none

  void kill();                         // SIGKILL through the pidfd; idempotent
  std::vector<RefusedSyscall> serviceSeccomp();
  // Non-blocking: for each pending refusal, under KILL records the first one and kills the
  // process; under ERRNO answers it (ENOSYS, or the errno the unit's seccomp profile gives it)
  // and counts it by name (answeredRefusals()); a learnable one (learnSyscallsBut) is let run,
  // marked `learned`, and counted the same way. Returns
  // the refusals answered now that are the first of their syscall, for the caller to record.
  const std::map<std::string, uint64_t>& answeredRefusals() const { return answered_; }
  // Under ERRNO: how many refusals of each syscall were answered so far.
  std::optional<ExitStatus> tryReap(); // non-blocking (services seccomp first); once exited
  ExitStatus wait();                   // blocks until exit, servicing seccomp meanwhile

  void attachSeccompListener(kj::AutoCloseFd listener) { listener_ = kj::mv(listener); }
  void setLandlockAbi(int abi) { landlockAbi_ = abi; }
  void setOnRefusedSyscall(OnRefusedSyscall mode,
                           std::shared_ptr<const ProfileGrants> profileGrants = nullptr) {
    onRefused_ = mode;
    profileGrants_ = kj::mv(profileGrants);
  }
  void setBrokeredSyscalls(const std::vector<BrokeredSyscall>& brokered);
  void learnSyscallsBut(const std::vector<const char*>& groups,
                        const std::shared_ptr<const ProfileGrants>& profileGrants);
  // SandboxSpec::learnSyscalls: from now on a refused syscall that none of `groups` (the
  // filter's, default ones included) lists, no profile grant names and that is not never-granted
  // is let run and counted (serviceSeccomp()).
  void setLearnedRecorder(std::function<bool(const RefusedSyscall&)> recorder) {
    learnedRecorder_ = kj::mv(recorder);
  }
  // Called with the first use of each learned syscall before it runs: the record comes first.
  // False (it could not be recorded), or no recorder set: the syscall does not run, the process
  // is killed.

  void setAnsweredRecorder(std::function<void(const RefusedSyscall&)> recorder) {
    answeredRecorder_ = kj::mv(recorder);
  }
  // Under ERRNO: called with the first refusal of each syscall, after it was answered, for an
  // owner that services refusals through wait() and so never sees serviceSeccomp()'s return.

  void setSyscallHandler(SyscallHandler* handler) { handler_ = handler; }
  // Borrowed; must outlive the process's servicing. A brokered syscall that arrives with no
  // handler is treated as refused (the process is killed, or answered ENOSYS under ERRNO).
  // For launch() only.

 private:
  pid_t pid_;
  kj::AutoCloseFd pidfd_;
  kj::AutoCloseFd listener_;
  int landlockAbi_ = 0;
  std::string refusedSyscall_;
  OnRefusedSyscall onRefused_ = OnRefusedSyscall::KILL;
  std::map<std::string, uint64_t> answered_;
  std::map<std::string, uint64_t> learned_;
  std::vector<int> brokeredNrs_;
  bool learning_ = false;
  std::function<bool(const RefusedSyscall&)> learnedRecorder_;
  std::function<void(const RefusedSyscall&)> answeredRecorder_;
  std::vector<int> unlearnableNrs_;  // sorted: listed by a group or a grant, or never granted
  std::shared_ptr<const ProfileGrants> profileGrants_;  // the errnos a profile answers with
  SyscallHandler* handler_ = nullptr;
  std::optional<ExitStatus> status_;
};

struct ChildFds {
  int channel = -1;  // becomes fd 3 (the broker channel); -1: none
  int stdoutFd = -1; // becomes fd 1; -1: /dev/null
  int stderrFd = -1; // becomes fd 2; -1: /dev/null
  int stdinFd = -1;  // becomes fd 0; -1: /dev/null
  // Borrowed: the caller keeps ownership and closes its copies after launch(). Every other fd
  // of the caller is closed in the child.
};

// Starts `spec.program` in a fresh sandbox. Returns once execve has succeeded, with every layer
// in place (Landlock as the spec's strictness allows; see SandboxedProcess::landlockAbi()). Throws kj::Exception naming the failed setup step,
// its arguments and errno (e.g. "sandbox setup failed: pivot_root(/tmp, /tmp): EPERM ...; run
// `airlock doctor`") if any step fails; the child is then already reaped. Blocks the calling
// thread while the child sets up: an event loop uses beginLaunch() instead.
SandboxedProcess launch(const SandboxSpec& spec, const ChildFds& fds);

// A launch whose child has been created, placed in its cgroups and released, and is now setting
// up on its own: nothing of the program has run yet. What is left is to read the child's setup
// report (an error, or the seccomp listener then EOF once execve has closed the channel), which
// an event loop does as setupChannelFd() becomes readable instead of waiting for it. Destroying
// it before finish() kills and reaps the child: a launch given up never runs the program.
class PendingLaunch {
 public:
  PendingLaunch(PendingLaunch&&) noexcept = default;
  PendingLaunch& operator=(PendingLaunch&&) = delete;

  pid_t pid() const { return process_.pid(); }
  int setupChannelFd() const { return channel_.get(); }
  // Readable when the child has reported more, or has exec'd or exited (EOF).

  enum class Read : uint8_t { WAIT, NO_WAIT };
  [[nodiscard]] bool readReport(Read how);
  // Reads what the child has reported; true once the report is complete (EOF), so finish() may
  // be called. NO_WAIT returns false when nothing more is there yet.

  [[nodiscard]] SandboxedProcess finish();
  // After readReport() said the report is complete: the process, supervised, once execve
  // succeeded; or throws as launch() does (the child reaped first).

 private:
  friend PendingLaunch beginLaunch(const SandboxSpec& spec, const ChildFds& fds);
  PendingLaunch(SandboxedProcess process, kj::AutoCloseFd channel,
                std::vector<BrokeredSyscall> brokered, std::string programPath);

  SandboxedProcess process_;
  std::string programPath_;  // what execve runs: named by the hint if it fails (scriptHint)
  kj::AutoCloseFd channel_;  // the setup channel's parent end
  std::vector<BrokeredSyscall> brokered_;  // applied once the listener is here
  std::string report_;       // what the child sent so far, the listener marker included
  kj::AutoCloseFd listener_;
  bool complete_ = false;
};

[[nodiscard]] PendingLaunch beginLaunch(const SandboxSpec& spec, const ChildFds& fds);
// launch() up to the child's release, without waiting for its setup. Throws as launch() does for
// what fails before the child runs (the spec, clone3, the cgroup placement, the id maps); the
// child's own setup failures come out of finish(). `fds` may be closed once this returns: the
// child holds its own copies. Same thread rule as launch().

}  // namespace airlock::sandbox
