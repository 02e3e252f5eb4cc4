#pragma once
// Audit records of refusals a peer can cause as fast as it likes: a connection over a cap, a
// message over its size bound, a capability or call over a connection's bound. Each is recorded,
// but at most once per LIMIT_RECORD_EVERY for each bound, and that record counts the refusals
// left unrecorded since the one before: enough for an auditor to see an attack and its size,
// never a way for it to fill the disk. Event-loop thread only; one per airlockd, in Routing.

#include <kj/time.h>
#include <kj/timer.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "audit/audit_log.h"

namespace airlock::broker {

// One record per bound per second: a flood of a million refusals writes a few records a second.
inline constexpr kj::Duration LIMIT_RECORD_EVERY = 1 * kj::SECONDS;

class LimitRecords {
 public:
  // Borrows both; they outlive it.
  LimitRecords(audit::AuditLog& audit, kj::Timer& timer) : audit_(audit), timer_(timer) {}

  void refused(std::string_view bound, audit::AuditRecord record);
  // Records `record` as event "limit", decision "deny", rule `bound` (the bound's name as
  // SECURITY.md gives it, e.g. "broker.max_unauthenticated_connections"), with
  // args.unrecorded_since_last = refusals by this bound since its last record; or, within
  // LIMIT_RECORD_EVERY of that record, only counts this one.

 private:
  struct Tally {
    kj::Maybe<kj::TimePoint> lastRecord;
    uint64_t unrecorded = 0;
  };
  audit::AuditLog& audit_;
  kj::Timer& timer_;
  std::map<std::string, Tally, std::less<>> tallies_;
};

}  // namespace airlock::broker
