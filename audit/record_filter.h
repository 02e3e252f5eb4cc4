#pragma once
// Which records `airlock audit query` prints: every condition given must hold; a condition
// given several values (--unit a --unit b) holds if any of them does.
//
// A plain value type; matches() is pure and callable from any thread.

#include <kj/common.h>

#include <cstdint>
#include <string>
#include <vector>

#include "audit/record_reader.h"

namespace airlock::audit {

struct RecordFilter {
  std::vector<std::string> units;       // "unit" equals one of these
  std::vector<std::string> operations;  // "event" equals one: "call", "fs.open", "worker.exit"
  std::vector<std::string> decisions;   // "decision" equals one: "allow", "deny", "learn"
  std::vector<std::string> rules;       // "rule" equals one
  // "call_id" equals one, or "args.serving_call_ids" (a worker's own record while it served
  // several calls at once) lists one.
  std::vector<std::string> callIds;
  // The call's outcome (record_outcome.h: ok, denied, crashed, timed-out, busy, ...) is one;
  // only `call` and `invoke` records have one.
  std::vector<std::string> results;
  // "caller" equals one, or one of its comma-separated parts does, or a "client:NAME" part's
  // NAME does: "web", "client:web", "uid:0" and "client:web,uid:0" all match
  // "client:web,uid:0".
  std::vector<std::string> callers;
  kj::Maybe<int64_t> sinceMicros;       // "time" at or after this
  kj::Maybe<int64_t> untilMicros;       // "time" before this
  // One of these is a substring of some value in "args" (strings as they are, numbers and
  // booleans as JSON writes them, at any depth), case-sensitive.
  std::vector<std::string> argsText;

  bool matches(const LoggedRecord& record) const;
};

// True if `text` occurs in a value of `args` (see RecordFilter::argsText).
// True if the record belongs to call `callId` (see RecordFilter::callIds).
bool belongsToCall(const LoggedRecord& record, const std::string& callId);

bool argsContain(const nlohmann::ordered_json& args, const std::string& text);

}  // namespace airlock::audit
