#pragma once
// Checks an audit log line by line as it is appended, for `airlock audit tail --verify`: each
// new line must be a whole record in the exact form airlockd writes, with the next seq, whose
// "prev" is the hash of the line before it; a checkpoint must sign exactly the record before it
// with a valid signature (by the trusted key, if one is given); after a closing checkpoint only
// a broker.start (or, first in a rotated file, an audit.continued) may come. The first finding
// is returned the moment its line arrives.
//
// It sees only what follows the first line it is given (whose own prev it cannot check) and
// never the end of the log, so it answers "has a line broken the chain?", not the whole of
// `airlock audit verify` (gaps found later, the anchor, a closing checkpoint at the end).
//
// A plain object; one thread at a time.

#include <kj/common.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/signing_key.h"

namespace airlock::audit {

class ChainFollower {
 public:
  explicit ChainFollower(kj::Maybe<PublicKey> trustedKey) : trustedKey_(trustedKey) {}

  // The next line of the log, without its newline. Empty if it continues the chain; else the
  // finding, starting as `airlock audit verify`'s do ("modified record: ...", "deleted
  // record(s): ...", "bad signature: ..."). After a finding the chain is followed on from this
  // line, so one break is reported once.
  [[nodiscard]] std::string next(std::string_view line);

  uint64_t lines() const { return lines_; }
  uint64_t checkpoints() const { return checkpoints_; }  // signed, and verified
  uint64_t lastSeq() const { return lastSeq_; }

 private:
  std::string checkpoint(const std::string& line);  // the parsed checkpoint's own checks

  kj::Maybe<PublicKey> trustedKey_;
  bool started_ = false;
  bool afterClosing_ = false;
  uint64_t lastSeq_ = 0;
  std::string lastHash_;
  uint64_t lines_ = 0, checkpoints_ = 0;
};

}  // namespace airlock::audit
