#pragma once
// The grants a host hands one call (capnp/host.capnp `Grant`): copied out of the request,
// bounded, put on the call's record, and decided by the unit's `grant` rules within the one
// admission of the call (call_admission.h), before any worker sees it. Event-loop thread only.

#include <capnp/list.h>

#include <string>
#include <vector>

#include <airlock/capnp/host.capnp.h>

#include "audit/audit_log.h"
#include "broker/policy/decide/decide.h"
#include "broker/policy/model/call_grant.h"

namespace airlock::broker {

// What the host asked, copied: each path cut one byte past MAX_REQUEST_PATH (so
// validateRequestPath still refuses it), no rule yet; a descriptor grant's descriptor received
// and checked (granted_descriptor.h). `refusal` is set when the call is a bad request before any
// rule: more than MAX_GRANTS_PER_CALL grants (`grants` then holds the first
// MAX_GRANTS_PER_CALL only; rule call.max_grants), or a descriptor grant without a descriptor or
// with one that cannot be handed as asked (rule call.grant_descriptor). `ruleId` names which.
inline constexpr char MAX_GRANTS_RULE_ID[] = "call.max_grants";
inline constexpr char GRANT_DESCRIPTOR_RULE_ID[] = "call.grant_descriptor";
struct RequestedGrants {
  std::vector<policy::CallGrant> grants;
  std::string refusal;
  std::string ruleId = MAX_GRANTS_RULE_ID;
};
RequestedGrants readGrants(capnp::List<rpc::Grant>::Reader wire);

// Puts `grants` on a call record as args.grants: [{"path", "mode"}, ...], in the call's order
// (a request allowed through one names it by that index). Nothing when there are none, so a
// call without grants keeps the record it always had.
void recordGrants(audit::AuditRecord& record, policy::CallGrants grants);

// Decides every grant by `unit`'s grant rules for `caller`, in order, and sets each one's `rule`.
// The first denied decides the whole: its decision, the reason naming the grant ("grant #1
// /srv/docs/b.xml (read): ..."). All allowed: an allow with no rule (the call rule decides the
// call). Borrows `unit`: the rules set point into it.
policy::Decision decideGrants(const policy::UnitPolicy& unit, const policy::Caller& caller,
                              std::vector<policy::CallGrant>& grants);

}  // namespace airlock::broker
