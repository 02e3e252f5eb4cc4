#include "broker/policy/lint.h"

namespace airlock::policy {

namespace {

bool samePattern(const Rule& a, const Rule& b) { return a.path.text() == b.path.text(); }

void lintFsRule(const std::vector<Rule>& rules, size_t index, std::vector<Diagnostic>& warnings) {
  const Rule& rule = rules[index];
  for (size_t other = 0; other < rules.size(); ++other) {
    const Rule& o = rules[other];
    if (other == index || o.operation != Operation::FS_OPEN || !samePattern(rule, o)) continue;
    if (other < index && o.effect == rule.effect && o.modes.bits == rule.modes.bits) {
      warnings.push_back(Diagnostic{rule.where, "rule \"" + rule.id + "\" repeats " +
                                                    o.describe() + " and never decides anything"});
      return;
    }
    if (rule.effect == Effect::ALLOW && o.effect == Effect::DENY &&
        rule.modes.subsetOf(o.modes)) {
      warnings.push_back(Diagnostic{
          rule.where, "rule \"" + rule.id + "\" can never allow: " + o.describe() +
                          " denies the same pattern for all its modes, and deny wins ties"});
      return;
    }
  }
}

}  // namespace

void lintUnit(const UnitPolicy& unit, std::vector<Diagnostic>& warnings) {
  bool callable = false;
  for (size_t i = 0; i < unit.rules.size(); ++i) {
    const Rule& rule = unit.rules[i];
    if (rule.operation == Operation::FS_OPEN) lintFsRule(unit.rules, i, warnings);
    if (rule.operation == Operation::CALL && rule.effect == Effect::ALLOW) callable = true;
  }
  if (!callable) {
    warnings.push_back(Diagnostic{unit.where, "unit \"" + unit.name +
                                                  "\" has no allow call rule: no host can call it"});
  }
}

}  // namespace airlock::policy
