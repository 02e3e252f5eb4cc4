#pragma once
// The times and durations the audit tools accept on their command lines (--since, --until,
// --bucket) and read from records' "time" fields.
//
// Pure functions of their arguments: no clock is read here (a relative --since gets "now" from
// the caller), no global state; callable from any thread.

#include <kj/common.h>

#include <cstdint>
#include <string_view>

namespace airlock::audit {

// An RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` ('t', 'z' and a
// space for 'T' accepted), as microseconds since the Unix epoch. The records' own form
// (2026-11-26T18:33:36.951219Z) is one case of it. Digits past microseconds are dropped.
// Null for anything else, including out-of-range fields (month 13, 24:00, Feb 30).
kj::Maybe<int64_t> parseRfc3339Micros(std::string_view text);

// A duration: a positive whole number followed by s, m, h or d ("90s", "15m", "1h", "7d").
kj::Maybe<int64_t> parseDurationMicros(std::string_view text);

// What --since and --until take: an RFC 3339 date-time, a date `YYYY-MM-DD` (its midnight UTC),
// or a duration meaning that long before `nowMicros` ("1h": an hour ago). Null if none fits.
kj::Maybe<int64_t> parseTimeBound(std::string_view text, int64_t nowMicros);

}  // namespace airlock::audit
