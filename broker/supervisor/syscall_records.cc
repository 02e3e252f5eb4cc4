#include "broker/supervisor/syscall_records.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace airlock::broker {

namespace {

audit::AuditRecord syscallRecord(const SyscallRecordSource& source, const char* event,
                                 const char* decision, const sandbox::RefusedSyscall& call) {
  audit::AuditRecord record;
  record.event = event;
  record.unit = source.unit;
  record.workerPid = source.pid;
  record.caller = source.caller;
  record.callId = source.callId;
  record.args["syscall"] = call.name();
  record.decision = decision;
  record.rule = "sandbox.syscalls";
  return record;
}

}  // namespace

audit::AuditRecord learnedSyscallRecord(const SyscallRecordSource& source,
                                        const sandbox::RefusedSyscall& learned) {
  audit::AuditRecord record = syscallRecord(source, "syscall.learned", "learn", learned);
  record.reason = "not in the unit's syscall groups: " + learned.describe();
  record.result = "let run (the unit learns); later uses of " + learned.name() +
                  " by this process are counted in its exit record (learned_syscalls)";
  return record;
}

audit::AuditRecord answeredSyscallRecord(const SyscallRecordSource& source,
                                         const sandbox::RefusedSyscall& refused) {
  audit::AuditRecord record = syscallRecord(source, "syscall.refused", "deny", refused);
  record.reason = refused.describe();
  record.result = std::string("answered ") + strerrorname_np(refused.answeredErrno) +
                  " (on_refused_syscall = \"errno\"); later refusals of " + refused.name() +
                  " by this process are counted in its exit record (answered_syscalls)";
  return record;
}

void recordSyscallsOf(sandbox::SandboxedProcess& process, audit::AuditLog& audit,
                      SyscallRecordSource source) {
  process.setLearnedRecorder([&audit, source](const sandbox::RefusedSyscall& learned) {
    if (audit.append(learnedSyscallRecord(source, learned))) return true;
    spdlog::error("[{} pid {}] cannot record the learned syscall {}; killing the process",
                  source.unit, source.pid, learned.name());
    return false;
  });
  process.setAnsweredRecorder([&audit, source](const sandbox::RefusedSyscall& refused) {
    if (!audit.append(answeredSyscallRecord(source, refused))) {
      spdlog::error("[{} pid {}] cannot record the refused syscall {}", source.unit, source.pid,
                    refused.name());
    }
  });
}

}  // namespace airlock::broker
