#include "broker/policy/decide/decide_net.h"

#include <algorithm>

#include "broker/policy/decide/decide_support.h"

namespace airlock::policy {

namespace _ {
namespace {

// A listed name stands for the one address it resolved to; with no address yet, any value ranks
// names equally among themselves.
constexpr int NAME_WITHOUT_ADDRESS = 128;

bool listsPort(const Rule& rule, uint16_t port) {
  return std::any_of(rule.net().ports.begin(), rule.net().ports.end(),
                     [port](const PortRange& range) { return range.contains(port); });
}

// The rule's specificity for this request, or -1 when it does not match (decide_net.h). `name`
// is canonical (RequestHost::name), empty for a literal.
int tcpSpecificity(const Rule& rule, std::string_view name, uint16_t port,
                   const IpAddress* address) {
  if (rule.operation != Operation::NET_CONNECT || rule.net().isUnixSocketRule()) return -1;
  if (!listsPort(rule, port)) return -1;
  int best = -1;
  auto& names = rule.net().hostNames;
  if (!name.empty() && std::find(names.begin(), names.end(), name) != names.end()) {
    best = address != nullptr ? address->bits() : NAME_WITHOUT_ADDRESS;
  }
  if (address != nullptr) {
    for (const IpBlock& block : rule.net().hostBlocks) {
      if (block.contains(*address)) best = std::max(best, static_cast<int>(block.prefixBits));
    }
  }
  return best;
}

// A request as it is decided: the canonical name (empty for a literal), the address (the
// literal itself, else the resolved one passed in, else none), and how the reason names it.
struct Target {
  std::string name;
  std::optional<IpAddress> address;
  std::string shown;  // the name, or the literal as the worker wrote it
};

// The request's Target, or why it is refused before any rule (`refused` set).
std::optional<Target> targetOf(std::string_view host, uint16_t port, const IpAddress* resolved,
                               std::string& refused) {
  std::string why;
  std::optional<RequestHost> canonical = canonicalRequestHost(host, why);
  if (!canonical) {
    refused = "refused net.connect to \"" + printable(host) + "\": " + why;
    return std::nullopt;
  }
  Target out;
  out.name = canonical->name;
  out.shown = canonical->literal ? std::string(host) : canonical->name;
  // A literal is its own address: the broker never resolves it, so `resolved` is the same.
  out.address = canonical->literal;
  if (!out.address && resolved != nullptr) out.address = *resolved;
  if (port == 0) {
    refused = "refused net.connect to " + out.shown + ": port 0 is not a port";
    return std::nullopt;
  }
  if (out.address) {
    why = neverConnectedReason(*out.address);
    if (!why.empty()) {
      refused =
          "refused net.connect to " + out.shown + " port " + std::to_string(port) + ": " + why;
      return std::nullopt;
    }
  }
  return out;
}

std::string describeTarget(const Target& target, uint16_t port) {
  std::string out = target.shown + " port " + std::to_string(port);
  if (target.address && target.address->describe() != target.shown) {
    out += " (" + target.address->describe() + ")";
  }
  return out;
}

// Why the winning rule matched: by name or by the block holding the address.
std::string tcpDetail(const Rule& rule, const Target& target, uint16_t port, int specificity) {
  std::string how;
  const IpAddress* address = target.address ? &*target.address : nullptr;
  auto& names = rule.net().hostNames;
  bool byName = !target.name.empty() &&
                std::find(names.begin(), names.end(), target.name) != names.end() &&
                specificity == (address ? address->bits() : NAME_WITHOUT_ADDRESS);
  if (byName) {
    how = "host " + target.name + " listed";
  } else {
    for (const IpBlock& block : rule.net().hostBlocks) {
      if (block.contains(*address) && block.prefixBits == specificity) {
        how = "address " + address->describe() + " in " + block.describe();
        break;
      }
    }
  }
  return how + ", port " + std::to_string(port) + " listed";
}

// The rules' decision on one target, with no address-level refusal.
Decision decideByRules(const UnitPolicy& unit, const Target& target, uint16_t port) {
  const IpAddress* address = target.address ? &*target.address : nullptr;
  Best best;
  for (const Rule& rule : unit.rules) {
    int score = tcpSpecificity(rule, target.name, port, address);
    if (score >= 0) best.offer(rule, score);
  }
  if (best.rule == nullptr) {
    return defaultDeny("no rule allows net.connect to " + describeTarget(target, port));
  }
  return fromBest(best, tcpDetail(*best.rule, target, port, best.specificity));
}

// `denied`, learned if the unit's learn_hosts grant lists the target (any port).
Decision learnNet(const UnitPolicy& unit, const Target& target, uint16_t port, Decision denied) {
  if (!unit.learning() || denied.allowed()) return denied;
  const IpAddress* address = target.address ? &*target.address : nullptr;
  for (const Rule& grant : unit.learnGrants) {
    if (tcpSpecificity(grant, target.name, port, address) >= 0) {
      return learnedOr(unit, std::move(denied), &grant, describeTarget(target, port));
    }
  }
  return denied;
}

bool unixRuleMatches(const Rule& rule, std::string_view path) {
  return rule.operation == Operation::NET_CONNECT && rule.net().isUnixSocketRule() &&
         rule.net().unixPath.matches(path);
}

}  // namespace
}  // namespace _

Decision decideNetConnect(const UnitPolicy& unit, std::string_view host, uint16_t port,
                          const IpAddress* address) {
  std::string refused;
  std::optional<_::Target> target = _::targetOf(host, port, address, refused);
  if (!target) return _::defaultDeny(std::move(refused));
  Decision decision = _::learnNet(unit, *target, port, _::decideByRules(unit, *target, port));
  std::optional<IpAddress> inner = target->address ? target->address->embeddedIpv4() : std::nullopt;
  if (!decision.allowed() || !inner) return decision;
  // The IPv6 address is translated or tunnelled to an IPv4 one: both must be allowed, so a deny
  // on 127.0.0.0/8 holds for 64:ff9b::7f00:1 too.
  _::Target translated = *target;
  translated.address = inner;
  translated.shown = target->shown + " via " + target->address->describe();
  Decision reached =
      _::learnNet(unit, translated, port, _::decideByRules(unit, translated, port));
  if (reached.allowed()) return decision;
  reached.reason = target->address->describe() + " reaches IPv4 " + inner->describe() + ": " +
                   reached.reason;
  return reached;
}

bool netConnectNeedsAddress(const UnitPolicy& unit, std::string_view host, uint16_t port) {
  std::string refused;
  std::optional<_::Target> target = _::targetOf(host, port, nullptr, refused);
  if (!target) return false;
  auto couldAllow = [&](const Rule& rule) {
    if (rule.effect != Effect::ALLOW) return false;
    if (_::tcpSpecificity(rule, target->name, port, nullptr) >= 0) return true;
    return rule.operation == Operation::NET_CONNECT && !rule.net().hostBlocks.empty() &&
           _::listsPort(rule, port);
  };
  // A learning unit's learn_hosts may allow it too: decided per address like a rule.
  return std::any_of(unit.rules.begin(), unit.rules.end(), couldAllow) ||
         std::any_of(unit.learnGrants.begin(), unit.learnGrants.end(), couldAllow);
}

Decision decideNetConnectUnix(const UnitPolicy& unit, std::string_view path) {
  Refusal refused = validateRequestPath(path);
  if (refused.refuses()) {
    return _::defaultDeny("refused net.connect to \"" + _::printable(path) + "\": " + refused.why());
  }
  _::Best best;
  for (const Rule& rule : unit.rules) {
    if (_::unixRuleMatches(rule, path)) best.offer(rule, rule.net().unixPath.specificity());
  }
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows net.connect to Unix socket " + _::printable(path));
  }
  return _::fromBest(best, "unix_path matches " + best.rule->net().unixPath.text());
}

std::vector<RuleMatch> matchingNetConnectRules(const UnitPolicy& unit, std::string_view host,
                                               uint16_t port, const IpAddress* address) {
  std::vector<RuleMatch> matches;
  std::string refused;
  std::optional<_::Target> target = _::targetOf(host, port, address, refused);
  if (!target) return matches;
  const IpAddress* at = target->address ? &*target->address : nullptr;
  for (const Rule& rule : unit.rules) {
    int score = _::tcpSpecificity(rule, target->name, port, at);
    if (score >= 0) matches.push_back(RuleMatch{&rule, score});
  }
  _::rankMatches(unit, matches);
  return matches;
}

std::vector<RuleMatch> matchingNetConnectUnixRules(const UnitPolicy& unit, std::string_view path) {
  std::vector<RuleMatch> matches;
  if (validateRequestPath(path).refuses()) return matches;
  for (const Rule& rule : unit.rules) {
    if (_::unixRuleMatches(rule, path)) {
      matches.push_back(RuleMatch{&rule, rule.net().unixPath.specificity()});
    }
  }
  _::rankMatches(unit, matches);
  return matches;
}

}  // namespace airlock::policy
