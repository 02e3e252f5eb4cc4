#pragma once
// Calls on a unit's typed interface (Unit.typed in capnp/host.capnp): a membrane between the host
// and the unit's workers that lets through exactly what `Unit.call` would — each call decided
// by the unit's call rules under the method's name from the policy's schema, audited, and sent
// to a worker bound to that call's capabilities — and no capability in either direction.
// Event-loop thread only.

#include <capnp/any.h>
#include <capnp/capability.h>

#include <string>

#include "broker/calls/call_grants.h"
#include "broker/host/gateway.h"

namespace airlock::broker {

// Bounds what one typed call may carry: the same as a generic call's payload (the unit's
// max_payload_bytes), counted as the params' total size in words * 8.
class TypedUnitServer final : public capnp::Capability::Server {
 public:
  // `grants`: what Unit.typed was handed, copied; every call on this capability carries them and
  // decides them anew (a reload may change the grant rules between two calls).
  TypedUnitServer(Routing& routing, AuthenticatedCaller caller, std::string unit,
                  kj::Own<HostConnectionState> connection, RequestedGrants grants = {})
      : routing_(routing), caller_(kj::mv(caller)), unit_(kj::mv(unit)),
        connection_(kj::mv(connection)),
        held_(kj::addRef(*connection_), &HostConnectionState::capabilities),
        grants_(kj::mv(grants)) {}

  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;
  // receive -> name the method from the unit's schema -> decide (call rules) -> dispatch to a
  // worker's `bind(caps)` and pipeline the call on what it returns, under the unit's timeout ->
  // audit -> reply (results copied without capabilities), or an exception naming the error kind.

 private:
  kj::Promise<void> call(uint64_t interfaceId, uint16_t methodId,
                         capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context);

  Routing& routing_;
  AuthenticatedCaller caller_;
  std::string unit_;
  kj::Own<HostConnectionState> connection_;  // paused after a `busy` answer
  ConnectionHold held_;                      // counts against MAX_CAPABILITIES_PER_CONNECTION
  const RequestedGrants grants_;
};

}  // namespace airlock::broker
