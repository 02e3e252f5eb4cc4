#include "broker/host/gateway.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstring>
#include <random>

#include "audit/bounded_field.h"
#include "broker/host/admin.h"
#include "broker/host/seen_nonces.h"
#include "broker/policy/model/printable.h"

namespace airlock::broker {

namespace _ {

// A wrong-key diagnosis tries other registered keys; past this many it says "bad signature"
// instead, so a failed attempt costs the broker a bounded number of verifications.
constexpr size_t WRONG_KEY_SEARCH_LIMIT = 64;

// Client-sent text in audit records: printable ASCII, at most this many bytes.
constexpr size_t MAX_AUDITED_NAME_BYTES = rpc::MAX_CLIENT_NAME_BYTES;

std::string printableName(std::string_view text) {
  return policy::printable(text, MAX_AUDITED_NAME_BYTES);
}

int64_t millis(kj::Duration duration) { return duration / kj::MILLISECONDS; }

// The parts of an auth record common to allows and refusals.
audit::AuditRecord authRecord(const PeerCredentials& peer, std::string_view clientName,
                              const char* step, kj::Duration delay) {
  audit::AuditRecord record;
  record.event = "auth";
  bool named = !clientName.empty() && rpc::validateClientName(clientName).empty();
  record.caller = named ? AuthenticatedCaller{std::string(clientName), peer.uid}.audit()
                        : "uid:" + std::to_string(peer.uid);
  record.args["step"] = step;
  record.args["client"] = printableName(clientName);
  record.args["peer_uid"] = peer.uid;
  record.args["peer_pid"] = peer.pid;
  record.args["backoff_ms"] = millis(delay);
  return record;
}

// Audits a refusal, counts it against the uid, and returns the exception the client gets. The
// client learns only that it was refused: the reason is for the audit log, not for a prober.
kj::Exception refuse(Routing& routing, const PeerCredentials& peer, std::string_view clientName,
                     const char* step, kj::Duration delay, AuthFailure failure,
                     const std::string& detail) {
  auto record = authRecord(peer, clientName, step, delay);
  record.policyRev = routing.policy->revision;
  uint32_t failures = routing.auth.backoff.failed(peer.uid);
  record.args["failure"] = authFailureName(failure);
  record.args["failures"] = failures;
  record.decision = "deny";
  record.rule = "default-deny";
  record.reason = std::string(authFailureName(failure)) + ": " + detail;
  bool audited = routing.audit.append(record);
  spdlog::warn("refused host authentication from uid {} pid {} ({} consecutive failures): {}{}",
               peer.uid, peer.pid, failures, record.reason,
               audited ? "" : " (and the audit log cannot be written)");
  return KJ_EXCEPTION(FAILED, "authentication refused (airlockd's audit log, event auth, says why)");
}

// True if `signature` is `key`'s signature of the client transcript.
bool signedBy(const rpc::AuthTranscript& transcript, const audit::PublicKey& key,
              const std::array<unsigned char, 64>& signature) {
  return key.verifies(rpc::authMessage(transcript, rpc::AuthSigner::CLIENT), signature);
}

// The other registered client whose key made `signature`, if any (WRONG_KEY_SEARCH_LIMIT).
kj::Maybe<std::string> signerAmongOthers(const ClientKeys& clients,
                                         const rpc::AuthTranscript& transcript,
                                         const std::array<unsigned char, 64>& signature) {
  size_t tried = 0;
  for (auto& [name, key] : clients.all()) {
    if (name == transcript.clientName) continue;
    if (++tried > WRONG_KEY_SEARCH_LIMIT) break;
    if (signedBy(transcript, key, signature)) return name;
  }
  return nullptr;
}

capnp::Capability::Server::DispatchCallResult refusedDispatch(
    Routing& routing, const PeerCredentials& peer, std::string_view clientName,
    uint64_t interfaceId, uint16_t methodId) {
  char id[32];
  snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(interfaceId));
  auto exception = refuse(routing, peer, clientName, "other", 0 * kj::SECONDS,
                          AuthFailure::NOT_AUTHENTICATED,
                          std::string("method ") + std::to_string(methodId) + " of interface 0x" +
                              id + " called before authentication; only the handshake is offered");
  return {kj::Promise<void>(kj::mv(exception)), false};
}

}  // namespace _

void admitCapability(Routing& routing, const AuthenticatedCaller& caller,
                     const HostConnectionState& connection, const char* what) {
  if (connection.capabilities < MAX_CAPABILITIES_PER_CONNECTION) return;
  audit::AuditRecord record;
  record.caller = caller.audit();
  record.args["method"] = what;
  record.reason = "the connection already holds " + std::to_string(connection.capabilities) +
                  " capabilities, the most one connection may (MAX_CAPABILITIES_PER_CONNECTION); "
                  "release some first";
  routing.limitRecords.refused("connection.max_capabilities", record);
  kj::throwFatalException(KJ_EXCEPTION(OVERLOADED, kj::str(what, " refused: ", record.reason.c_str())));
}

void refuseHandshakeTimeout(Routing& routing, PeerCredentials peer) {
  kj::Duration zero = 0 * kj::SECONDS;
  _::refuse(routing, peer, "", "deadline", zero, AuthFailure::HANDSHAKE_TIMEOUT,
            "no session within " + std::to_string(routing.handshakeTimeout / kj::MILLISECONDS) +
                " ms of connecting; the connection is closed");
}

const char* authFailureName(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::UNKNOWN_IDENTITY: return "unknown identity";
    case AuthFailure::WRONG_KEY: return "wrong key";
    case AuthFailure::BAD_SIGNATURE: return "bad signature";
    case AuthFailure::REPLAY: return "replay";
    case AuthFailure::OVERSIZED: return "oversized";
    case AuthFailure::MALFORMED: return "malformed";
    case AuthFailure::NOT_AUTHENTICATED: return "not authenticated";
    case AuthFailure::NOT_A_CALLER: return "not a caller";
    case AuthFailure::WRONG_UID: return "wrong uid";
    case AuthFailure::TOO_MANY_ATTEMPTS: return "too many attempts";
    case AuthFailure::HANDSHAKE_TIMEOUT: return "handshake timeout";
  }
  return "malformed";
}

std::string AuthenticatedCaller::audit() const {
  return "client:" + name + ",uid:" + std::to_string(uid);
}

capnp::Capability::Server::DispatchCallResult GatewayServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  if (interfaceId == capnp::typeId<rpc::Gateway>() && methodId == 0) {
    return rpc::Gateway::Server::dispatchCall(interfaceId, methodId, context);
  }
  return _::refusedDispatch(routing_, peer_, "", interfaceId, methodId);
}

kj::Promise<void> GatewayServer::hello(HelloContext context) {
  auto zero = 0 * kj::SECONDS;
  if (helloSeen_) {
    return _::refuse(routing_, peer_, "", "hello", zero, AuthFailure::MALFORMED,
                     "a second hello on one connection (one handshake per connection)");
  }
  helloSeen_ = true;
  auto& backoff = routing_.auth.backoff;
  KJ_IF_MAYBE(attempt, backoff.begin(peer_.uid)) {
    kj::Duration delay = backoff.delayFor(peer_.uid);
    return routing_.timer.afterDelay(delay).then(
        [this, context, attempt = kj::mv(*attempt), delay]() mutable {
          return answerHello(context, kj::mv(attempt), delay);
        });
  }
  return _::refuse(routing_, peer_, "", "hello", zero, AuthFailure::TOO_MANY_ATTEMPTS,
                   std::to_string(AuthBackoff::MAX_PENDING_PER_UID) +
                       " handshakes of this uid are already in flight");
}

kj::Promise<void> GatewayServer::answerHello(HelloContext context, AuthBackoff::Attempt attempt,
                                             kj::Duration delay) {
  auto params = context.getParams();
  auto nameText = params.getClientName();
  std::string_view name(nameText.begin(), nameText.size());
  auto nonceData = params.getClientNonce();
  auto fail = [&](AuthFailure failure, const std::string& detail) {
    return _::refuse(routing_, peer_, name, "hello", delay, failure, detail);
  };
  if (name.size() > rpc::MAX_CLIENT_NAME_BYTES) {
    return fail(AuthFailure::OVERSIZED, "client name of " + std::to_string(name.size()) +
                                            " bytes (at most " +
                                            std::to_string(rpc::MAX_CLIENT_NAME_BYTES) + ")");
  }
  if (nonceData.size() > rpc::AUTH_NONCE_BYTES) {
    return fail(AuthFailure::OVERSIZED, "client nonce of " + std::to_string(nonceData.size()) +
                                            " bytes (exactly " +
                                            std::to_string(rpc::AUTH_NONCE_BYTES) + ")");
  }
  std::string refused = rpc::validateClientName(name);
  if (!refused.empty()) return fail(AuthFailure::MALFORMED, refused);
  if (nonceData.size() != rpc::AUTH_NONCE_BYTES) {
    return fail(AuthFailure::MALFORMED, "client nonce of " + std::to_string(nonceData.size()) +
                                            " bytes (exactly " +
                                            std::to_string(rpc::AUTH_NONCE_BYTES) + ")");
  }
  rpc::AuthTranscript transcript;
  memcpy(transcript.clientNonce.data(), nonceData.begin(), rpc::AUTH_NONCE_BYTES);
  if (!routing_.auth.nonces.insert(transcript.clientNonce)) {
    return fail(AuthFailure::REPLAY, "this client nonce was used by an earlier hello");
  }
  const audit::PublicKey* clientKey = nullptr;
  KJ_IF_MAYBE(key, routing_.policy->clients.find(name)) { clientKey = key; }
  if (clientKey == nullptr) {
    return fail(AuthFailure::UNKNOWN_IDENTITY, "no client key named \"" + std::string(name) +
                                                   "\" (a NAME.pub in --client-keys)");
  }
  transcript.clientName = std::string(name);
  transcript.brokerKey = routing_.auth.brokerKey.publicKey().bytes();
  transcript.peerUid = peer_.uid;
  transcript.peerPid = static_cast<uint32_t>(peer_.pid);
  transcript.brokerNonce = rpc::freshAuthNonce();
  auto signature =
      routing_.auth.brokerKey.sign(rpc::authMessage(transcript, rpc::AuthSigner::BROKER));

  auto results = context.getResults();
  results.setBrokerNonce(kj::arrayPtr(transcript.brokerNonce.data(), transcript.brokerNonce.size()));
  results.setPeerUid(transcript.peerUid);
  results.setPeerPid(transcript.peerPid);
  results.setBrokerSignature(kj::arrayPtr(signature.data(), signature.size()));
  results.setChallenge(kj::heap<ChallengeServer>(routing_, peer_, kj::mv(transcript), *clientKey,
                                                 kj::mv(attempt), delay,
                                                 kj::addRef(*connection_)));
  return kj::READY_NOW;
}

capnp::Capability::Server::DispatchCallResult ChallengeServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  if (interfaceId == capnp::typeId<rpc::Challenge>() && methodId == 0) {
    return rpc::Challenge::Server::dispatchCall(interfaceId, methodId, context);
  }
  return _::refusedDispatch(routing_, peer_, transcript_.clientName, interfaceId, methodId);
}

kj::Promise<void> ChallengeServer::authenticate(AuthenticateContext context) {
  const std::string& name = transcript_.clientName;
  auto fail = [&](AuthFailure failure, const std::string& detail) {
    return _::refuse(routing_, peer_, name, "authenticate", delay_, failure, detail);
  };
  if (answered_) return fail(AuthFailure::REPLAY, "a second answer to one challenge");
  answered_ = true;
  auto slot = kj::mv(attempt_);  // this attempt is over whatever happens below

  auto signatureData = context.getParams().getClientSignature();
  if (signatureData.size() > rpc::AUTH_SIGNATURE_BYTES) {
    return fail(AuthFailure::OVERSIZED, "signature of " + std::to_string(signatureData.size()) +
                                            " bytes (exactly 64)");
  }
  if (signatureData.size() != rpc::AUTH_SIGNATURE_BYTES) {
    return fail(AuthFailure::MALFORMED, "signature of " + std::to_string(signatureData.size()) +
                                            " bytes (exactly 64)");
  }
  std::array<unsigned char, 64> signature;
  memcpy(signature.data(), signatureData.begin(), signature.size());
  if (!_::signedBy(transcript_, clientKey_, signature)) {
    KJ_IF_MAYBE(other, _::signerAmongOthers(routing_.policy->clients, transcript_, signature)) {
      return fail(AuthFailure::WRONG_KEY, "signed with the key of client \"" + *other +
                                              "\", not with " + name + ".pub's");
    }
    return fail(AuthFailure::BAD_SIGNATURE,
                "the answer does not verify with " + name +
                    ".pub for this connection's nonces and credentials (wrong key, or an answer "
                    "made for another handshake)");
  }
  AuthenticatedCaller caller{name, peer_.uid};
  Admission admission = routing_.admits(caller.policy());
  if (admission.kind == Admission::NOT_NAMED) {
    return fail(AuthFailure::NOT_A_CALLER, "no unit's call rules name client " + name);
  }
  if (admission.kind == Admission::WRONG_UID) {
    return fail(AuthFailure::WRONG_UID, "the call rules naming client " + name +
                                            " do not list uid " + std::to_string(peer_.uid));
  }
  routing_.auth.backoff.succeeded(peer_.uid);
  auto record = _::authRecord(peer_, name, "authenticate", delay_);
  record.policyRev = routing_.policy->revision;
  record.decision = "allow";
  record.rule = admission.ruleId;
  record.reason = caller.policy().describe() + " proved its key; admitted by rule " +
                  admission.ruleId;
  if (!routing_.audit.append(record)) {
    return KJ_EXCEPTION(FAILED, "authentication refused: the broker cannot write its audit log");
  }
  connection_->authenticate();
  context.getResults().setSession(
      kj::heap<SessionServer>(routing_, kj::mv(caller), kj::addRef(*connection_)));
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::admin(AdminContext context) {
  authorizeAdmin(routing_, caller_, "open");
  admitCapability(routing_, caller_, *connection_, "Session.admin");
  context.getResults().setAdmin(kj::heap<AdminServer>(routing_, caller_, kj::addRef(*connection_)));
  return kj::READY_NOW;
}

capnp::Capability::Server::DispatchCallResult SessionServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  return dispatchOffered<rpc::Session>(*this, routing_, caller_, interfaceId, methodId, context);
}

capnp::Capability::Server::DispatchCallResult UnitServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  return dispatchOffered<rpc::Unit>(*this, routing_, caller_, interfaceId, methodId, context);
}

kj::Promise<void> SessionServer::unit(UnitContext context) {
  // A name no unit can have is kept only as a bounded stand-in (a prefix, its length and its
  // hash): it is refused as no such unit, and recorded with every call on it.
  auto asked = context.getParams().getName();
  std::string name = audit::boundedField(std::string_view(asked.begin(), asked.size()),
                                         policy::MAX_UNIT_NAME_BYTES);
  admitCapability(routing_, caller_, *connection_, "Session.unit");
  context.getResults().setUnit(
      kj::heap<UnitServer>(routing_, caller_, kj::mv(name), kj::addRef(*connection_)));
  return kj::READY_NOW;
}

}  // namespace airlock::broker
