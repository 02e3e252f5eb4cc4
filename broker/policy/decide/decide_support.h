#pragma once
// Internal to the decide functions (decide.cc, decide_net.cc): the ranking every operation's
// decision shares. Not for callers of decide.h.

#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/decide/decide.h"

namespace airlock::policy::_ {

// Request text in reasons is escaped and cut (decide.cc's MAX_QUOTED_BYTES).
std::string printable(std::string_view text);

Decision defaultDeny(std::string reason);

// The winner of a scan: most specific match, deny over allow at equal specificity. Also keeps the
// best allow that lost a tie so the reason can say why it did not win.
struct Best {
  const Rule* rule = nullptr;
  int specificity = -1;
  const Rule* tiedAllow = nullptr;

  void offer(const Rule& candidate, int score) {
    if (rule == nullptr || score > specificity) {
      rule = &candidate;
      specificity = score;
      tiedAllow = nullptr;
    } else if (score == specificity && candidate.effect != rule->effect) {
      // Equal specificity, opposite effects: deny wins.
      const Rule& allow = candidate.effect == Effect::ALLOW ? candidate : *rule;
      rule = candidate.effect == Effect::DENY ? &candidate : rule;
      tiedAllow = &allow;
    }
  }
};

// The decision `best` (which has a rule) makes: "allowed by rule ...: <detail>".
Decision fromBest(const Best& best, const std::string& detail);

// A learning unit's answer to a request its rules deny (`denied`, which must have got as far as
// matching): LEARN naming the same rule, with `grant` (a learn grant, non-null) as the rule acted
// beneath and `within` saying how the request lies in it. Any other unit, or a null grant:
// `denied` unchanged.
Decision learnedOr(const UnitPolicy& unit, Decision denied, const Rule* grant,
                   const std::string& within);

// Ranks matches as Best does: specificity, then deny over allow, then file order.
void rankMatches(const UnitPolicy& unit, std::vector<RuleMatch>& matches);

}  // namespace airlock::policy::_
