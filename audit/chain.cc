#include "audit/chain.h"

#include <sodium.h>

namespace airlock::audit {

const std::string ZERO_HASH_HEX(HASH_HEX_CHARS, '0');

std::string lineHashHex(std::string_view line) {
  unsigned char digest[crypto_generichash_BYTES];
  static_assert(crypto_generichash_BYTES * 2 == HASH_HEX_CHARS);
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(line.data()),
                     line.size(), nullptr, 0);
  char hex[HASH_HEX_CHARS + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, HASH_HEX_CHARS);
}

std::string checkpointSigningInput(uint64_t covers, std::string_view chainHex,
                                   std::string_view time, bool closing) {
  std::string input = "airlock-checkpoint-v1\n";
  input += std::to_string(covers);
  input += '\n';
  input += chainHex;
  input += '\n';
  input += time;
  input += '\n';
  input += closing ? "closing" : "periodic";
  return input;
}

bool isLowerHex(std::string_view text, size_t hexChars) {
  if (text.size() != hexChars) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace airlock::audit
