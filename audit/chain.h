#pragma once
// The audit log's hash chain and checkpoint signature input: the two byte strings an auditor has
// to reproduce exactly, kept in one place so the writer and the verifier cannot drift apart.
//
// Pure functions; callable from any thread (libsodium's BLAKE2b needs no sodium_init()).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace airlock::audit {

// Hex length of a BLAKE2b-256 digest.
inline constexpr size_t HASH_HEX_CHARS = 64;

// The `prev` of the first record of a log that has no predecessor: 64 zeros.
extern const std::string ZERO_HASH_HEX;

// Lower-case hex BLAKE2b-256 (unkeyed) of one record line exactly as written, without its '\n'.
// This is the canonical encoding: the writer emits keys in a fixed order, compact, so the bytes
// on disk are the record.
std::string lineHashHex(std::string_view line);

// The same hex digits without a heap allocation, for the verifier's per-line loop.
using HashHex = std::array<char, HASH_HEX_CHARS>;
HashHex lineHash(std::string_view line);
inline std::string_view view(const HashHex& hash) { return {hash.data(), hash.size()}; }

// The bytes a checkpoint's Ed25519 signature covers:
//   "airlock-checkpoint-v1\n<covers>\n<chain>\n<time>\n<closing|periodic>"
// `covers` in decimal, `chain` the 64-hex hash of the covered record's line, `time` the
// checkpoint's own "time" field.
std::string checkpointSigningInput(uint64_t covers, std::string_view chainHex,
                                   std::string_view time, bool closing);

// The first record of a file that continues a rotated log (AuditLogOptions::rotateBytes): its
// args name the file before it ("from_file", the name it was renamed to), that file's last seq
// ("from_seq") and its last line's hash ("from_hash", also this record's "prev").
inline constexpr std::string_view CONTINUED_EVENT = "audit.continued";

// True if `text` is exactly `hexChars` lower-case hex digits.
bool isLowerHex(std::string_view text, size_t hexChars);

}  // namespace airlock::audit
