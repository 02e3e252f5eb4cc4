#include "sdk/host/handshake.h"

#include <unistd.h>

#include <kj/debug.h>

#include <cstring>

#include "capnp/host_auth.h"

namespace airlock {

namespace _ {

std::string baseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace _

ClientIdentity ClientIdentity::fromFile(const std::string& keyFile) {
  std::string file = _::baseName(keyFile);
  constexpr std::string_view SUFFIX = ".key";
  KJ_REQUIRE(file.size() > SUFFIX.size() && file.substr(file.size() - SUFFIX.size()) == SUFFIX,
             "a client key file is named NAME.key (as airlock keygen --client NAME writes it)",
             keyFile);
  std::string name = file.substr(0, file.size() - SUFFIX.size());
  std::string refused = rpc::validateClientName(name);
  KJ_REQUIRE(refused.empty(), "the key file's name is not a client name", keyFile, refused);
  std::string error;
  KJ_IF_MAYBE(key, audit::loadSigningKey(keyFile, error)) {
    return ClientIdentity{kj::mv(name), kj::mv(*key)};
  }
  KJ_FAIL_REQUIRE("cannot use the client key", error);
}

audit::PublicKey brokerKeyFromFile(const std::string& publicKeyFile) {
  std::string error;
  KJ_IF_MAYBE(key, audit::loadPublicKey(publicKeyFile, error)) { return *key; }
  KJ_FAIL_REQUIRE("cannot use the broker's public key", error);
}

rpc::Session::Client authenticate(rpc::Gateway::Client gateway, const ClientIdentity& identity,
                                  const audit::PublicKey& brokerKey, kj::WaitScope& waitScope) {
  rpc::AuthTranscript transcript;
  transcript.clientName = identity.name;
  transcript.brokerKey = brokerKey.bytes();
  transcript.clientNonce = rpc::freshAuthNonce();

  auto hello = gateway.helloRequest();
  hello.setClientName(identity.name);
  hello.setClientNonce(kj::arrayPtr(transcript.clientNonce.data(), transcript.clientNonce.size()));
  auto answer = hello.send().wait(waitScope);

  auto brokerNonce = answer.getBrokerNonce();
  auto brokerSignature = answer.getBrokerSignature();
  if (brokerNonce.size() != rpc::AUTH_NONCE_BYTES ||
      brokerSignature.size() != rpc::AUTH_SIGNATURE_BYTES) {
    KJ_FAIL_REQUIRE("the peer is not airlockd: malformed handshake answer");
  }
  memcpy(transcript.brokerNonce.data(), brokerNonce.begin(), transcript.brokerNonce.size());
  transcript.peerUid = answer.getPeerUid();
  transcript.peerPid = answer.getPeerPid();
  std::array<unsigned char, 64> signature;
  memcpy(signature.data(), brokerSignature.begin(), signature.size());
  if (!brokerKey.verifies(rpc::authMessage(transcript, rpc::AuthSigner::BROKER), signature)) {
    KJ_FAIL_REQUIRE(kj::str("the peer is not the airlockd whose public key was given (",
                            brokerKey.hex().c_str(),
                            "): its handshake signature does not verify (a different broker, or "
                            "something posing as one); nothing was signed"));
  }
  if (transcript.peerUid != geteuid() || transcript.peerPid != uint32_t(getpid())) {
    KJ_FAIL_REQUIRE(kj::str("airlockd saw uid ", transcript.peerUid, " pid ", transcript.peerPid,
                            " on this connection, not this process (uid ", geteuid(), " pid ",
                            getpid(), "): a relay in between? nothing was signed"));
  }

  auto clientSignature =
      identity.key->sign(rpc::authMessage(transcript, rpc::AuthSigner::CLIENT));
  auto request = answer.getChallenge().authenticateRequest();
  request.setClientSignature(kj::arrayPtr(clientSignature.data(), clientSignature.size()));
  return request.send().wait(waitScope).getSession();
}

}  // namespace airlock
