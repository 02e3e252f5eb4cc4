#pragma once
// Policy decisions: pure functions of a unit's policy and a request. No I/O, no allocation
// beyond the returned reason.
//
// Evaluation: among the rules of the request's operation whose conditions match, the most
// specific wins; between equally specific matches, deny wins; if none matches, the implicit
// rule DEFAULT_DENY_RULE_ID denies. docs/policy.md states the same with examples.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/model/call_grant.h"
#include "broker/policy/model/policy.h"

namespace airlock::policy {

inline constexpr std::string_view DEFAULT_DENY_RULE_ID = "default-deny";

// LEARN: a learning unit's rules deny the request (ruleId names the rule that would have decided
// it: DEFAULT_DENY_RULE_ID or a deny rule), but it lies within the unit's learn grants, so it is
// performed (`allowed()`) and recorded as decision "learn" (policy.h UnitMode). Only requests that
// got as far as matching rules are ever learned: one refused before that (a bad path, an address
// no policy may reach) stays denied.
enum class Verdict : uint8_t { ALLOW, DENY, LEARN };

struct Decision {
  Verdict verdict = Verdict::DENY;
  std::string ruleId;          // the deciding rule, or DEFAULT_DENY_RULE_ID
  std::string reason;          // one line, e.g. "path matches /srv/images/** (thumbnailer.toml:12)"
  const Rule* rule = nullptr;
  // The deciding rule; null for the default; borrowed from the policy. For LEARN, the learn
  // grant (UnitPolicy::learnGrants) the request lies within: its root is where the broker acts.
  int grant = -1;
  // When a `granted_only` rule decided: the index of the call's grant that let it match (a
  // descriptor grant is then where the broker acts, not the rule's root); -1 otherwise.

  bool allowed() const { return verdict != Verdict::DENY; }
  bool learned() const { return verdict == Verdict::LEARN; }
};
const char* verdictName(Verdict verdict);  // "allow", "deny", "learn": the audit's decision

Decision decideFsOpen(const UnitPolicy& unit, std::string_view path, OpenModes modes,
                      CallGrants grants = {});
// `grants`: what the current call was handed (call_grant.h); a `granted_only` rule matches only
// a request one of them covers, and when such a rule decides, the decision's ruleId names the
// grant ("<grant rule id>#<index>") and `rule` is the fs.open rule, beneath whose root the broker
// acts. A request outside any call (a brokered syscall) passes none.
Decision decideCall(const UnitPolicy& unit, const Caller& caller, std::string_view method);
// A client caller matches rules listing it in `caller` (and its uid in `caller_uid`, if any); a
// unit caller (Caller::unit) matches rules listing it in `caller_unit`. Never the other list.
Decision decideInvoke(const UnitPolicy& unit, std::string_view callee, std::string_view method);
// `unit` is the caller: may it invoke callee.method? Rules list exact unit names; a method
// listed by name beats "*", deny wins ties. The callee's own call rules are decided separately
// (decideCall with Caller::unit).
Decision decideFsPath(const UnitPolicy& unit, Operation op, std::string_view path);
// fs.stat, fs.list, fs.mkdir, fs.unlink: the same ranking as decideFsOpen over the rules of `op`,
// with no modes. `op` must be one of those four (or FS_SYMLINK / FS_RENAME for one of their
// paths); anything else is denied by default.
Decision decideFsRename(const UnitPolicy& unit, std::string_view from, std::string_view to);
// Both paths decided as fs.rename; the first that is denied decides. Both allowed but by rules
// with different roots: denied, naming the rule of `to` (a rename is done beneath one root).
// Allowed: the decision of `from`, whose rule's root the broker acts beneath.
Decision decideFsSymlink(const UnitPolicy& unit, std::string_view path, std::string_view target);
// `path` decided as fs.symlink; allowed only if `target` also passes refuseSymlinkTarget for the
// deciding rule's root, otherwise denied naming that rule and why.
Decision decideSecretsGet(const UnitPolicy& unit, std::string_view name);
// Rules list exact names, so every match is equally specific: any matching deny wins, else the
// first matching allow.

// A rule whose conditions match a request, with the specificity the decision ranked it by.
struct RuleMatch {
  const Rule* rule = nullptr;  // borrowed from the policy
  int specificity = 0;
};

// Every rule of the request's operation whose conditions match it, found with the same
// predicates and candidate set as decideFsOpen / decideCall, in the order the decision ranks them:
// most specific first; at equal specificity deny before allow, then file order. So the first
// entry is the deciding rule (when there is one) and the rest are the rules that matched and
// lost. Empty for a request decide refuses before matching (bad path, no modes, bad method
// name). For `airlock policy explain`; allocates, so not for the per-call path.
std::vector<RuleMatch> matchingFsOpenRules(const UnitPolicy& unit, std::string_view path,
                                           OpenModes modes, CallGrants grants = {});
std::vector<RuleMatch> matchingCallRules(const UnitPolicy& unit, const Caller& caller,
                                         std::string_view method);
std::vector<RuleMatch> matchingSecretsGetRules(const UnitPolicy& unit, std::string_view name);
std::vector<RuleMatch> matchingFsPathRules(const UnitPolicy& unit, Operation op,
                                           std::string_view path);
std::vector<RuleMatch> matchingInvokeRules(const UnitPolicy& unit, std::string_view callee,
                                           std::string_view method);

}  // namespace airlock::policy
