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

}  // namespace airlock::broker
