#include "capnp/host_auth.h"

#include <sodium.h>

#include <kj/debug.h>

namespace airlock::rpc {

namespace _ {

void appendU32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((value >> shift) & 0xff);
}

template <size_t N>
void appendBytes(std::string& out, const std::array<unsigned char, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace _

std::string authMessage(const AuthTranscript& transcript, AuthSigner signer) {
  KJ_REQUIRE(validateClientName(transcript.clientName).empty(), "invalid client name");
  std::string message = signer == AuthSigner::BROKER ? "airlock-host-auth-v1/broker"
                                                     : "airlock-host-auth-v1/client";
  message += '\0';
  message += static_cast<char>(transcript.clientName.size());
  message += transcript.clientName;
  _::appendBytes(message, transcript.brokerKey);
  _::appendU32(message, transcript.peerUid);
  _::appendU32(message, transcript.peerPid);
  _::appendBytes(message, transcript.clientNonce);
  _::appendBytes(message, transcript.brokerNonce);
  return message;
}

std::string validateClientName(std::string_view name) {
  if (name.empty()) return "client name is empty";
  if (name.size() > MAX_CLIENT_NAME_BYTES) {
    return "client name is longer than " + std::to_string(MAX_CLIENT_NAME_BYTES) + " bytes";
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return "client name may hold only a-z, 0-9 and '-'";
    }
  }
  return "";
}

AuthNonce freshAuthNonce() {
  KJ_ASSERT(sodium_init() >= 0, "sodium_init failed");
  AuthNonce nonce;
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

}  // namespace airlock::rpc
