#pragma once
// The host-facing servers: Gateway (one per connection, the bootstrap, offering only `hello`),
// Challenge (one per hello, offering only `authenticate`), Session (only from a successful
// `authenticate`) and Unit (one per unit lookup; its `call` is the per-call path, unit_call.cc).
// The handshake's bytes are in capnp/host_auth.h; its bounds and back-off in SECURITY.md.
// Event-loop thread only.

#include <sys/types.h>

#include <airlock/capnp/host.capnp.h>

#include "broker/caps/unknown_method.h"
#include "broker/host/auth_backoff.h"
#include "broker/state/host_connection.h"
#include "broker/state/routing.h"
#include "capnp/host_auth.h"

namespace airlock::broker {

// From SO_PEERCRED on the accepted connection.
struct PeerCredentials {
  uid_t uid = 0;
  pid_t pid = 0;
};

// A host that completed the handshake on a connection with these credentials.
struct AuthenticatedCaller {
  std::string name;
  uid_t uid = 0;
  policy::Caller policy() const { return policy::Caller{name, uid}; }
  std::string audit() const;  // "client:web,uid:1000": the audit records' `caller`
};

// Why a handshake was refused: the `failure` of its audit record.
enum class AuthFailure : uint8_t {
  UNKNOWN_IDENTITY,   // no NAME.pub in --client-keys
  WRONG_KEY,          // signed with another registered client's key
  BAD_SIGNATURE,      // the answer does not verify (another key, another nonce, a replay)
  REPLAY,             // a client nonce seen before, or a second answer to one challenge
  OVERSIZED,          // an argument longer than its bound
  MALFORMED,          // an argument of the wrong form, or a second hello on a connection
  NOT_AUTHENTICATED,  // anything but the handshake called before it succeeded
  NOT_A_CALLER,       // the key is right, but no call rule names the client
  WRONG_UID,          // rules name the client, but not for the connection's uid
  TOO_MANY_ATTEMPTS,  // AuthBackoff::MAX_PENDING_PER_UID handshakes of this uid in flight
  HANDSHAKE_TIMEOUT,  // no session within Routing::handshakeTimeout of connecting
};
const char* authFailureName(AuthFailure failure);  // "unknown identity", "wrong key", ...

// The dispatch of a host-facing capability offering `Interface`: its own method, or a refusal of
// any other, recorded under the authenticated caller (caps/unknown_method.h).
template <typename Interface, typename Server>
capnp::Capability::Server::DispatchCallResult dispatchOffered(
    Server& server, Routing& routing, const AuthenticatedCaller& caller, uint64_t interfaceId,
    uint16_t methodId, capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  auto schema = capnp::Schema::from<Interface>();
  if (offersMethod(schema, interfaceId, methodId)) {
    return server.Interface::Server::dispatchCall(interfaceId, methodId, context);
  }
  audit::AuditRecord record;
  record.caller = caller.audit();
  return {kj::Promise<void>(
              refuseUnknownMethod(routing.audit, kj::mv(record), schema, interfaceId, methodId)),
          false};
}

// Throws (OVERLOADED) if the connection already holds MAX_CAPABILITIES_PER_CONNECTION
// capabilities, recording the refusal (rate-limited). `what` names the method ("Session.unit").
void admitCapability(Routing& routing, const AuthenticatedCaller& caller,
                     const HostConnectionState& connection, const char* what);

// Records (and counts against the uid) a connection cut because it did not authenticate within
// the deadline.
void refuseHandshakeTimeout(Routing& routing, PeerCredentials peer);

class GatewayServer final : public rpc::Gateway::Server {
 public:
  GatewayServer(Routing& routing, PeerCredentials peer, kj::Own<HostConnectionState> connection)
      : routing_(routing), peer_(peer), connection_(kj::mv(connection)) {}

  kj::Promise<void> hello(HelloContext context) override;
  // Bounds and checks the arguments, waits out the uid's back-off, then answers with a fresh
  // broker nonce, its signature of the transcript and a one-shot Challenge. Every refusal is
  // audited and counts as a failure of the uid.

  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;
  // Anything but `hello` (e.g. a Session method called on the bootstrap) is refused and audited
  // as NOT_AUTHENTICATED.

 private:
  kj::Promise<void> answerHello(HelloContext context, AuthBackoff::Attempt attempt,
                                kj::Duration delay);

  Routing& routing_;
  PeerCredentials peer_;
  kj::Own<HostConnectionState> connection_;
  bool helloSeen_ = false;
};

class ChallengeServer final : public rpc::Challenge::Server {
 public:
  ChallengeServer(Routing& routing, PeerCredentials peer, rpc::AuthTranscript transcript,
                  audit::PublicKey clientKey, AuthBackoff::Attempt attempt, kj::Duration delay,
                  kj::Own<HostConnectionState> connection)
      : routing_(routing), peer_(peer), transcript_(kj::mv(transcript)), clientKey_(clientKey),
        attempt_(kj::mv(attempt)), delay_(delay), connection_(kj::mv(connection)) {}

  kj::Promise<void> authenticate(AuthenticateContext context) override;
  // One use. Verifies the client's signature of the transcript with its registered key, then
  // admits it if some unit's call rules name it (for this uid). Audited either way.

  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;

 private:
  Routing& routing_;
  PeerCredentials peer_;
  rpc::AuthTranscript transcript_;
  audit::PublicKey clientKey_;
  kj::Maybe<AuthBackoff::Attempt> attempt_;  // the uid's in-flight slot, until answered
  kj::Duration delay_;
  kj::Own<HostConnectionState> connection_;
  bool answered_ = false;
};

class SessionServer final : public rpc::Session::Server {
 public:
  SessionServer(Routing& routing, AuthenticatedCaller caller,
                kj::Own<HostConnectionState> connection)
      : routing_(routing), caller_(kj::mv(caller)), connection_(kj::mv(connection)) {}
  kj::Promise<void> unit(UnitContext context) override;
  kj::Promise<void> admin(AdminContext context) override;  // admin.h; [broker] admins only
  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;  // a method Session lacks is refused and recorded (caps/unknown_method.h)

 private:
  Routing& routing_;
  AuthenticatedCaller caller_;
  kj::Own<HostConnectionState> connection_;
};

class UnitServer final : public rpc::Unit::Server {
 public:
  UnitServer(Routing& routing, AuthenticatedCaller caller, std::string unit,
             kj::Own<HostConnectionState> connection)
      : routing_(routing), caller_(kj::mv(caller)), unit_(kj::mv(unit)),
        connection_(kj::mv(connection)),
        held_(kj::addRef(*connection_), &HostConnectionState::capabilities) {}

  kj::Promise<void> call(CallContext context) override;
  // receive -> decide (call rules for this client and uid) -> dispatch to a worker with the
  // call's capabilities, under the unit's timeout -> audit (decision and result) -> reply.
  kj::Promise<void> typed(TypedContext context) override;  // a TypedUnitServer (typed_call.h)
  kj::Promise<void> run(RunContext context) override;
  // A [unit] program unit: the same admission as a call (method "run") -> record -> one run of
  // the program in a fresh sandbox under the deadline -> record the exit -> reply (unit_run.cc).
  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;  // a method Unit lacks is refused and recorded (caps/unknown_method.h)

 private:
  Routing& routing_;
  AuthenticatedCaller caller_;
  std::string unit_;
  kj::Own<HostConnectionState> connection_;  // paused after a `busy` answer
  ConnectionHold held_;                      // counts against MAX_CAPABILITIES_PER_CONNECTION
};

}  // namespace airlock::broker
