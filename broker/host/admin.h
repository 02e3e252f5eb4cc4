#pragma once
// Admin operations on a live airlockd, for the clients the policy's [broker] admins lists: reload
// the policy (as SIGHUP does), report status, and drain then stop (as SIGTERM does). Every request, allowed or not, is one `admin`
// audit record. Event-loop thread only.

#include <airlock/capnp/host.capnp.h>

#include "broker/host/gateway.h"

namespace airlock::broker {

class AdminServer final : public rpc::Admin::Server {
 public:
  AdminServer(Routing& routing, AuthenticatedCaller caller,
              kj::Own<HostConnectionState> connection)
      : routing_(routing), caller_(kj::mv(caller)),
        held_(kj::mv(connection), &HostConnectionState::capabilities) {}

  kj::Promise<void> reload(ReloadContext context) override;
  kj::Promise<void> status(StatusContext context) override;
  kj::Promise<void> drain(DrainContext context) override;
  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override {  // a method Admin lacks is refused and recorded (caps/unknown_method.h)
    return dispatchOffered<rpc::Admin>(*this, routing_, caller_, interfaceId, methodId, context);
  }

 private:
  Routing& routing_;
  AuthenticatedCaller caller_;
  ConnectionHold held_;  // counts against MAX_CAPABILITIES_PER_CONNECTION
};

// Checks that `caller` is an admin under the policy in force (it may have stopped being one
// since the capability was handed out) and records the request as an `admin` audit record.
// Throws, after recording, if it is not allowed or cannot be recorded.
void authorizeAdmin(Routing& routing, const AuthenticatedCaller& caller, const char* operation);

// `airlock status`'s JSON: the policy revision, draining, calls in flight, and per unit its
// instances, worker pids, restarts, calls in flight and limits.
std::string statusJson(const Routing& routing);

}  // namespace airlock::broker
