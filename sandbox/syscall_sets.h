#pragma once
// The one table of syscall groups a sandboxed worker may use (STYLE rule 13). The seccomp filter
// compiler, `airlock doctor`, the policy linter and the refused-syscall message all read it.

#include <kj/common.h>
#include <kj/string.h>

#include <cstdint>
#include <string>
#include <vector>

namespace airlock::sandbox {

enum class SyscallAction {
  ALLOW,
  ALLOW_THREADS_ONLY,  // clone(2) only with CLONE_THREAD in its flags register: no processes
  ERRNO_ENOSYS,        // refused with ENOSYS so that libc falls back to an allowed older call
  ALLOW_IF_ARG_IN,     // only if the low 32 bits of register `argIndex` are one of `values`
  ALLOW_W_XOR_X_MMAP,  // mmap(2): never PROT_WRITE|PROT_EXEC; PROT_EXEC only for file mappings
  ALLOW_NO_EXEC,       // mprotect(2): never PROT_EXEC (so written memory never becomes code)
  EPERM_IF_ARG_IN,     // refused with EPERM, not stopped, if register `argIndex` is one of
                       // `values`: the syscall never runs, and the caller takes its fallback
  ALLOW_NOT_WRITE_AND_EXEC,  // mmap/mprotect: any protection but PROT_WRITE|PROT_EXEC together
  ERRNO_EOPNOTSUPP,    // refused with EOPNOTSUPP, never run: as on a file system without the
                       // feature (extended attributes), which callers are written to expect
};
// Anything not allowed is refused by the filter's default action: the supervisor is notified
// (it names the syscall and its registers) and kills the process; see seccomp_filter.h.
// Arguments are decided on registers only, never on memory the process can change after the
// check (which is why clone3, whose flags live in memory, gets ENOSYS).

struct SyscallEntry {
  const char* name;    // x86_64 name as libseccomp spells it
  SyscallAction action;
  unsigned argIndex = 0;                         // ALLOW_IF_ARG_IN: which register
  kj::ArrayPtr<const uint64_t> values = nullptr; // ALLOW_IF_ARG_IN: the permitted values
};

struct SyscallGroup {
  const char* name;    // e.g. "basic-io"; policies compose groups by this name
  const char* reason;  // one line: why a worker needs it and why it is safe in the sandbox
  kj::ArrayPtr<const SyscallEntry> syscalls;
  const char* danger = nullptr;
  // Null for a group that keeps every line of the sandbox. Otherwise what a compromised worker
  // gains with it: a dangerous allowance, which a unit may name only with a [sandbox]
  // justification (STYLE rule 12), which widest-sandbox tests leave out, and which never bounds
  // what a seccomp profile may grant (profile_grants.h).
};

struct ForbiddenSyscall {
  const char* name;
  const char* reason;  // why no group may ever contain it
  bool brokerDecides = false;  // never granted, but a brokering unit's broker may answer it
};

kj::ArrayPtr<const SyscallGroup> syscallGroups();
// Every group, in table order. Static, immutable data; callable from anywhere, any thread.

kj::ArrayPtr<const char* const> defaultWorkerGroups();
// The groups every v1 worker gets (a Cap'n Proto/kj event loop on fd 3 plus a decoder library).

bool isDefaultGroup(kj::StringPtr name);  // one of defaultWorkerGroups()

kj::ArrayPtr<const ForbiddenSyscall> forbiddenSyscalls();
// Syscalls that must stay refused whatever the policy says (tested: no group contains one).

kj::Maybe<const SyscallGroup&> findSyscallGroup(kj::StringPtr name);

kj::Maybe<const SyscallGroup&> groupAllowing(kj::StringPtr syscall);

kj::Maybe<kj::String> refusalOfSyscallName(kj::StringPtr name);

// One entry of a worker's effective allowlist, for the tools (`airlock policy explain
// --syscalls`): what the filter compiled from the same names does with the syscall, and why.
struct AllowedSyscall {
  std::string name;
  std::string action;  // "allow", "allow only with CLONE_THREAD", "EPERM if arg 0 is 0x1", ...
  std::string group;   // the group it comes from; empty when named alone
  bool isDefault = false;  // from a group every worker has
  std::string reason;  // the group's reason, or why a single name is allowed
};

std::vector<AllowedSyscall> effectiveAllowlist(const std::vector<std::string>& extra);
// The entries of the default groups and of the groups `extra` names, in table order, then the
// single syscalls `extra` names (as SandboxSpec::syscalls); each syscall once. Names refusalOfSyscallName
// refuses are left out (the loader has refused them already).

std::string describeAction(const SyscallEntry& entry);
// What the filter does with the entry's syscall, in words ("allow", "ENOSYS", ...).
// What a unit's [sandbox] syscalls (or `sandbox run --syscalls`) may name: a group, or a single
// x86-64 syscall that no group lists and that is not always refused (allowed then without any
// argument filter). Null if `name` may be named; otherwise why not, for the policy error: an
// always-refused syscall with its reason, a syscall a group lists (name the group: its entry may
// carry the only safe argument filter, as clone's does), or an unknown name.
// The first group (in table order) with an entry for `syscall`, whatever its action: what a
// refusal names as the way to allow it. Null for a syscall no group has (a forbidden one, or one
// nobody has asked for yet).

}  // namespace airlock::sandbox
