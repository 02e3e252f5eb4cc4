// ExitStatus::describe(): how a sandboxed process ended, in words for logs and error replies.
#include "sandbox/launcher.h"

#include <signal.h>
#include <string.h>

namespace airlock::sandbox {

std::string ExitStatus::describe() const {
  if (exited) return "exited with status " + std::to_string(code);
  const char* abbrev = sigabbrev_np(signal);
  std::string text = "killed by ";
  text += abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
  // The seccomp filter's default action kills the process with SIGSYS.
  if (signal == SIGSYS) text += " (seccomp refused a syscall)";
  return text;
}

}  // namespace airlock::sandbox
