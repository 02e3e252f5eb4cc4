#pragma once
// A strict reader of one audit line in the exact form the writer emits, for the verifier's common
// case. The writer emits every record in nlohmann::json's compact dump form (checkpoints through
// nlohmann itself, other records through audit/record_line.h, tested against it), so a line is only
// valid if re-encoding it gives the same bytes; proving that by parsing and re-serialising each
// line was most of `airlock audit verify`'s time (see docs/PERFORMANCE.md). This scanner proves
// it in one pass without allocating, for the lines it fully understands, and says "not proven"
// for everything else, which the verifier then hands to the general parser. It never decides
// that a line is bad: only the general parser's verdict (and message) is ever reported.
//
// Pure function; callable from any thread.

#include <kj/common.h>

#include <cstdint>
#include <string_view>

namespace airlock::audit {

// What the verifier follows the chain by. The views point into the scanned line.
struct ScannedRecord {
  uint64_t seq = 0;
  std::string_view prev;   // 64 lower-case hex digits
  std::string_view event;  // as written between the quotes; compare only with escape-free words
};

// The record, if `line` (without its '\n') is provably in nlohmann's compact canonical form —
// one JSON object; no whitespace outside strings; strings valid UTF-8 with only the escapes the
// serialiser emits (\" \\ \b \f \n \r \t, \u00xx for other control characters); integers
// without sign, leading zero or overflow; no repeated key in any object; nesting at most
// MAX_SCAN_DEPTH — and has an unsigned "seq", a 64-hex "prev" and a string "event".
// Null: not proven (a float, a negative number, a duplicate key, a bad byte, a missing field,
// ...); the caller must decide with a general JSON parser.
kj::Maybe<ScannedRecord> scanCanonicalRecord(std::string_view line);

inline constexpr int MAX_SCAN_DEPTH = 32;  // records nest 2 deep; deeper goes the slow way

}  // namespace airlock::audit
