#pragma once
// Native-first reads for a program whose file syscalls are brokered: the library in
// native_first/ is preloaded, and the filter lets the read-only path calls it makes from one
// fixed instruction run natively, so what the sandbox's own view holds (the program, /usr) costs
// no broker round trip. Anything that fails natively, and everything else, reaches the broker.
//
// The native calls are exactly those the broker would leave to the kernel for a path in the
// view: decided by the mount namespace and Landlock, which is why Landlock must be REQUIRED.
// The filter also requires AT_FDCWD, so a descriptor the broker passed is never a native base.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "sandbox/sandbox_spec.h"

namespace airlock::sandbox {

// The library airlockd and airlock were built or installed with (lib/airlock/ beside bin/);
// empty if it is not there.
std::string nativeFirstLibrary();

// Sets spec.nativeFirstLibrary (which the launcher binds) and preloads it (LD_PRELOAD) with the
// brokered roots (AIRLOCK_BROKERED_ROOTS, which it leaves to the broker). Does nothing
// when `library` is empty, the spec has no brokered syscalls, Landlock is not REQUIRED, the
// environment already preloads something, or a root holds a ':'. Idempotent.
void enableNativeFirst(SandboxSpec& spec, const std::string& library,
                       const std::vector<std::string>& brokeredRoots);

// The BPF instructions the filter starts with when spec.nativeFirstLibrary is set: for an x86-64 call whose
// instruction pointer is the library's fixed syscall instruction, allow open, stat, lstat,
// access and readlink, and openat, newfstatat, faccessat and readlinkat on AT_FDCWD; anything
// else falls through to the rest of the filter (which begins right after them).
std::vector<sock_filter> nativeFirstPrologue();

}  // namespace airlock::sandbox
