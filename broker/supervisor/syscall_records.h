#pragma once
// The audit records of a sandboxed process's own syscalls that its filter does not list: a
// learning unit's syscall let run (`syscall.learned`, before it runs) and, under
// on_refused_syscall = "errno", the first refusal of each syscall (`syscall.refused`). One form
// for a unit's workers, a program unit's runs and `airlock run`, so `airlock policy suggest` and
// the auditor read them alike. Pure: the caller appends them.

#include <sys/types.h>

#include <string>

#include "audit/audit_log.h"
#include "sandbox/launcher.h"
#include "sandbox/refused_syscall.h"

namespace airlock::broker {

// Who the records name. `caller` and `callId` are empty for a long-lived worker (its records are
// tagged with the calls it serves instead).
struct SyscallRecordSource {
  std::string unit;
  pid_t pid = 0;
  std::string caller;
  std::string callId;
};

// Before the learned syscall runs; its later uses by the same process are counted, not recorded.
audit::AuditRecord learnedSyscallRecord(const SyscallRecordSource& source,
                                        const sandbox::RefusedSyscall& learned);

// The first refusal of a syscall answered with an errno; later ones are counted.
audit::AuditRecord answeredSyscallRecord(const SyscallRecordSource& source,
                                         const sandbox::RefusedSyscall& refused);

// For a process whose owner services its refusals without recording them itself (a program
// unit's run, `airlock run`): its learned syscalls are recorded into `audit` before they run (a
// failed append kills the process), its first errno-answered refusals after they are answered.
// `audit` must outlive the process's servicing.
void recordSyscallsOf(sandbox::SandboxedProcess& process, audit::AuditLog& audit,
                      SyscallRecordSource source);

}  // namespace airlock::broker
