#include "broker/caps/call_scope.h"

namespace airlock::broker {

audit::AuditRecord CallScope::record(std::string event) const {
  audit::AuditRecord r;
  r.event = std::move(event);
  r.unit = unit.name;
  r.workerPid = workerPid;
  r.caller = caller;
  r.callId = callId;
  r.policyRev = unit.revision;  // the policy this call's capabilities decide with
  return r;
}

policy::Decision CallScope::expiredDecision() {
  policy::Decision decision;
  decision.ruleId = std::string(policy::DEFAULT_DENY_RULE_ID);
  decision.reason = "capability used after its call ended";
  return decision;
}

void recordDecision(audit::AuditRecord& record, const policy::Decision& decision) {
  record.decision = policy::verdictName(decision.verdict);
  record.rule = decision.ruleId;
  record.reason = decision.reason;
}

bool recordAdmitted(audit::AuditLog& audit, const audit::AuditRecord& record,
                    const policy::Decision& decision) {
  audit::AuditRecord admitted = record;
  admitted.event += ADMITTED_EVENT_SUFFIX;
  recordDecision(admitted, decision);
  return audit.append(admitted);
}

kj::Maybe<std::string> refusalAnswer(bool audited, const policy::Decision& decision) {
  if (!audited) return std::string("refused: the broker could not write its audit log");
  if (!decision.allowed()) return "denied by rule " + decision.ruleId + ": " + decision.reason;
  return nullptr;
}

}  // namespace airlock::broker
