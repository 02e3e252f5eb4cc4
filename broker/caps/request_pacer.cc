#include "broker/caps/request_pacer.h"

#include <algorithm>

#include <kj/debug.h>

#include "broker/caps/unknown_method.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide.h"

namespace airlock::broker {

kj::Maybe<kj::TimePoint> RequestPacer::turn(const policy::RequestLimits& limits) {
  kj::Duration spacing = kj::SECONDS / std::max<uint64_t>(limits.maxRequestsPerSecond, 1);
  // How far ahead of now the schedule may run before a request has to wait: the burst.
  kj::Duration tolerance = spacing * (std::max<uint64_t>(limits.requestsBurst, 1) - 1);
  kj::TimePoint now = timer_.now();
  kj::TimePoint at = now;
  KJ_IF_MAYBE(next, nextAt_) { at = std::max(*next, now); }
  nextAt_ = at + spacing;
  if (at - now <= tolerance) return nullptr;
  ++delayed_;
  return at - tolerance;
}

namespace {

class PacedServer final : public capnp::Capability::Server {
 public:
  PacedServer(kj::Own<capnp::Capability::Server> inner, capnp::InterfaceSchema schema,
              kj::Own<RequestPacer> pacer, std::shared_ptr<const policy::UnitPolicy> unit,
              kj::Own<CallScope> scope)
      : inner_(kj::mv(inner)), schema_(schema), pacer_(kj::mv(pacer)), unit_(std::move(unit)),
        scope_(kj::mv(scope)) {}

  DispatchCallResult dispatchCall(
      uint64_t interfaceId, uint16_t methodId,
      capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) override {
    KJ_IF_MAYBE(at, pacer_->turn(unit_->requests)) {
      auto waited = pacer_->timer().atTime(*at).then(
          [this, interfaceId, methodId, context]() mutable {
            return pass(interfaceId, methodId, context).promise;
          });
      return {kj::mv(waited), false};
    }
    return pass(interfaceId, methodId, context);
  }

 private:
  // Its turn come: to `inner_`, unless it is not a method of the capability, or the call the
  // capability was handed out for has ended (the one place a capability dies with its call).
  DispatchCallResult pass(uint64_t interfaceId, uint16_t methodId,
                          capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
    // A row of the table (worker_requests.h) on this capability's own interface, or nothing.
    const WorkerRequest* row = offersMethod(schema_, interfaceId, methodId)
                                   ? findWorkerRequest(interfaceId, methodId)
                                   : nullptr;
    if (row == nullptr) {
      return {kj::Promise<void>(refuseUnknownMethod(scope_->audit, scope_->record(""), schema_,
                                                    interfaceId, methodId)),
              false};
    }
    if (scope_->expired()) return {kj::Promise<void>(refuseExpired(*row)), false};
    return inner_->dispatchCall(interfaceId, methodId, context);
  }

  kj::Exception refuseExpired(const WorkerRequest& row) {
    std::string method(row.name);
    auto record = scope_->record(EXPIRED_CAPABILITY_EVENT);
    record.args["method"] = method;
    record.decision = "deny";
    record.rule = std::string(policy::DEFAULT_DENY_RULE_ID);
    record.reason = "capability used after its call ended";
    if (!scope_->audit.append(record)) {
      KJ_LOG(ERROR, "cannot record a request on an expired capability", method);
    }
    return KJ_EXCEPTION(FAILED, kj::str("refused: ", method.c_str(), " on a capability whose call ",
                                        scope_->callId.c_str(), " has ended"));
  }

  kj::Own<capnp::Capability::Server> inner_;
  capnp::InterfaceSchema schema_;
  kj::Own<RequestPacer> pacer_;
  const std::shared_ptr<const policy::UnitPolicy> unit_;  // the rate in force for the call
  kj::Own<CallScope> scope_;  // whose call a refused request is recorded under
};

}  // namespace

capnp::Capability::Client paced(kj::Own<capnp::Capability::Server> inner,
                                capnp::InterfaceSchema schema, kj::Own<RequestPacer> pacer,
                                std::shared_ptr<const policy::UnitPolicy> unit,
                                kj::Own<CallScope> scope) {
  return capnp::Capability::Client(kj::heap<PacedServer>(kj::mv(inner), schema, kj::mv(pacer),
                                                         std::move(unit), kj::mv(scope)));
}

}  // namespace airlock::broker
