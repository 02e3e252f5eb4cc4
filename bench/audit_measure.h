#pragma once
// The audit log alone: appending records as the broker does, beside the same JSON lines written
// without chain or signatures; and verifying a large log.

#include <cstdint>
#include <string>

#include "audit/hash_ahead_reader.h"

namespace airlock::bench {

struct AuditAppendFigures {
  double chainedPerSecond = 0;    // AuditLog::append, hash chain, group-commit thread, key
  double plainPerSecond = 0;      // the same JSON serialised and written, no chain, no sync
  double durableSyncs = 0;        // fdatasyncs the group-commit thread made for them
  double hashMicros = 0;          // BLAKE2b-256 of one such line
};

// Appends `records` typical fs.open records into files in `dir`, both ways, timed.
AuditAppendFigures measureAuditAppend(const std::string& dir, int records);

// Writes a signed log of `records` records to `dir`, then times `airlock audit verify`'s
// verifier on it; returns seconds (and fails loudly if the log does not verify). `hashing`
// INLINE times the verifier as it was before lines were hashed ahead, for a before/after pair.
double measureVerifySeconds(const std::string& dir, int records,
                            audit::LineHashing hashing = audit::LineHashing::AHEAD);

}  // namespace airlock::bench
