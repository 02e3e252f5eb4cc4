// ExitStatus::describe(): how a sandboxed process ended, in words for logs and error replies.
#include "sandbox/launcher.h"

#include <signal.h>
#include <string.h>

namespace airlock::sandbox {

std::string ExitStatus::describe() const {
  if (exited) return "exited with status " + std::to_string(code);
  if (outOfMemory) {
    return "killed by the kernel: out of memory (peak " +
           std::to_string(memoryPeakBytes >> 20) + " MiB)";
  }
  // The supervisor's SIGKILL is how a refusal ends; the refusal is what matters.
  if (!refusedSyscall.empty()) return "killed by seccomp: refused syscall " + refusedSyscall;
  const char* abbrev = sigabbrev_np(signal);
  std::string text = "killed by ";
  text += abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
  // Every refusal, foreign-architecture ones included, is named above. A SIGSYS here means the
  // refusal could not be read (the listener gone), and a seccomp kill is still the likely cause.
  if (signal == SIGSYS) text += " (seccomp)";
  return text;
}

}  // namespace airlock::sandbox
