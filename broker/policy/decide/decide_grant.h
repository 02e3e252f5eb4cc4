#pragma once
// May this caller hand one call this path with these modes? The `grant` rules of the callee unit
// decide, as call rules decide a call: pure, no I/O. A call whose grant is denied is refused as a
// whole before any worker sees it (broker/calls/call_grants.h).

#include <optional>
#include <string_view>
#include <vector>

#include "broker/policy/decide/decide.h"

namespace airlock::policy {

// `descriptor`: the kind of open file the caller hands under `path`, if it hands one instead of
// the path alone (a descriptor grant: the worker opening `path` is served the caller's file).
Decision decideGrant(const UnitPolicy& unit, const Caller& caller, std::string_view path,
                     OpenModes modes, std::optional<DescriptorKind> descriptor = std::nullopt);
// A rule applies when it lists the client (and its uid, if the rule has caller_uid), its path
// pattern matches `path`, and for an allow `modes` ⊆ its modes and a descriptor's kind among its
// `descriptors` (for a deny, any mode in common, however handed). The most specific path wins,
// deny winning ties; none: default-deny. A unit caller never matches (invokes carry no grants).
// `path` must pass validateRequestPath and `modes` be non-empty, a descriptor grant may not ask
// create, and a directory only read, or default-deny refuses it before any rule.

std::vector<RuleMatch> matchingGrantRules(const UnitPolicy& unit, const Caller& caller,
                                          std::string_view path, OpenModes modes,
                                          std::optional<DescriptorKind> descriptor = std::nullopt);
// Every grant rule that applies, ranked as decideGrant ranks them (decide.h's RuleMatch). For
// `airlock policy explain`.

}  // namespace airlock::policy
