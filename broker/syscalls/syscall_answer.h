#pragma once
// The ways the broker answers a brokered syscall on the seccomp listener.

#include <cstdint>

#include "sandbox/refused_syscall.h"

namespace airlock::broker::syscalls {

// The kernel runs the call itself, inside the sandbox's mount namespace and Landlock domain: used
// only for what the sandbox's own view decides (never for what the broker grants), since the
// kernel re-reads the arguments, which the worker may have changed since the broker read them.
void leaveToKernel(int listenerFd, const sandbox::RefusedSyscall& call);

// The call returns -1 with `error` in errno (error > 0), or `value` (error == 0).
void answer(int listenerFd, const sandbox::RefusedSyscall& call, int error, int64_t value = 0);

// The call returns a new descriptor of the thread's process referring to `fd` (a broker fd,
// which stays the broker's to close): the kernel installs it and answers in one step
// (SECCOMP_ADDFD_FLAG_SEND), so no other thread can see or take the slot before the call returns.
// `closeOnExec` as the call's O_CLOEXEC asked. Returns false if the thread died meanwhile.
bool answerWithFd(int listenerFd, const sandbox::RefusedSyscall& call, int fd, bool closeOnExec);

// Puts the broker's `fd` into the thread's process at descriptor number `slot`, replacing what
// was there (SECCOMP_ADDFD_FLAG_SETFD), without answering: the call is answered after. How a
// brokered connect(2) swaps the program's unconnected socket for the broker's connected one.
// Returns the errno of a failure (ENOENT: the thread died meanwhile), 0 on success.
[[nodiscard]] int replaceDescriptor(int listenerFd, const sandbox::RefusedSyscall& call, int fd,
                                    int slot, bool closeOnExec);

// Whether the notification is still pending: checked after reading the thread's memory, so that
// what was read belongs to that thread and not to one that reused its pid.
bool stillPending(int listenerFd, const sandbox::RefusedSyscall& call);

}  // namespace airlock::broker::syscalls
