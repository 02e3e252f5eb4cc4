#include "broker/policy/decide/decide.h"

#include <kj/debug.h>

#include <algorithm>
#include <vector>

#include "broker/policy/decide/decide_support.h"
#include "broker/policy/model/fs_rule_index.h"
#include "broker/policy/model/printable.h"
#include "broker/policy/model/symlink_target.h"

namespace airlock::policy {

namespace _ {

// Requests carry worker- or host-controlled text; a reason is one log line, so the text is
// escaped and cut to this many bytes.
constexpr size_t MAX_QUOTED_BYTES = 256;

std::string printable(std::string_view text) { return policy::printable(text, MAX_QUOTED_BYTES); }

Decision defaultDeny(std::string reason) {
  return Decision{Verdict::DENY, std::string(DEFAULT_DENY_RULE_ID), std::move(reason), nullptr};
}

Decision fromBest(const Best& best, const std::string& detail) {
  const Rule& rule = *best.rule;
  bool allow = rule.effect == Effect::ALLOW;
  std::string reason =
      std::string(allow ? "allowed by " : "denied by ") + rule.describe() + ": " + detail;
  if (best.tiedAllow != nullptr) {
    reason += "; deny wins the tie with allow " + best.tiedAllow->describe();
  }
  return Decision{allow ? Verdict::ALLOW : Verdict::DENY, rule.id, std::move(reason), &rule};
}

Decision learnedOr(const UnitPolicy& unit, Decision denied, const Rule* grant,
                   const std::string& within) {
  if (!unit.learning() || grant == nullptr || denied.allowed()) return denied;
  denied.verdict = Verdict::LEARN;
  denied.reason = "learned (" + denied.reason + "): within " + grant->id + " " + within + " (" +
                  grant->where.describe() + ")";
  denied.rule = grant;
  return denied;
}

// An allow by a `granted_only` rule (`decision`) names the grant that let it match as its
// deciding rule: "<grant rule id>#<index>", with both rules in the reason.
Decision throughGrant(Decision decision, CallGrants grants, std::string_view path,
                      OpenModes modes, const std::string& detail) {
  int index = coveringGrant(grants, path, modes);
  KJ_ASSERT(index >= 0, "a granted_only rule matched without a grant covering the request");
  const CallGrant& grant = grants[static_cast<size_t>(index)];
  std::string by = grant.rule != nullptr ? " under " + grant.rule->describe() : "";
  decision.reason = "allowed by grant #" + std::to_string(index) + " of this call, " +
                    printable(grant.describe()) + by + ", through granted_only " +
                    decision.rule->describe() + ": " + detail;
  decision.ruleId = grant.idAt(static_cast<size_t>(index));
  decision.grant = index;
  return decision;
}

// Modes count only where the operation's row says so (fs.open); the other fs.* operations are
// granted by the operation alone. `matching` is operationRow(op).matching, looked up once per
// request rather than once per rule.
// A `granted_only` rule applies only to what `grants` (the current call's) cover.
bool fsRuleApplies(const Rule& rule, Operation op, Matching matching, std::string_view path,
                   OpenModes modes, CallGrants grants) {
  if (rule.operation != op) return false;
  const FsKeys& fs = rule.fs();
  if (matching == Matching::PATH_AND_MODES) {
    bool modesApply = rule.effect == Effect::ALLOW ? modes.subsetOf(fs.modes)
                                                   : (modes.bits & fs.modes.bits) != 0;
    if (!modesApply) return false;
  }
  if (fs.grantedOnly && coveringGrant(grants, path, modes) < 0) return false;
  return fs.path.matches(path);
}

bool lists(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// 2: the method is listed by name; 1: the rule lists "*"; 0: not listed.
int methodSpecificity(const std::vector<std::string>& methods, std::string_view method) {
  int best = 0;
  for (const std::string& listed : methods) {
    if (listed == method) return 2;
    if (listed == "*") best = 1;
  }
  return best;
}

// methodSpecificity if the rule names the caller, else 0. A unit is looked up only in
// caller_unit and a client only in caller: neither can pass for the other.
int callSpecificity(const Rule& rule, const Caller& caller, std::string_view method) {
  const CallKeys& call = rule.call();
  if (caller.kind == CallerKind::UNIT) {
    return lists(call.callerUnits, caller.name) ? methodSpecificity(call.methods, method) : 0;
  }
  if (!lists(call.callerNames, caller.name)) return 0;
  auto& uids = call.callerUids;
  if (!uids.empty() && std::find(uids.begin(), uids.end(), caller.uid) == uids.end()) return 0;
  return methodSpecificity(call.methods, method);
}

int invokeSpecificity(const Rule& rule, std::string_view callee, std::string_view method) {
  const InvokeKeys& invoke = rule.invoke();
  return lists(invoke.invokeUnits, callee) ? methodSpecificity(invoke.methods, method) : 0;
}

// The refusals decideInvoke makes before any rule is looked at; empty if it gets to matching.
Refusal refuseInvoke(std::string_view callee, std::string_view method) {
  Refusal refused = validateUnitName(callee);
  if (!refused.refuses()) refused = validateMethodName(method);
  if (!refused.refuses()) return {};
  return Refusal::because("refused invoke of \"" + printable(callee) + "\".\"" +
                          printable(method) + "\": " + refused.why());
}

// "method thumbnail listed" or "method * matches thumbnail", for a call or invoke decision.
std::string methodDetail(int specificity, std::string_view method) {
  return specificity == 2 ? "method " + std::string(method) + " listed"
                          : "method * matches " + std::string(method);
}

// Calls `visit` with every `op` rule matching a validated request, in file order.
template <typename Visit>
void forEachFsMatch(const UnitPolicy& unit, Operation op, std::string_view path, OpenModes modes,
                    CallGrants grants, Visit&& visit) {
  Matching matching = operationRow(op).matching;
  if (unit.fsIndex) {
    // Only rules rooted at an ancestor of the path can match it (fs_rule_index.h).
    std::vector<uint32_t> candidates;
    unit.fsIndex->candidates(path, candidates);
    for (uint32_t i : candidates) {
      const Rule& rule = unit.rules[i];
      if (fsRuleApplies(rule, op, matching, path, modes, grants)) visit(rule);
    }
  } else {
    for (const Rule& rule : unit.rules) {
      if (fsRuleApplies(rule, op, matching, path, modes, grants)) visit(rule);
    }
  }
}

// The most specific `op` rule matching `path` (deny winning ties), or null.
Best bestFsMatch(const UnitPolicy& unit, Operation op, std::string_view path, OpenModes modes,
                CallGrants grants) {
  Best best;
  forEachFsMatch(unit, op, path, modes, grants, [&best](const Rule& rule) {
    best.offer(rule, rule.fs().path.specificity());
  });
  return best;
}

std::vector<RuleMatch> rankedFsMatches(const UnitPolicy& unit, Operation op,
                                       std::string_view path, OpenModes modes, CallGrants grants);

// `denied` (a decision that got as far as matching), learned if a learn grant of `op` covers the
// path and modes: the most specific one, so a rename's two paths meet at the same root.
Decision learnFs(const UnitPolicy& unit, Operation op, std::string_view path, OpenModes modes,
                 Decision denied) {
  if (!unit.learning()) return denied;
  Matching matching = operationRow(op).matching;
  Best best;
  for (const Rule& grant : unit.learnGrants) {
    if (fsRuleApplies(grant, op, matching, path, modes, {})) {
      best.offer(grant, grant.fs().path.specificity());
    }
  }
  if (best.rule == nullptr) return denied;
  return learnedOr(unit, std::move(denied), best.rule, "\"" + best.rule->fs().path.text() + "\"");
}

// The refusal of a path decide makes before any rule is looked at; empty if it gets to matching.
Refusal refuseFsPath(Operation op, std::string_view path) {
  Refusal refused = validateRequestPath(path);
  if (!refused.refuses()) return {};
  return Refusal::because(std::string("refused ") + operationName(op) + " of \"" +
                          printable(path) + "\": " + refused.why());
}

// The refusals decide makes before any rule is looked at; empty if the request gets to matching.
Refusal refuseFsOpen(std::string_view path, OpenModes modes) {
  Refusal refused = refuseFsPath(Operation::FS_OPEN, path);
  if (refused.refuses()) return refused;
  if (modes.bits == 0 || !modes.subsetOf(OpenModes{0x1f})) {
    return Refusal::because("refused fs.open of " + printable(path) +
                            ": no or unknown open modes requested");
  }
  return {};
}

// Ranks matches as Best does: specificity, then deny over allow, then file order.
void rankMatches(const UnitPolicy& unit, std::vector<RuleMatch>& matches) {
  std::stable_sort(matches.begin(), matches.end(), [&unit](const RuleMatch& a, const RuleMatch& b) {
    if (a.specificity != b.specificity) return a.specificity > b.specificity;
    if (a.rule->effect != b.rule->effect) return a.rule->effect == Effect::DENY;
    return a.rule - unit.rules.data() < b.rule - unit.rules.data();
  });
}

std::vector<RuleMatch> rankedFsMatches(const UnitPolicy& unit, Operation op,
                                       std::string_view path, OpenModes modes, CallGrants grants) {
  std::vector<RuleMatch> matches;
  forEachFsMatch(unit, op, path, modes, grants, [&matches](const Rule& rule) {
    matches.push_back(RuleMatch{&rule, rule.fs().path.specificity()});
  });
  rankMatches(unit, matches);
  return matches;
}

// Scores every rule of `op` with `score` (0: no match): the best, as decide ranks them.
template <typename Score>
Best bestOf(const UnitPolicy& unit, Operation op, Score&& score) {
  Best best;
  for (const Rule& rule : unit.rules) {
    if (rule.operation != op) continue;
    int s = score(rule);
    if (s > 0) best.offer(rule, s);
  }
  return best;
}

// Every rule of `op` that `score` matches, ranked.
template <typename Score>
std::vector<RuleMatch> rankedOf(const UnitPolicy& unit, Operation op, Score&& score) {
  std::vector<RuleMatch> matches;
  for (const Rule& rule : unit.rules) {
    if (rule.operation != op) continue;
    int s = score(rule);
    if (s > 0) matches.push_back(RuleMatch{&rule, s});
  }
  rankMatches(unit, matches);
  return matches;
}

}  // namespace _

const char* verdictName(Verdict verdict) {
  static constexpr const char* NAMES[] = {"allow", "deny", "learn"};
  return NAMES[static_cast<uint8_t>(verdict)];
}

Decision decideFsOpen(const UnitPolicy& unit, std::string_view path, OpenModes modes,
                      CallGrants grants) {
  Refusal refused = _::refuseFsOpen(path, modes);
  if (refused.refuses()) return _::defaultDeny(refused.why());
  _::Best best = _::bestFsMatch(unit, Operation::FS_OPEN, path, modes, grants);
  if (best.rule == nullptr) {
    return _::learnFs(unit, Operation::FS_OPEN, path, modes,
                      _::defaultDeny("no rule allows fs.open of " + _::printable(path) +
                                     " with modes " + modes.describe()));
  }
  const Rule& rule = *best.rule;
  const FsKeys& fs = rule.fs();
  std::string detail = "path matches " + fs.path.text() + ", modes " + modes.describe() +
                       (rule.effect == Effect::ALLOW ? " ⊆ " : " ∩ ") + fs.modes.describe() +
                       (rule.effect == Effect::ALLOW ? "" : " ≠ ∅");
  Decision decision = _::fromBest(best, detail);
  if (fs.grantedOnly) return _::throughGrant(std::move(decision), grants, path, modes, detail);
  return _::learnFs(unit, Operation::FS_OPEN, path, modes, std::move(decision));
}

Decision decideFsPath(const UnitPolicy& unit, Operation op, std::string_view path) {
  if (operationRow(op).matching != Matching::PATH) {
    return _::defaultDeny(std::string(operationName(op)) + " is not decided by path alone");
  }
  Refusal refused = _::refuseFsPath(op, path);
  if (refused.refuses()) return _::defaultDeny(refused.why());
  _::Best best = _::bestFsMatch(unit, op, path, OpenModes{}, {});
  if (best.rule == nullptr) {
    return _::learnFs(unit, op, path, OpenModes{},
                      _::defaultDeny(std::string("no rule allows ") + operationName(op) + " of " +
                                     _::printable(path)));
  }
  return _::learnFs(unit, op, path, OpenModes{},
                    _::fromBest(best, "path matches " + best.rule->fs().path.text()));
}

Decision decideFsRename(const UnitPolicy& unit, std::string_view from, std::string_view to) {
  Decision source = decideFsPath(unit, Operation::FS_RENAME, from);
  if (!source.allowed()) return source;
  Decision target = decideFsPath(unit, Operation::FS_RENAME, to);
  if (!target.allowed()) return target;
  const std::string& fromRoot = source.rule->fs().path.root();
  const std::string& toRoot = target.rule->fs().path.root();
  if (fromRoot != toRoot) {
    target.verdict = Verdict::DENY;
    target.reason = "refused fs.rename of " + _::printable(from) + " to " + _::printable(to) +
                    ": allowed beneath " + fromRoot + " by " + source.rule->describe() +
                    " and beneath " + toRoot + " by " + target.rule->describe() +
                    ", but a rename stays beneath one root";
    return target;
  }
  source.reason = "from: " + source.reason + "; to: " + target.reason;
  return source;
}

Decision decideFsSymlink(const UnitPolicy& unit, std::string_view path, std::string_view target) {
  Decision decision = decideFsPath(unit, Operation::FS_SYMLINK, path);
  if (!decision.allowed()) return decision;
  Refusal refused = refuseSymlinkTarget(decision.rule->fs().path.root(), path, target);
  if (refused.refuses()) {
    decision.verdict = Verdict::DENY;
    decision.reason = "rule matched the link's path, but " + _::printable(refused.why());
  }
  return decision;
}

Decision decideCall(const UnitPolicy& unit, const Caller& caller, std::string_view method) {
  std::string who = caller.describe();
  Refusal refused = validateMethodName(method);
  if (refused.refuses()) {
    return _::defaultDeny("refused call of method \"" + _::printable(method) + "\" by " + who +
                          ": " + refused.why());
  }
  _::Best best = _::bestOf(unit, Operation::CALL, [&](const Rule& rule) {
    return _::callSpecificity(rule, caller, method);
  });
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows call of " + unit.name + "." + std::string(method) +
                          " by " + who);
  }
  return _::fromBest(best, "caller " + who + " listed, " +
                              _::methodDetail(best.specificity, method));
}

Decision decideInvoke(const UnitPolicy& unit, std::string_view callee, std::string_view method) {
  Refusal refused = _::refuseInvoke(callee, method);
  if (refused.refuses()) return _::defaultDeny(refused.why());
  _::Best best = _::bestOf(unit, Operation::INVOKE, [&](const Rule& rule) {
    return _::invokeSpecificity(rule, callee, method);
  });
  std::string target = std::string(callee) + "." + std::string(method);
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows unit " + unit.name + " to invoke " + target);
  }
  return _::fromBest(best, "unit " + std::string(callee) + " listed, " +
                              _::methodDetail(best.specificity, method));
}

Decision decideSecretsGet(const UnitPolicy& unit, std::string_view name) {
  Refusal refused = validateSecretName(name);
  if (refused.refuses()) {
    return _::defaultDeny("refused secrets.get of \"" + _::printable(name) + "\": " + refused.why());
  }
  _::Best best = _::bestOf(unit, Operation::SECRETS_GET, [&](const Rule& rule) {
    return _::lists(rule.secrets().secretNames, name) ? 1 : 0;
  });
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows secrets.get of \"" + std::string(name) + "\"");
  }
  return _::fromBest(best, "name " + std::string(name) + " listed");
}

std::vector<RuleMatch> matchingFsOpenRules(const UnitPolicy& unit, std::string_view path,
                                           OpenModes modes, CallGrants grants) {
  std::vector<RuleMatch> matches;
  if (_::refuseFsOpen(path, modes).refuses()) return matches;
  return _::rankedFsMatches(unit, Operation::FS_OPEN, path, modes, grants);
}

std::vector<RuleMatch> matchingCallRules(const UnitPolicy& unit, const Caller& caller,
                                         std::string_view method) {
  if (validateMethodName(method).refuses()) return {};
  return _::rankedOf(unit, Operation::CALL, [&](const Rule& rule) {
    return _::callSpecificity(rule, caller, method);
  });
}

std::vector<RuleMatch> matchingSecretsGetRules(const UnitPolicy& unit, std::string_view name) {
  if (validateSecretName(name).refuses()) return {};
  return _::rankedOf(unit, Operation::SECRETS_GET, [&](const Rule& rule) {
    return _::lists(rule.secrets().secretNames, name) ? 1 : 0;
  });
}

std::vector<RuleMatch> matchingInvokeRules(const UnitPolicy& unit, std::string_view callee,
                                           std::string_view method) {
  if (_::refuseInvoke(callee, method).refuses()) return {};
  return _::rankedOf(unit, Operation::INVOKE, [&](const Rule& rule) {
    return _::invokeSpecificity(rule, callee, method);
  });
}

std::vector<RuleMatch> matchingFsPathRules(const UnitPolicy& unit, Operation op,
                                           std::string_view path) {
  if (operationRow(op).matching != Matching::PATH || _::refuseFsPath(op, path).refuses()) {
    return {};
  }
  return _::rankedFsMatches(unit, op, path, OpenModes{}, {});
}

}  // namespace airlock::policy
