#pragma once
// Writes one audit record as its JSON line, field by field in the fixed order the log has always
// had, without building a JSON tree first: on a brokered call the tree (a node and an allocation
// per field, then a dump) was most of the record's formatting cost (docs/PERFORMANCE.md, "Audit
// cost on a brokered call"). The bytes are exactly what nlohmann's compact dump of the same
// fields would give — the verifier's scanner accepts a line only in that form — and
// tests/unit/audit/record_line_test.cc checks that against nlohmann for every kind of string.
//
// Pure functions; callable from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/audit_log.h"

namespace airlock::audit {

// The fields every record starts with, which the log (not the caller) supplies.
struct RecordHeader {
  uint64_t seq = 0;
  std::string_view time;  // AuditLog::formatTime
  std::string_view prev;  // the previous line's hash, hex
  bool learning = false;  // the record's unit learns: "mode":"learn" follows "unit"
};

// The record's line, without its '\n'. Invalid UTF-8 in any string (a worker's path, say) is
// replaced by U+FFFD as nlohmann's error_handler_t::replace does, never allowed to fail.
std::string formatRecordLine(const RecordHeader& header, const AuditRecord& record);

// Appends `text` as a JSON string literal, quotes included, in nlohmann's compact form:
// \" \\ \b \f \n \r \t, \u00xx (lower-case) for the other control characters, everything else
// as is, each invalid UTF-8 subsequence as one U+FFFD.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace airlock::audit
