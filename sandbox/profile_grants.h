#pragma once
// What a seccomp profile (seccomp_profile.h) may grant a worker: the profile's SCMP_ACT_ALLOW
// rules intersected with what airlock ever grants. A syscall is granted only if
//   - a rule that applies to the worker (ruleAppliesToWorker) allows it,
//   - it is an x86-64 syscall libseccomp knows,
//   - it is not on the never-granted list (forbiddenSyscalls()), and
//   - a group of the one table that is not dangerous lists it: that entry is its ceiling.
// The granted rules are the profile's argument filters and the table entry's together (both must
// hold), so a profile never widens what the table allows for a syscall (clone stays threads
// only, mmap stays W^X). Every other syscall the profile asks for stays refused, with the reason
// (`airlock policy check` lists them); the worker runs without them.
//
// Other actions (SCMP_ACT_ERRNO, _KILL*, _TRAP, _TRACE, _LOG, _NOTIFY, and the default action)
// grant nothing: a syscall that is not granted gets airlock's own refusal, as the unit's
// on_refused_syscall says.

#include <map>
#include <string>
#include <vector>

#include "sandbox/seccomp_filter.h"
#include "sandbox/seccomp_profile.h"

namespace airlock::sandbox {

struct GrantedSyscall {
  std::string name;
  std::string group;                // the table group whose entry bounds it
  bool inDefaultGroup = false;      // every worker has it anyway
  std::vector<CompiledRule> rules;  // libseccomp-ready: profile and table conditions together
  std::string path;                 // the first profile rule that grants it ("$.syscalls[3]")
  bool argumentFiltered = false;    // some profile rule for it had `args`
};

struct RefusedProfileSyscall {
  std::string name;
  std::string path;    // the profile rule that asked for it
  std::string reason;  // e.g. "never granted: inspects and controls other processes"
};

struct ProfileGrants {
  std::vector<GrantedSyscall> granted;          // by name
  std::vector<RefusedProfileSyscall> refused;
  // By name, each once (its first refused rule). A syscall one rule was granted may be here for
  // another rule whose filter could not be kept: it then has only what the granted rule asked.

  std::map<std::string, int> errnoOf;  // syscalls a SCMP_ACT_ERRNO rule answers, and its errno
  int defaultErrno = 0;                 // the default action's errno; 0: it is not SCMP_ACT_ERRNO
  int errnoFor(const std::string& syscall) const;
  // What a refusal of `syscall` is answered under on_refused_syscall = "errno": errnoOf, else
  // defaultErrno, else ENOSYS (as a kernel without the syscall would answer).

  size_t grantedBeyondDefault() const;
  // How many granted syscalls no default group has: what the profile adds to every worker's set.
};

[[nodiscard]] ProfileGrants grantProfile(const SeccompProfile& profile,
                                         const WorkerConditions& worker);
// Pure apart from libseccomp's name table; at policy load (and in tools), never per call.

}  // namespace airlock::sandbox
