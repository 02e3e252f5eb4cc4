#include "broker/calls/call_admission.h"

#include "broker/calls/call_grants.h"
#include "broker/calls/dispatch.h"

namespace airlock::broker {

namespace _ {

CallAdmission refused(rpc::ErrorKind kind, std::string ruleId, std::string reason) {
  CallAdmission admission;
  admission.kind = kind;
  admission.ruleId = kj::mv(ruleId);
  admission.reason = kj::mv(reason);
  return admission;
}

}  // namespace _

audit::AuditRecord newCallRecord(Routing& routing, const PolicySet& policySet,
                                 const std::string& callerForAudit, const std::string& unitName,
                                 const std::string& method, size_t payloadBytes) {
  audit::AuditRecord record;
  record.event = "call";
  record.unit = unitName;
  record.caller = callerForAudit;
  record.callId = routing.newCallId();
  record.policyRev = policySet.revision;
  record.args["method"] = method;
  record.args["payload_bytes"] = payloadBytes;
  return record;
}

CallAdmission admitCall(Routing& routing, const std::shared_ptr<const PolicySet>& policySet,
                        const CallOrigin& origin, const std::string& unitName,
                        const std::string& method, size_t payloadBytes,
                        std::vector<policy::CallGrant> grants) {
  const std::string defaultDeny(policy::DEFAULT_DENY_RULE_ID);
  const policy::Caller& caller = origin.caller;
  if (routing.draining) {
    return _::refused(rpc::ErrorKind::UNIT_UNAVAILABLE, defaultDeny,
                      "airlockd is stopping: it finishes the calls it has and takes no new ones");
  }
  if (origin.connection != nullptr &&
      origin.connection->callsInFlight >= MAX_CALLS_IN_FLIGHT_PER_CONNECTION) {
    return _::refused(rpc::ErrorKind::BUSY, "connection.max_calls_in_flight",
                      "this connection has " + std::to_string(origin.connection->callsInFlight) +
                          " calls unanswered, the most one connection may "
                          "(MAX_CALLS_IN_FLIGHT_PER_CONNECTION); wait for answers first");
  }
  std::string callerName(caller.name);
  if (caller.kind == policy::CallerKind::CLIENT &&
      policySet->clients.find(callerName) == nullptr) {
    return _::refused(rpc::ErrorKind::DENIED, defaultDeny,
                      "client " + callerName + "'s key was removed by a policy reload: its "
                      "sessions are revoked");
  }
  const policy::UnitPolicy* found = policySet->find(unitName);
  std::shared_ptr<UnitPool> pool = routing.pool(unitName);
  if (found == nullptr || pool == nullptr) {
    return _::refused(rpc::ErrorKind::NO_SUCH_UNIT, defaultDeny,
                      "no policy defines unit \"" + unitName + "\"");
  }
  if (payloadBytes > found->maxPayloadBytes) {
    return _::refused(rpc::ErrorKind::BAD_REQUEST, "unit.max_payload_bytes",
                      "payload of " + std::to_string(payloadBytes) +
                          " bytes exceeds max_payload_bytes " +
                          std::to_string(found->maxPayloadBytes));
  }
  auto decision = policy::decideCall(*found, caller, method);
  if (!decision.allowed()) {
    return _::refused(rpc::ErrorKind::DENIED, decision.ruleId, decision.reason);
  }
  // Grants before the flow limits: a call refused for what it hands over takes no place.
  auto granted = decideGrants(*found, caller, grants);
  if (!granted.allowed()) {
    return _::refused(rpc::ErrorKind::DENIED, granted.ruleId, granted.reason);
  }
  CallAdmission admission = admitToRun(routing, *found, *pool);
  if (!admission.admitted) return admission;
  admission.grants = kj::mv(grants);
  admission.unit = unitOf(policySet, *found);
  admission.pool = kj::mv(pool);
  admission.decision = kj::mv(decision);
  return admission;
}

CallAdmission admitToRun(Routing& routing, const policy::UnitPolicy& unit, UnitPool& pool) {
  if (auto& parked = pool.parked()) {
    // Fail fast: a parked unit has no worker and starts none until a reload.
    return _::refused(rpc::ErrorKind::UNIT_UNAVAILABLE, parked->ruleId,
                      "unit " + unit.name + " is parked since " + parked->since + ": " +
                          parked->reason + "; fix the cause, then `airlock reload` (or SIGHUP)");
  }
  // Flow limits last: only a call that would otherwise run counts against them.
  UnitFlow& flow = routing.flows[unit.name];
  FlowVerdict verdict = flow.admit(unit, routing.timer.now());
  if (!verdict.admitted) return _::refused(rpc::ErrorKind::BUSY, verdict.ruleId, verdict.reason);
  CallAdmission admission;
  admission.flowSlot = std::make_unique<FlowSlot>(flow);
  admission.admitted = true;
  return admission;
}

bool recordHostRefusal(Routing& routing, HostConnectionState& connection,
                       audit::AuditRecord& record, rpc::ErrorKind kind, const std::string& ruleId,
                       const std::string& reason, std::chrono::steady_clock::time_point started) {
  if (kind == rpc::ErrorKind::BUSY) connection.answeredBusy(routing.timer.now());
  record.decision = "deny";
  record.rule = ruleId;
  record.reason = reason;
  record.result = errorKindName(kind);
  record.durationMicros = microsSince(started);
  return routing.audit.append(record);
}

}  // namespace airlock::broker
