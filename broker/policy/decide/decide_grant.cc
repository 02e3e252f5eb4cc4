#include "broker/policy/decide/decide_grant.h"

#include <algorithm>

#include "broker/policy/decide/decide_support.h"

namespace airlock::policy {

namespace _ {
namespace {

bool listsCaller(const GrantKeys& grant, const Caller& caller) {
  if (caller.kind != CallerKind::CLIENT) return false;
  auto& names = grant.callerNames;
  if (std::find(names.begin(), names.end(), caller.name) == names.end()) return false;
  auto& uids = grant.callerUids;
  return uids.empty() || std::find(uids.begin(), uids.end(), caller.uid) != uids.end();
}

// The rule's path specificity if it applies to the request, else 0 (a pattern's specificity is
// at least 1: path_pattern.h).
int grantSpecificity(const Rule& rule, const Caller& caller, std::string_view path,
                     OpenModes modes, std::optional<DescriptorKind> descriptor) {
  if (rule.operation != Operation::GRANT) return 0;
  const GrantKeys& grant = rule.grant();
  if (!listsCaller(grant, caller)) return 0;
  bool modesApply = rule.effect == Effect::ALLOW
                        ? modes.subsetOf(grant.modes) &&
                              (!descriptor || grant.descriptors.has(*descriptor))
                        : (modes.bits & grant.modes.bits) != 0;
  if (!modesApply || !grant.path.matches(path)) return 0;
  return grant.path.specificity() + 1;
}

// The refusal made before any rule is looked at; empty if the request gets to matching.
Refusal refuseGrant(std::string_view path, OpenModes modes,
                        std::optional<DescriptorKind> descriptor) {
  Refusal refused = validateRequestPath(path);
  if (!refused.refuses() && (modes.bits == 0 || !modes.subsetOf(OpenModes{0x1f}))) {
    refused = "no or unknown modes granted";
  }
  // The descriptor is a file that exists: nothing is created through it. A directory's entries
  // are not the directory's to write.
  if (!refused.refuses() && descriptor && modes.has(OpenMode::CREATE)) {
    refused = "a descriptor is a file that exists: create cannot be granted with it";
  }
  if (!refused.refuses() && descriptor == DescriptorKind::DIRECTORY &&
      modes.bits != static_cast<uint8_t>(OpenMode::READ)) {
    refused = "a directory descriptor is granted for reading only";
  }
  if (!refused.refuses()) return {};
  return Refusal::because("refused grant of \"" + printable(path) + "\": " + refused.why());
}

}  // namespace
}  // namespace _

Decision decideGrant(const UnitPolicy& unit, const Caller& caller, std::string_view path,
                     OpenModes modes, std::optional<DescriptorKind> descriptor) {
  Refusal refused = _::refuseGrant(path, modes, descriptor);
  if (refused.refuses()) return _::defaultDeny(refused.why());
  _::Best best;
  for (const Rule& rule : unit.rules) {
    int score = _::grantSpecificity(rule, caller, path, modes, descriptor);
    if (score > 0) best.offer(rule, score);
  }
  std::string what = (descriptor ? std::string("a ") + descriptorKindName(*descriptor) +
                                       " descriptor as "
                                 : std::string()) +
                     _::printable(path) + " with modes " + modes.describe();
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule lets " + caller.describe() + " grant " + what + " to unit " +
                          unit.name);
  }
  const GrantKeys& grant = best.rule->grant();
  std::string handed = grant.descriptors.empty()
                           ? ""
                           : " (also as " + grant.descriptors.describe() + " descriptors)";
  return _::fromBest(best, caller.describe() + " may grant paths matching " + grant.path.text() +
                               " with modes " + grant.modes.describe() + handed + "; asked " +
                               what);
}

std::vector<RuleMatch> matchingGrantRules(const UnitPolicy& unit, const Caller& caller,
                                          std::string_view path, OpenModes modes,
                                          std::optional<DescriptorKind> descriptor) {
  std::vector<RuleMatch> matches;
  if (_::refuseGrant(path, modes, descriptor).refuses()) return matches;
  for (const Rule& rule : unit.rules) {
    int score = _::grantSpecificity(rule, caller, path, modes, descriptor);
    if (score > 0) matches.push_back(RuleMatch{&rule, score});
  }
  _::rankMatches(unit, matches);
  return matches;
}

}  // namespace airlock::policy
