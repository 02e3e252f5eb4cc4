#pragma once
// The bytes each side of the host handshake (host.capnp: Gateway.hello, Challenge.authenticate)
// signs, and the bounds both sides check. Shared by airlockd (broker/host/gateway.cc) and the
// host client SDK (sdk/host/handshake.cc) so the two can never disagree on the transcript.
//
// The signed message, for signer S in {broker, client}:
//
//   "airlock-host-auth-v1/" S "\0"
//   u8 len(clientName) clientName
//   brokerPublicKey[32]
//   u32le peerUid u32le peerPid            (as airlockd saw them with SO_PEERCRED)
//   clientNonce[32] brokerNonce[32]
//
// The prefix separates these signatures from each other (a broker signature is never a valid
// client answer, and the reverse) and from audit checkpoints, which the broker key also signs.
// The client's identity is its name; its key is whichever one airlockd has registered for that
// name (only that key's signature verifies), so the client's public key is not part of it: a
// client using the wrong key still verifies the broker and gets an audited "wrong key" refusal.
// Both nonces bind it to one handshake; the peer credentials bind it to one connection, so a
// relay between a client and airlockd shows up as credentials that are not the client's own.
//
// Pure functions; any thread.

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace airlock::rpc {

inline constexpr size_t AUTH_NONCE_BYTES = 32;
inline constexpr size_t AUTH_SIGNATURE_BYTES = 64;
inline constexpr size_t AUTH_PUBLIC_KEY_BYTES = 32;
// Client names are file names (NAME.pub), policy values and audit text: short and plain.
inline constexpr size_t MAX_CLIENT_NAME_BYTES = 64;

using AuthNonce = std::array<unsigned char, AUTH_NONCE_BYTES>;
using AuthPublicKey = std::array<unsigned char, AUTH_PUBLIC_KEY_BYTES>;

enum class AuthSigner : uint8_t { BROKER, CLIENT };

struct AuthTranscript {
  std::string clientName;  // already validated (validateClientName)
  AuthPublicKey brokerKey{};
  uint32_t peerUid = 0;
  uint32_t peerPid = 0;
  AuthNonce clientNonce{};
  AuthNonce brokerNonce{};
};

// The message `signer` signs for this transcript. KJ_REQUIREs a valid client name.
std::string authMessage(const AuthTranscript& transcript, AuthSigner signer);

// "" if `name` is a client identity name — [a-z0-9-]{1,64}, as unit names — else why not.
std::string validateClientName(std::string_view name);

// A fresh random nonce (libsodium randombytes_buf).
AuthNonce freshAuthNonce();

}  // namespace airlock::rpc
