#pragma once
// Compiles syscall groups (syscall_sets.h) into a seccomp BPF program, and installs it.
//
// Refusals: a syscall the groups do not allow is answered SECCOMP_RET_USER_NOTIF. The calling
// thread stops inside the kernel before the syscall runs, and the supervisor (the launcher's
// SandboxedProcess) reads the syscall number and its registers from the listener fd, records them
// and kills the process with SIGKILL; it never answers, so the syscall never runs. Foreign
// architectures (i386 `int 0x80`, x32) are killed outright with SECCOMP_RET_KILL_PROCESS (SIGSYS):
// their numbers mean other syscalls, so they are not worth naming. Why not RET_TRAP: the worker
// owns its SIGSYS handler and could swallow the report; why not KILL_PROCESS for everything: the
// parent then learns only "SIGSYS", not which syscall (see docs/sandbox.md).

#include <linux/filter.h>
#include <seccomp.h>

#include <kj/common.h>
#include <kj/string.h>

#include <vector>

#include "sandbox/sandbox_spec.h"
#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

struct ProfileGrants;

// One libseccomp rule: `action` when every comparison holds. A syscall's rules are alternatives
// (the filter allows it when any one holds).
struct CompiledRule {
  uint32_t action = SCMP_ACT_ALLOW;
  std::vector<scmp_arg_cmp> conditions;
};

std::vector<CompiledRule> rulesOf(const SyscallEntry& entry);
// What the filter compiles a table entry into; every comparison is on a register. Pure. Throws
// kj::Exception on an entry the table could not have (an argument filter without values).

class SeccompFilter {
 public:
  static SeccompFilter compile(kj::ArrayPtr<const char* const> groupNames,
                               kj::Maybe<const ProfileGrants&> profile = nullptr,
                               kj::ArrayPtr<const BrokeredSyscall> brokered = nullptr,
                               bool nativeFirst = false);
  // Builds the BPF program in the broker (libseccomp), before clone3, so that table errors
  // surface as exceptions there and the child has nothing to allocate. Each name is a group, or
  // a single syscall refusalOfSyscallName() accepts (allowed without an argument filter). Throws
  // kj::Exception on any other name. `profile` (borrowed for the call) adds what a seccomp
  // profile was granted, each syscall with its rules (the profile's argument filters and the
  // table's together), except syscalls a group in `groupNames` lists: that group's entry already
  // bounds what the profile could get. A syscall in `brokered` goes to the listener whatever the
  // groups or the profile say (it is answered by the supervisor's SyscallHandler), except when
  // its nativeWhenFlag bits are set, which the kernel runs directly. `nativeFirst`: the program
  // starts with nativeFirstPrologue() (native_first.h).

  int install() const;
  // Installs the program on the calling thread with SECCOMP_FILTER_FLAG_NEW_LISTENER and returns
  // the listener fd (close-on-exec), or -errno. Child side, after no_new_privs, as the last step
  // before handing the listener to the parent and execve; allocates nothing, never throws.

  kj::ArrayPtr<const sock_filter> program() const { return kj::arrayPtr(program_.data(), program_.size()); }

 private:
  std::vector<sock_filter> program_;
};

}  // namespace airlock::sandbox
