#include "broker/policy/load/lint.h"

#include <set>
#include <string_view>
#include <unordered_map>

#include "broker/policy/model/revision.h"
#include "sandbox/profile_grants.h"

namespace airlock::policy {

namespace {

// `samePattern` holds the indices of the rules of this rule's fs.* operation with its pattern
// text, in file order (this rule among them): only those can repeat or shadow it. Modes are
// empty for every operation but fs.open, so there any same-pattern deny shadows an allow.
void lintFsRule(const std::vector<Rule>& rules, size_t index,
                const std::vector<size_t>& samePattern, std::vector<Diagnostic>& warnings) {
  const Rule& rule = rules[index];
  const FsKeys& mine = rule.fs();
  for (size_t other : samePattern) {
    const Rule& o = rules[other];
    if (other == index) continue;
    const FsKeys& theirs = o.fs();
    if (mine.grantedOnly && !theirs.grantedOnly && o.effect == Effect::ALLOW &&
        mine.modes.subsetOf(theirs.modes)) {
      warnings.push_back(Diagnostic{
          rule.where, "rule \"" + rule.id + "\" is granted_only but narrows nothing: " +
                          o.describe() + " allows the same pattern and modes to every call"});
      return;
    }
    if (other < index && o.effect == rule.effect && theirs.modes.bits == mine.modes.bits &&
        theirs.grantedOnly == mine.grantedOnly) {
      warnings.push_back(Diagnostic{rule.where, "rule \"" + rule.id + "\" repeats " +
                                                    o.describe() + " and never decides anything"});
      return;
    }
    if (rule.effect == Effect::ALLOW && o.effect == Effect::DENY &&
        mine.modes.subsetOf(theirs.modes)) {
      warnings.push_back(Diagnostic{
          rule.where, "rule \"" + rule.id + "\" can never allow: " + o.describe() +
                          " denies the same pattern for all its modes, and deny wins ties"});
      return;
    }
  }
}

// A net.connect rule with the same effect and conditions as an earlier one never decides.
void lintNetRules(const std::vector<Rule>& rules, std::vector<Diagnostic>& warnings) {
  std::unordered_map<std::string, const Rule*> seen;
  for (const Rule& rule : rules) {
    if (rule.operation != Operation::NET_CONNECT) continue;
    Rule conditions = rule;
    conditions.id.clear();  // the canonical form without the id: effect and conditions
    auto [first, inserted] = seen.emplace(canonicalForm(conditions), &rule);
    if (!inserted) {
      warnings.push_back(Diagnostic{rule.where, "rule \"" + rule.id + "\" repeats " +
                                                    first->second->describe() +
                                                    " and never decides anything"});
    }
  }
}

// A profile whose grants every worker has anyway changes nothing: likely the wrong file, or one
// whose syscalls airlock refuses (policy check lists those).
void lintSeccompProfile(const UnitPolicy& unit, std::vector<Diagnostic>& warnings) {
  if (unit.seccompProfile == nullptr) return;
  const sandbox::ProfileGrants& grants = *unit.seccompProfile->grants;
  if (grants.grantedBeyondDefault() > 0) return;
  warnings.push_back(Diagnostic{
      unit.seccompProfile->where,
      "[sandbox] seccomp_profile \"" + unit.seccompProfile->written +
          "\" grants nothing beyond the default groups (" + std::to_string(grants.granted.size()) +
          " granted syscalls are in them, " + std::to_string(grants.refused.size()) +
          " stay refused): the unit runs as it would without it"});
}

// Grants and granted_only rules only work together: a granted_only rule with no grant rule never
// matches; grant rules with no granted_only rule hand over paths no rule of the unit reaches.
void lintGrants(const UnitPolicy& unit, std::vector<Diagnostic>& warnings) {
  const Rule* grantRule = nullptr;
  const Rule* grantedOnly = nullptr;
  for (const Rule& rule : unit.rules) {
    if (rule.effect != Effect::ALLOW) continue;
    if (rule.operation == Operation::GRANT && grantRule == nullptr) grantRule = &rule;
    auto* fs = std::get_if<FsKeys>(&rule.keys);
    if (fs != nullptr && fs->grantedOnly && grantedOnly == nullptr) grantedOnly = &rule;
  }
  if (grantedOnly != nullptr && grantRule == nullptr) {
    warnings.push_back(Diagnostic{grantedOnly->where,
                                  "rule \"" + grantedOnly->id + "\" is granted_only, but no "
                                  "allow grant rule lets any caller grant anything: it never "
                                  "matches"});
  }
  if (grantRule != nullptr && grantedOnly == nullptr) {
    warnings.push_back(Diagnostic{grantRule->where,
                                  "rule \"" + grantRule->id + "\" lets callers grant paths, but "
                                  "no fs.open rule of the unit is granted_only: a grant reaches "
                                  "nothing"});
  }
}

// Under "per-caller" a worker bound to one caller cannot serve another: with a single instance,
// every call from a caller other than the last one waits for a fresh worker to start.
void lintWorkerReuse(const UnitPolicy& unit, std::vector<Diagnostic>& warnings) {
  if (unit.workerReuse.reuse != WorkerReuse::PER_CALLER || unit.instances > 1) return;
  warnings.push_back(Diagnostic{
      unit.workerReuse.where,
      "[unit] worker_reuse = \"per-caller\" with instances = 1: each call from another caller "
      "than the last waits for a fresh worker to start; set instances to the number of callers "
      "served at once plus one"});
}

}  // namespace

void lintUnit(const UnitPolicy& unit, std::vector<Diagnostic>& warnings) {
  // Grouped by pattern first: comparing every pair made loading a 1,000-rule unit quadratic.
  // Keyed by operation and pattern: a deny of fs.unlink does not shadow an allow of fs.stat.
  auto keyOf = [](const Rule& rule) {
    return std::string(operationName(rule.operation)) + ' ' + rule.fs().path.text();
  };
  std::unordered_map<std::string, std::vector<size_t>> byPattern;
  for (size_t i = 0; i < unit.rules.size(); ++i) {
    if (isFsOperation(unit.rules[i].operation)) byPattern[keyOf(unit.rules[i])].push_back(i);
  }
  bool callable = false;
  for (size_t i = 0; i < unit.rules.size(); ++i) {
    const Rule& rule = unit.rules[i];
    if (isFsOperation(rule.operation)) lintFsRule(unit.rules, i, byPattern[keyOf(rule)], warnings);
    if (rule.operation == Operation::CALL && rule.effect == Effect::ALLOW) callable = true;
  }
  lintNetRules(unit.rules, warnings);
  lintSeccompProfile(unit, warnings);
  lintWorkerReuse(unit, warnings);
  lintGrants(unit, warnings);
  if (!callable) {
    warnings.push_back(Diagnostic{unit.where, "unit \"" + unit.name +
                                                  "\" has no allow call rule: no host can call it"});
  }
}

void lintUnitSet(const std::vector<UnitPolicy>& units, std::vector<Diagnostic>& warnings) {
  std::set<std::string_view> defined;
  for (const UnitPolicy& unit : units) defined.insert(unit.name);
  auto warnUnknown = [&](const Rule& rule, const std::vector<std::string>& names,
                         const char* key, const char* consequence) {
    for (const std::string& name : names) {
      if (defined.count(name)) continue;
      warnings.push_back(Diagnostic{rule.where, "rule \"" + rule.id + "\": " + key + " \"" + name +
                                                    "\" is not a unit any policy file defines: " +
                                                    consequence});
    }
  };
  for (const UnitPolicy& unit : units) {
    for (const Rule& rule : unit.rules) {
      if (rule.operation == Operation::INVOKE) {
        warnUnknown(rule, rule.invoke().invokeUnits, "unit", "an invoke of it is always refused");
      } else if (rule.operation == Operation::CALL) {
        warnUnknown(rule, rule.call().callerUnits, "caller_unit", "no such unit can call");
      }
    }
  }
}

}  // namespace airlock::policy
