#pragma once
// Landlock for the sandbox child: the filesystem read-only beneath the new root, execute only the
// program (and its ELF interpreter, which the kernel opens for execve), no TCP bind/connect, and
// abstract Unix sockets and signals scoped to the sandbox. An LSM layer independent of the mount
// namespace, seccomp and the network namespace: each of those could fail alone and this holds.

#include <string>

#include "sandbox/mount_root.h"
#include "sandbox/sandbox_spec.h"
#include "sandbox/setup_error.h"

namespace airlock::sandbox {

// The newest Landlock ABI this code knows; a newer kernel is used at this level.
constexpr int MAX_KNOWN_LANDLOCK_ABI = 7;

int landlockAbi();
// The Landlock ABI the running kernel offers (1..), or 0 if it has none (not built, or not in
// the `lsm=` list), at most what capLandlockAbi allows. Pure query; callable anywhere.

void capLandlockAbi(int most);
// From now on this process uses at most Landlock ABI `most` (0..MAX_KNOWN_LANDLOCK_ABI), as if
// the kernel offered no newer one (0: none, so a sandbox that requires Landlock stops and a
// best-effort one runs without it). airlockd --landlock-abi-max: for a kernel whose newer ABI
// misbehaves, and to rehearse a kernel without Landlock. Call before any sandbox starts.

struct LandlockPlan {
  int abi = 0;               // 0: not applied (only when the spec allows BEST_EFFORT)
  std::string program;       // absolute path inside the new root; the only executable file
  std::string interpreter;   // the program's PT_INTERP (ld.so), or "" for a static program
};

LandlockPlan planLandlock(const SandboxSpec& spec, const RootPlan& root);
// Broker side, before clone3. Reads the program's ELF header for its interpreter. Throws
// kj::Exception naming Landlock and `airlock doctor` if the kernel has no Landlock and
// spec.landlock is REQUIRED; with BEST_EFFORT returns abi 0 and logs a warning.

void applyLandlock(const LandlockPlan& plan, const SetupReporter& reporter);
// Child side: after pivot_root (the rules name paths of the new root) and after no_new_privs
// (landlock_restrict_self requires it once capabilities are gone); before seccomp, which refuses
// the Landlock syscalls. Fails through `reporter`. Does nothing for abi 0. Allocates nothing.

}  // namespace airlock::sandbox
