#pragma once
// `airlock audit verify`'s engine: walks an audit log and says whether it is the log airlockd
// wrote, and if not, what was done to it and where.
//
// It checks every line is a whole JSON record in the exact form the writer emits, sequence
// continuity, every "prev" hash, every checkpoint (its covered seq and chain hash, its Ed25519
// signature, and against --key which key made it), that the log ends with a closing
// checkpoint, and that the anchor file's checkpoints are the log's. Each finding is classified
// (Finding) so that modification, deletion, reordering, insertion and a cut tail are told apart.
//
// Reads the files only; no side effects. Callable from any thread; with LineHashing::AHEAD it
// hashes each file's lines on one more thread, joined before verifyLog returns. Memory: about
// 8 bytes per record (for duplicate detection), one line per checkpoint, and ~3 MiB of lines in
// flight (hash_ahead_reader.h).

#include <kj/common.h>

#include <cstdint>
#include <string>
#include <vector>

#include "audit/hash_ahead_reader.h"
#include "audit/signing_key.h"

namespace airlock::audit {

enum class Finding {
  UNREADABLE,       // a file could not be read
  MALFORMED,        // a line that is not a whole record (not JSON, missing fields, empty)
  MODIFIED,         // a record's bytes changed: its hash no longer matches what chains to it
  DELETED,          // a seq gap: records removed
  REORDERED,        // seq goes backwards to a value not seen before
  INSERTED,         // a duplicate seq, or a record where none can be (after a closing checkpoint)
  TAIL_CUT,         // the anchor knows a later checkpoint than the log has; a cut last line
  NOT_CLOSED,       // records (or a periodic checkpoint) after the last closing checkpoint
  NO_CHECKPOINT,    // --key given, but the log has no checkpoint to check
  BAD_SIGNATURE,    // a checkpoint's signature does not verify
  WRONG_KEY,        // a checkpoint made with a key other than --key
  ANCHOR_MISMATCH,  // the anchor and the log disagree about a checkpoint
  FILE_MISSING,     // a file of a rotation set continues one that is not given (or was cut)
  FILES_OUT_OF_ORDER,  // a file of a rotation set is given before the file it continues
};

// The words each finding's message starts with: "modified record", "deleted record(s)", ...
const char* findingName(Finding finding);

struct Problem {
  std::string file;
  uint64_t line = 0;  // 1-based; 0 for the file as a whole
  int64_t seq = -1;   // -1 when the line has no usable seq
  Finding kind;
  std::string message;  // starts with findingName(kind), except NOT_CLOSED (see docs/audit.md)

  std::string describe() const;  // "FILE:LINE: seq S: message"
};

struct VerifyOptions {
  std::vector<std::string> logPaths;  // one log, or a rotated set oldest first (see below)
  kj::Maybe<PublicKey> trustedKey;  // --key; null: signatures checked against the key they name
  std::string anchorPath;           // --anchor; empty: none
  // Where line hashes are computed. The report is the same either way (the unit tests compare
  // the two); AHEAD only overlaps the hashing with the walk.
  LineHashing hashing = LineHashing::AHEAD;
  // true: the log must end with a closing checkpoint (a stopped broker's log; NOT_CLOSED
  // otherwise). false: the log may still be being written (a running broker's): everything up
  // to the last signed checkpoint is checked as always, and what follows it — records not yet
  // signed, a last line not yet whole in the last file given, checkpoints after the anchor's
  // last one — is reported in VerifyReport::tail instead of as a problem. No checkpoint at all
  // with trustedKey is still NO_CHECKPOINT: a running broker signs within --checkpoint-ms.
  bool requireClosed = true;
};

// What follows the last signed checkpoint of a log still being written (requireClosed false).
struct OpenTail {
  bool open = false;             // the log does not end with a closing checkpoint
  uint64_t signedThrough = 0;    // seq of the last checkpoint whose signature verified (0: none)
  uint64_t unsignedRecords = 0;  // records after it, which no signature covers yet
  uint64_t lastSeq = 0;          // the last whole record's seq
  bool partialLine = false;      // the last file ends in a line not yet whole (being written)
  uint64_t unanchoredCheckpoints = 0;  // checkpoints after the anchor's last (delivery lags)
};

struct VerifyReport {
  uint64_t records = 0;      // every line, checkpoints included
  uint64_t checkpoints = 0;  // checkpoints whose signature verified
  bool keyChecked = false;   // --key was given
  bool anchorChecked = false;
  std::vector<Problem> problems;  // at most MAX_PROBLEMS, in file order within each check
  uint64_t problemsOmitted = 0;
  OpenTail tail;                  // only with requireClosed false

  static constexpr size_t MAX_PROBLEMS = 1000;  // a shredded log should not print a million lines

  bool ok() const { return problems.empty(); }
  // "ok: N records, M signed checkpoints, chain intact[, ...]"; for an open log also
  // "; open (still being written): K records after seq S not signed yet[, ...]".
  std::string summary() const;
};

VerifyReport verifyLog(const VerifyOptions& options);
// A rotated log (airlockd --audit-rotate-bytes) is verified as one log: give every file, oldest
// first (`audit.jsonl.* audit.jsonl` in shell glob order). Each file after the first must begin
// with the audit.continued record naming the file before it; the files are walked in the order
// those records chain them, so a file given out of order is named once (FILES_OUT_OF_ORDER) and
// the records are still checked, and a file missing from the set is named at the first line of
// the file after the gap (FILE_MISSING). Problems name the file they are in.

}  // namespace airlock::audit
