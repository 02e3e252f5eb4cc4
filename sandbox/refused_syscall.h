#pragma once
// A syscall the seccomp filter refused, as the kernel reported it on the listener fd: supervisor
// side only (the launcher's SandboxedProcess). Names come from libseccomp's syscall table and the
// reason, for an always-refused syscall, from syscall_sets.h.

#include <cstdint>
#include <string>

#include <kj/common.h>

namespace airlock::sandbox {

struct RefusedSyscall {
  uint32_t arch = 0;  // AUDIT_ARCH_* as the kernel reports it (libseccomp uses the same values)
  int nr = -1;
  uint64_t args[6] = {};  // register values at the call; pointers are shown, never followed
  uint32_t pid = 0;       // the calling thread, in the supervisor's PID namespace
  uint64_t id = 0;        // the kernel's notification id, to answer it (answerRefusal)
  int answeredErrno = 0;  // under OnRefusedSyscall::ERRNO: the errno it was answered with
  bool learned = false;   // let run by a learning unit (SandboxSpec::learnSyscalls)

  std::string describe() const;
  std::string name() const;  // "statfs", or "syscall_512" for a number no table names
  bool foreignAbi() const;   // through the i386 or x32 ABI: always killed, never answered
  // e.g. "ptrace(0x10, 0x1, 0x0, 0x0, 0x0, 0x0) [always refused: inspects and controls other
  // processes]" or "socket(0x2, 0x1, 0x0, ...)"; an unknown number shows as "syscall_512(...)".
  // A call through the i386 or x32 ABI is named from that ABI's table and marked, e.g.
  // "creat(0x...) [i386 ABI: every syscall through a foreign architecture is refused]".
};

kj::Maybe<RefusedSyscall> receiveRefusal(int listenerFd);

void continueLearned(int listenerFd, const RefusedSyscall& learned);
// Lets the syscall run as the process asked it (SECCOMP_USER_NOTIF_FLAG_CONTINUE): only for a
// learning unit's syscall no group lists and never one that is never granted. The kernel reads
// its arguments again, which is why nothing is decided on them here. A thread that died
// meanwhile (ENOENT) needs no answer. Throws kj::Exception on other errors.

void answerRefusal(int listenerFd, const RefusedSyscall& refused, int errnoValue);
// Answers the refused syscall with -errnoValue (SECCOMP_IOCTL_NOTIF_SEND, never with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE: the syscall never runs) and lets the thread go on. A thread
// that died meanwhile (ENOENT) needs no answer. Throws kj::Exception on other errors.
// Reads one pending notification (SECCOMP_IOCTL_NOTIF_RECV) and never answers it: the thread
// stays stopped before the syscall until the caller kills the process. Call only after poll()
// reported the fd readable, since the ioctl blocks otherwise. Returns nullptr if the thread died
// first (ENOENT) or the listener is gone. Throws kj::Exception on other errors.

}  // namespace airlock::sandbox
