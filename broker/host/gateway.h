#pragma once
// The host-facing servers: Gateway (one per connection, the bootstrap), Session (after
// authentication) and Unit (one per unit lookup; its `call` is the per-call path, unit_call.cc).

#include <sys/types.h>

#include <airlock/capnp/host.capnp.h>

#include "broker/host/routing.h"

namespace airlock::broker {

// `peerUid`/`peerPid` come from SO_PEERCRED on the accepted connection.
class GatewayServer final : public rpc::Gateway::Server {
 public:
  GatewayServer(Routing& routing, uid_t peerUid, pid_t peerPid)
      : routing_(routing), peerUid_(peerUid), peerPid_(peerPid) {}

  kj::Promise<void> authenticate(AuthenticateContext context) override;
  // Grants a Session if some policy names the peer's uid as a caller; audited either way.

 private:
  Routing& routing_;
  uid_t peerUid_;
  pid_t peerPid_;
  bool authenticated_ = false;
};

class SessionServer final : public rpc::Session::Server {
 public:
  SessionServer(Routing& routing, uid_t callerUid) : routing_(routing), callerUid_(callerUid) {}
  kj::Promise<void> unit(UnitContext context) override;

 private:
  Routing& routing_;
  uid_t callerUid_;
};

class UnitServer final : public rpc::Unit::Server {
 public:
  UnitServer(Routing& routing, uid_t callerUid, std::string unit)
      : routing_(routing), callerUid_(callerUid), unit_(kj::mv(unit)) {}

  kj::Promise<void> call(CallContext context) override;
  // receive -> decide (call rules for this caller uid) -> dispatch to a worker with the call's
  // capabilities, under the unit's timeout -> audit (decision and result) -> reply.

 private:
  Routing& routing_;
  uid_t callerUid_;
  std::string unit_;
};

}  // namespace airlock::broker
