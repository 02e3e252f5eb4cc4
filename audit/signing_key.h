#pragma once
// Ed25519 keys and their files: the broker's key (audit checkpoints, and the identity host
// clients pin) and each host client's key (the handshake, capnp/host_auth.h).
//
// File formats (one line of text each, so they can be pasted and diffed):
//   PREFIX.key  "airlock-ed25519-secret-v1 <64 hex: the 32-byte seed>\n", mode 0600
//   PREFIX.pub  "airlock-ed25519-public-v1 <64 hex: the 32-byte public key>\n", mode 0644
// The tags make a .pub given where a .key is expected (or the reverse) an error, not a silently
// different key. A key's id, as written in checkpoint records, is its public key's 64 hex.
//
// Thread-safe: every function may be called from any thread (each calls sodium_init()).

#include <kj/memory.h>

#include <array>
#include <string>
#include <string_view>

namespace airlock::audit {

inline constexpr char SECRET_KEY_TAG[] = "airlock-ed25519-secret-v1";
inline constexpr char PUBLIC_KEY_TAG[] = "airlock-ed25519-public-v1";

class PublicKey {
 public:
  // Null unless `hex` is 64 lower- or upper-case hex digits.
  static kj::Maybe<PublicKey> fromHex(std::string_view hex);

  std::string hex() const;  // the key id: 64 lower-case hex
  const std::array<unsigned char, 32>& bytes() const { return bytes_; }
  // True if `signatureHex` (128 hex) is this key's Ed25519 signature of `message`. Any
  // malformed signature text is simply false.
  bool verifies(std::string_view message, std::string_view signatureHex) const;
  // The same for a raw 64-byte signature (the host handshake sends bytes, not hex).
  bool verifies(std::string_view message, const std::array<unsigned char, 64>& signature) const;

  bool operator==(const PublicKey& other) const { return bytes_ == other.bytes_; }

 private:
  std::array<unsigned char, 32> bytes_{};
};

class SigningKey {
 public:
  static kj::Own<SigningKey> generate();
  static kj::Own<SigningKey> fromSeed(const std::array<unsigned char, 32>& seed);
  ~SigningKey();  // wipes the secret from memory

  const PublicKey& publicKey() const { return publicKey_; }
  std::string signHex(std::string_view message) const;  // 128 hex
  std::array<unsigned char, 64> sign(std::string_view message) const;  // raw Ed25519 signature
  std::string seedHex() const;  // only for writing the key file

  SigningKey() = default;  // use generate() / fromSeed()
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

 private:
  std::array<unsigned char, 64> secret_{};
  PublicKey publicKey_;
};

// Reading keys: a null result comes with `error`, one line naming the file and what is wrong.
//
// loadSigningKey refuses a file that is not a regular file owned by this process's effective
// uid with no group or other permission bits (0600 or 0400): a key others can read or replace
// signs nothing trustworthy. Symlinks are not followed.
kj::Maybe<kj::Own<SigningKey>> loadSigningKey(const std::string& path, std::string& error);
kj::Maybe<PublicKey> loadPublicKey(const std::string& path, std::string& error);

// Writes PREFIX.key (0600) and PREFIX.pub (0644); refuses to overwrite either. Returns an empty
// string on success, else one line saying what failed (nothing half-written is left behind).
std::string writeKeyPair(const SigningKey& key, const std::string& prefix);

}  // namespace airlock::audit
