// The host -> unit call path: UnitServer::call.

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "audit/bounded_field.h"
#include "broker/calls/call_admission.h"
#include "broker/calls/call_grants.h"
#include "broker/calls/dispatch.h"
#include "broker/caps/call_scope.h"
#include "broker/host/gateway.h"
#include "broker/host/typed_call.h"
#include "broker/policy/decide/decide.h"
#include "broker/state/flow_limit.h"

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
  kj::TimePoint receivedAt = routing_.timer.now();
  // Receive.
  // The policy set this call is decided by, start to end, whatever a reload does meanwhile.
  std::shared_ptr<const PolicySet> policySet = routing_.policy;
  auto params = context.getParams();
  // A method name no worker can export is kept only as a bounded stand-in (a prefix, its length
  // and its hash), which decideCall refuses: it is recorded in the call's record.
  auto asked = params.getMethod();
  std::string method = audit::boundedField(std::string_view(asked.begin(), asked.size()),
                                           policy::MAX_METHOD_NAME_BYTES);
  auto payloadReader = params.getPayload();
  uint32_t timeoutMs = params.getTimeoutMs();  // 0: the unit's call_timeout_ms

  audit::AuditRecord record = newCallRecord(routing_, *policySet, caller_.audit(), unit_, method,
                                            payloadReader.size());
  if (timeoutMs > 0) record.args["timeout_ms"] = timeoutMs;
  RequestedGrants requested = readGrants(params.getGrants());
  recordGrants(record, requested.grants);

  auto refuse = [&](rpc::ErrorKind kind, const std::string& ruleId, const std::string& reason) {
    bool audited =
        recordHostRefusal(routing_, *connection_, record, kind, ruleId, reason, started);
    _::setError(context.getResults().initResult(),
                audited ? kind : rpc::ErrorKind::INTERNAL,
                audited ? reason : "the broker cannot write its audit log", ruleId);
    return kj::READY_NOW;
  };

  // Decide.
  if (!requested.refusal.empty()) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, requested.ruleId, requested.refusal);
  }
  auto admission = admitCall(routing_, policySet,
                             CallOrigin::host(caller_.policy(), *connection_), unit_, method,
                             payloadReader.size(), kj::mv(requested.grants));
  if (!admission.admitted) return refuse(admission.kind, admission.ruleId, admission.reason);
  record.decision = "allow";
  record.rule = admission.decision.ruleId;
  record.reason = admission.decision.reason;

  // Record: no worker sees a call the log has not taken.
  if (!recordAdmitted(routing_.audit, record, admission.decision)) {
    _::setError(context.getResults().initResult(), rpc::ErrorKind::INTERNAL,
                "the broker cannot write its audit log", "");
    return kj::READY_NOW;
  }

  // Act: dispatch to a worker, with this call's capabilities, under the unit's deadline.
  auto inFlight = kj::heap<InFlight>(routing_, admission.pool);
  auto onConnection =
      kj::heap<ConnectionHold>(kj::addRef(*connection_), &HostConnectionState::callsInFlight);
  Dispatch dispatch{.policySet = policySet,
                    .unit = admission.unit,
                    .pool = admission.pool,
                    .method = method,
                    .payload = kj::heapArray<kj::byte>(payloadReader),
                    .caller = record.caller,
                    .callId = record.callId,
                    .grants = kj::mv(admission.grants)};
  if (timeoutMs > 0) {
    dispatch.notAfter = receivedAt + timeoutMs * kj::MILLISECONDS;
    dispatch.notAfterWhy = "no answer within the caller's timeout_ms " + std::to_string(timeoutMs);
  }
  auto outcome = dispatchToWorker(routing_, kj::mv(dispatch));

  // Audit the result, then reply.
  return outcome.then([this, context, record = kj::mv(record), started](Outcome o) mutable {
    recordWorker(record, o);
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
  }).attach(kj::mv(inFlight), kj::mv(onConnection), kj::mv(admission.flowSlot));
}

kj::Promise<void> UnitServer::typed(TypedContext context) {
  admitCapability(routing_, caller_, *connection_, "Unit.typed");
  // The grants are only copied here: each call on the capability decides them, as `call` does.
  RequestedGrants grants = readGrants(context.getParams().getGrants());
  context.getResults().setCap(kj::heap<TypedUnitServer>(routing_, caller_, unit_,
                                                        kj::addRef(*connection_),
                                                        kj::mv(grants)));
  return kj::READY_NOW;
}

}  // namespace airlock::broker
