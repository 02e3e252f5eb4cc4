#pragma once
// The keyed hash a secrets.get audit record carries instead of the value: BLAKE2b-256 keyed with
// a key drawn at random when airlockd starts and never written anywhere. Within one broker run,
// equal hashes mean the same value was handed out (e.g. to spot a rotation); across runs, and for
// anyone reading the log, the hash reveals nothing, not even to a guess of the value.

#include <sodium.h>

#include <array>
#include <string>

#include <kj/array.h>

namespace airlock::broker {

class SecretHasher {
 public:
  SecretHasher();   // draws the key (randombytes_buf); sodium_init() must have succeeded
  ~SecretHasher();  // zeroes the key
  SecretHasher(const SecretHasher&) = delete;
  SecretHasher& operator=(const SecretHasher&) = delete;

  std::string hash(kj::ArrayPtr<const kj::byte> value) const;
  // "blake2b-keyed:" + 64 hex digits.

 private:
  std::array<unsigned char, crypto_generichash_KEYBYTES> key_;
};

}  // namespace airlock::broker
