#include "broker/host/typed_call.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/debug.h>

#include "broker/calls/call_admission.h"
#include "broker/calls/dispatch.h"
#include "broker/caps/call_scope.h"
#include "broker/calls/typed_send.h"

namespace airlock::broker {

namespace _ {

std::string methodLabel(uint64_t interfaceId, uint16_t methodId) {
  char label[48];
  snprintf(label, sizeof(label), "@0x%016llx.%u", static_cast<unsigned long long>(interfaceId),
           static_cast<unsigned>(methodId));
  return label;
}

kj::Exception failure(rpc::ErrorKind kind, const std::string& message) {
  return KJ_EXCEPTION(FAILED, kj::str(errorKindName(kind), ": ", message.c_str()));
}

}  // namespace _

capnp::Capability::Server::DispatchCallResult TypedUnitServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  return {call(interfaceId, methodId, context), false};
}

kj::Promise<void> TypedUnitServer::call(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  auto started = std::chrono::steady_clock::now();
  // Receive.
  std::shared_ptr<const PolicySet> policySet = routing_.policy;
  auto params = context.getParams();
  size_t paramsBytes = params.targetSize().wordCount * sizeof(capnp::word);
  const policy::UnitPolicy* unit = policySet->find(unit_);
  const policy::TypedInterface* typed =
      unit == nullptr ? nullptr : unit->typedInterface.get();
  const policy::TypedInterface::Method* method =
      typed == nullptr ? nullptr : typed->find(interfaceId, methodId);
  std::string methodName =
      method != nullptr ? method->name : _::methodLabel(interfaceId, methodId);

  audit::AuditRecord record = newCallRecord(routing_, *policySet, caller_.audit(), unit_,
                                            methodName, paramsBytes);
  record.args["interface"] = typed != nullptr ? typed->name : "";
  recordGrants(record, grants_.grants);

  auto refuse = [&](rpc::ErrorKind kind, const std::string& ruleId,
                    const std::string& reason) -> kj::Promise<void> {
    if (!recordHostRefusal(routing_, *connection_, record, kind, ruleId, reason, started)) {
      return _::failure(rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log");
    }
    return _::failure(kind, reason);
  };

  // Decide: first that the call names a method of the unit's schema at all.
  const std::string defaultDeny(policy::DEFAULT_DENY_RULE_ID);
  if (unit != nullptr && typed == nullptr) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, defaultDeny,
                  "unit " + unit_ + " has no typed interface ([unit] interface in its policy)");
  }
  if (typed != nullptr && method == nullptr) {
    return refuse(rpc::ErrorKind::NO_SUCH_METHOD, defaultDeny,
                  "method " + methodName + " is not in unit " + unit_ + "'s interface " +
                      typed->describe());
  }
  if (!grants_.refusal.empty()) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, grants_.ruleId, grants_.refusal);
  }
  auto admission =
      admitCall(routing_, policySet, CallOrigin::host(caller_.policy(), *connection_), unit_,
                methodName, paramsBytes, grants_.grants);
  if (!admission.admitted) return refuse(admission.kind, admission.ruleId, admission.reason);
  kj::Array<capnp::word> paramsCopy;
  KJ_IF_MAYBE(copied, copyWithoutCapabilities(params)) {
    paramsCopy = kj::mv(*copied);
  } else {
    return refuse(rpc::ErrorKind::BAD_REQUEST, defaultDeny,
                  "the params hold a capability; none may cross to a worker");
  }
  context.releaseParams();
  record.decision = "allow";
  record.rule = admission.decision.ruleId;
  record.reason = admission.decision.reason;
  // Record: no worker sees a call the log has not taken.
  if (!recordAdmitted(routing_.audit, record, admission.decision)) {
    return _::failure(rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log");
  }

  // Act.
  auto inFlight = kj::heap<InFlight>(routing_, admission.pool);
  auto onConnection =
      kj::heap<ConnectionHold>(kj::addRef(*connection_), &HostConnectionState::callsInFlight);
  Dispatch dispatch{.policySet = policySet,
                    .unit = admission.unit,
                    .pool = admission.pool,
                    .method = methodName,
                    .caller = record.caller,
                    .callId = record.callId,
                    .typed = TypedRequest{interfaceId, methodId, kj::mv(paramsCopy)},
                    .grants = kj::mv(admission.grants)};
  auto outcome = dispatchToWorker(routing_, kj::mv(dispatch));

  // Audit the result, then reply.
  return outcome
      .then([this, context, record = kj::mv(record), started](Outcome o) mutable
                -> kj::Promise<void> {
        recordWorker(record, o);
        record.result = o.describe();
        record.durationMicros = microsSince(started);
        if (!routing_.audit.append(record)) {
          return _::failure(rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log");
        }
        if (!o.ok) return _::failure(o.kind, o.text);
        capnp::FlatArrayMessageReader results(*o.typedResults);
        auto root = results.getRoot<capnp::AnyPointer>();
        context.getResults(root.targetSize()).set(root);
        return kj::READY_NOW;
      })
      .attach(kj::mv(inFlight), kj::mv(onConnection), kj::mv(admission.flowSlot));
}

}  // namespace airlock::broker
