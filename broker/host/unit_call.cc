// The host -> unit call path: UnitServer::call.

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "broker/host/dispatch.h"
#include "broker/host/gateway.h"
#include "broker/policy/decide.h"

namespace airlock::broker {

namespace _ {

void setError(rpc::CallResult::Builder result, rpc::ErrorKind kind, const std::string& message,
              const std::string& ruleId) {
  auto error = result.initError();
  error.setKind(kind);
  error.setMessage(message);
  error.setRuleId(ruleId);
}

}  // namespace _

kj::Promise<void> UnitServer::call(CallContext context) {
  auto started = std::chrono::steady_clock::now();
  // Receive.
  // The policy set this call is decided by, start to end, whatever a reload does meanwhile.
  std::shared_ptr<const PolicySet> policySet = routing_.policy;
  auto params = context.getParams();
  std::string method = params.getMethod();
  auto payloadReader = params.getPayload();

  audit::AuditRecord record;
  record.event = "call";
  record.unit = unit_;
  record.caller = caller_.audit();
  record.callId = routing_.newCallId();
  record.policyRev = policySet->revision;
  record.args["method"] = method;
  record.args["payload_bytes"] = payloadReader.size();

  auto refuse = [&](rpc::ErrorKind kind, const std::string& ruleId, const std::string& reason) {
    record.decision = "deny";
    record.rule = ruleId;
    record.reason = reason;
    record.result = errorKindName(kind);
    record.durationMicros = microsSince(started);
    bool audited = routing_.audit.append(record);
    _::setError(context.getResults().initResult(),
                audited ? kind : rpc::ErrorKind::INTERNAL,
                audited ? reason : "the broker cannot write its audit log", ruleId);
    return kj::READY_NOW;
  };

  // Decide.
  if (routing_.draining) {
    return refuse(rpc::ErrorKind::UNIT_UNAVAILABLE, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "airlockd is stopping: it finishes the calls it has and takes no new ones");
  }
  if (policySet->clients.find(caller_.name) == nullptr) {
    return refuse(rpc::ErrorKind::DENIED, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "client " + caller_.name + "'s key was removed by a policy reload: its "
                  "sessions are revoked");
  }
  const policy::UnitPolicy* found = policySet->find(unit_);
  std::shared_ptr<UnitPool> pool = routing_.pool(unit_);
  if (found == nullptr || pool == nullptr) {
    return refuse(rpc::ErrorKind::NO_SUCH_UNIT, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "no policy defines unit \"" + unit_ + "\"");
  }
  const policy::UnitPolicy& unit = *found;
  auto unitPolicy = unitOf(policySet, unit);
  if (payloadReader.size() > unit.maxPayloadBytes) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, "unit.max_payload_bytes",
                  "payload of " + std::to_string(payloadReader.size()) +
                      " bytes exceeds max_payload_bytes " + std::to_string(unit.maxPayloadBytes));
  }
  auto decision = policy::decideCall(unit, caller_.policy(), method);
  if (!decision.allowed()) {
    return refuse(rpc::ErrorKind::DENIED, decision.ruleId, decision.reason);
  }
  record.decision = "allow";
  record.rule = decision.ruleId;
  record.reason = decision.reason;

  // Act: dispatch to a worker, with this call's capabilities, under the unit's deadline.
  auto inFlight = kj::heap<InFlight>(routing_, pool);
  auto outcome = dispatchToWorker(
      routing_, Dispatch{policySet, unitPolicy, pool, method, kj::heapArray<kj::byte>(payloadReader),
                         record.caller, record.callId, {}, nullptr});

  // Audit the result, then reply.
  return outcome.then([this, context, record = kj::mv(record), started](Outcome o) mutable {
    record.workerPid = o.workerPid;
    record.result = o.describe();
    record.durationMicros = microsSince(started);
    auto result = context.getResults().initResult();
    if (!routing_.audit.append(record)) {
      _::setError(result, rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log", "");
    } else if (o.ok) {
      result.setOk(kj::arrayPtr(reinterpret_cast<const kj::byte*>(o.text.data()), o.text.size()));
    } else {
      _::setError(result, o.kind, o.text, "");
    }
  }).attach(kj::mv(inFlight));
}

}  // namespace airlock::broker
