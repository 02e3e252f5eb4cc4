#pragma once
// May this caller hand one call this path with these modes? The `grant` rules of the callee unit
// decide, as call rules decide a call: pure, no I/O. A call whose grant is denied is refused as a
// whole before any worker sees it (broker/calls/call_grants.h).

#include <string_view>
#include <vector>

#include "broker/policy/decide/decide.h"

namespace airlock::policy {

Decision decideGrant(const UnitPolicy& unit, const Caller& caller, std::string_view path,
                     OpenModes modes);
// A rule applies when it lists the client (and its uid, if the rule has caller_uid), its path
// pattern matches `path`, and for an allow `modes` ⊆ its modes (for a deny, any mode in common).
// The most specific path wins, deny winning ties; none: default-deny. A unit caller never
// matches (invokes carry no grants). `path` must pass validateRequestPath and `modes` be
// non-empty, or default-deny refuses it before any rule.

std::vector<RuleMatch> matchingGrantRules(const UnitPolicy& unit, const Caller& caller,
                                          std::string_view path, OpenModes modes);
// Every grant rule that applies, ranked as decideGrant ranks them (decide.h's RuleMatch). For
// `airlock policy explain`.

}  // namespace airlock::policy
