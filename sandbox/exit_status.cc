// ExitStatus::describe(): how a sandboxed process ended, in words for logs and error replies.
#include "sandbox/launcher.h"

#include <signal.h>
#include <string.h>

namespace airlock::sandbox {

std::string ExitStatus::describe() const {
  if (exited) return "exited with status " + std::to_string(code);
  // The supervisor's SIGKILL is how a refusal ends; the refusal is what matters.
  if (!refusedSyscall.empty()) return "killed by seccomp: refused syscall " + refusedSyscall;
  const char* abbrev = sigabbrev_np(signal);
  std::string text = "killed by ";
  text += abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
  // Refusals of native syscalls are named above; only the filter's bad-arch action kills with
  // SIGSYS (the worker is PID 1 of its namespace, so it cannot SIGSYS itself).
  if (signal == SIGSYS) text += " (seccomp: a foreign-architecture syscall, i386 or x32)";
  return text;
}

}  // namespace airlock::sandbox
