#pragma once
// What one audit record tells `airlock policy suggest`: the brokered requests (fs.*, net.connect)
// a unit made that a policy must allow for the unit to do the same again. Reads only the record's
// own fields; a record of any other shape is no evidence. Pure.

#include <vector>

#include "audit/record_reader.h"
#include "broker/policy/suggest/suggest.h"

namespace airlock::cli {

// The evidence in `record` (0 or 1 request; 2 for fs.rename, one per path):
//   - decision "allow" (already allowed) or "learn" (performed by a learning unit);
//   - decision "deny" only from an enforcing unit (no "mode":"learn": a learning unit denied only
//     what lay outside its bounds) and only when no rule matched (rule default-deny, reason
//     "no rule allows ..."): a request refused before matching (a bad path) or by a deny rule
//     someone wrote is never evidence.
// Paths must pass validateRequestPath; hosts and ports must be what the broker records.
// Also a syscall: a learning unit's syscall.learned, or an enforcing unit's syscall.refused (one
// answered under on_refused_syscall = "errno").
std::vector<policy::Evidence> evidenceOf(const audit::LoggedRecord& record);

}  // namespace airlock::cli
