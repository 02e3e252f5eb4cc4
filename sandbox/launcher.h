#pragma once
// Starts a program inside the airlock sandbox.
//
// Setup runs in the child between clone3() and execve(), as one linear sequence (see
// launcher.cc). Any failed step is reported on a close-on-exec setup pipe and the child exits
// before exec: a half-applied sandbox never runs code. Called only by the broker (or the CLI),
// from a single-threaded process, because the child continues as a fork of the caller.

#include <sys/types.h>

#include <kj/io.h>

#include <optional>
#include <string>

#include "sandbox/sandbox_spec.h"

namespace airlock::sandbox {

struct ExitStatus {
  bool exited = false;   // true: normal exit with `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;
  std::string describe() const;
  // e.g. "exited with status 3", "killed by SIGSEGV", "killed by SIGSYS (seccomp refused a
  // syscall)".
};

// A sandboxed child process, owned through its pidfd (never a recyclable pid). The destructor
// kills it with SIGKILL via the pidfd and reaps it.
class SandboxedProcess {
 public:
  SandboxedProcess(pid_t pid, kj::AutoCloseFd pidfd);
  SandboxedProcess(SandboxedProcess&&) noexcept;
  SandboxedProcess& operator=(SandboxedProcess&&) = delete;
  ~SandboxedProcess();

  pid_t pid() const { return pid_; }   // host pid, for logs and audit records only
  int pidfd() const { return pidfd_.get(); }  // readable once the process has exited

  void kill();                         // SIGKILL through the pidfd; idempotent
  std::optional<ExitStatus> tryReap(); // non-blocking; the status once it has exited
  ExitStatus wait();                   // blocks until exit

 private:
  pid_t pid_;
  kj::AutoCloseFd pidfd_;
  std::optional<ExitStatus> status_;
};

struct ChildFds {
  int channel = -1;  // becomes fd 3 (the broker channel); -1: none
  int stdoutFd = -1; // becomes fd 1; -1: /dev/null
  int stderrFd = -1; // becomes fd 2; -1: /dev/null
  // Borrowed: the caller keeps ownership and closes its copies after launch(). Every other fd
  // of the caller is closed in the child.
};

// Starts `spec.program` in a fresh sandbox. Throws kj::Exception naming the failed setup step,
// its arguments and errno (e.g. "sandbox setup failed: pivot_root(/tmp, /tmp): EPERM ...; run
// `airlock doctor`") if any step fails; the child is then already reaped.
SandboxedProcess launch(const SandboxSpec& spec, const ChildFds& fds);

}  // namespace airlock::sandbox
