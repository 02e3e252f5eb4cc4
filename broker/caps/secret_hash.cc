#include "broker/caps/secret_hash.h"

#include <kj/debug.h>

namespace airlock::broker {

SecretHasher::SecretHasher() {
  KJ_REQUIRE(sodium_init() >= 0, "sodium_init failed: no random key for secret hashes");
  randombytes_buf(key_.data(), key_.size());
}

SecretHasher::~SecretHasher() { sodium_memzero(key_.data(), key_.size()); }

std::string SecretHasher::hash(kj::ArrayPtr<const kj::byte> value) const {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof(digest), value.begin(), value.size(), key_.data(),
                     key_.size());
  char hex[sizeof(digest) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string("blake2b-keyed:") + hex;
}

}  // namespace airlock::broker
