#pragma once
// Peer-chosen text in an audit record, held to a size. A method name, a unit name, a worker's
// error text or a path all come from a host or a worker; written whole, a 4 MiB method name on
// every call fills the disk, after which the log fails closed and the broker refuses everything.
// A field past its bound keeps a prefix, its full length and a hash of the whole, so an auditor
// can still tell two long values apart and match one against a copy kept elsewhere.
//
// Pure functions; callable from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace airlock::audit {

// Longest string a record keeps whole: Linux PATH_MAX, so every path the broker accepts is
// recorded as it is, and a record stays a few KiB per field whatever a peer sends.
inline constexpr size_t MAX_RECORD_FIELD_BYTES = 4096;

std::string boundedField(std::string_view text, size_t maxBytes = MAX_RECORD_FIELD_BYTES);
// `text` itself when it is at most `maxBytes` long; otherwise its first `maxBytes` bytes
// followed by " [cut: N bytes, blake2b-256 HEX]" (N the full length, HEX the lower-case BLAKE2b
// of all of it). The prefix may end inside a UTF-8 sequence: the record writer replaces that
// with U+FFFD, as it does any invalid UTF-8.

bool isBounded(std::string_view text, size_t maxBytes = MAX_RECORD_FIELD_BYTES);
// Whether boundedField would keep `text` as it is: the writer's fast path.

}  // namespace airlock::audit
