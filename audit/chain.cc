#include "audit/chain.h"

#include <sodium.h>

#include <algorithm>

namespace airlock::audit {

const std::string ZERO_HASH_HEX(HASH_HEX_CHARS, '0');

HashHex lineHash(std::string_view line) {
  unsigned char digest[crypto_generichash_BYTES];
  static_assert(crypto_generichash_BYTES * 2 == HASH_HEX_CHARS);
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(line.data()),
                     line.size(), nullptr, 0);
  char hex[HASH_HEX_CHARS + 1];  // sodium_bin2hex writes a terminating NUL
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  HashHex out;
  std::copy(hex, hex + HASH_HEX_CHARS, out.begin());
  return out;
}

std::string lineHashHex(std::string_view line) { return std::string(view(lineHash(line))); }

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
  // A table, not range compares: hash digits are random, so a branch per digit mispredicts
  // about half the time, and the verifier checks one hash per line.
  static constexpr auto LOWER_HEX = []() {
    std::array<bool, 256> table{};
    for (char c : std::string_view("0123456789abcdef")) table[static_cast<unsigned char>(c)] = true;
    return table;
  }();
  if (text.size() != hexChars) return false;
  bool all = true;
  for (char c : text) all &= LOWER_HEX[static_cast<unsigned char>(c)];
  return all;
}

}  // namespace airlock::audit
