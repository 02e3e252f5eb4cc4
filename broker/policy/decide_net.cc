#include "broker/policy/decide_net.h"

#include <algorithm>

#include "broker/policy/decide_support.h"

namespace airlock::policy {

namespace _ {
namespace {

// A listed name stands for the one address it resolved to; with no address yet, any value ranks
// names equally among themselves.
constexpr int NAME_WITHOUT_ADDRESS = 128;

bool listsPort(const Rule& rule, uint16_t port) {
  return std::any_of(rule.ports.begin(), rule.ports.end(),
                     [port](const PortRange& range) { return range.contains(port); });
}

// The rule's specificity for this request, or -1 when it does not match (decide_net.h).
int tcpSpecificity(const Rule& rule, std::string_view host, uint16_t port,
                   const IpAddress* address) {
  if (rule.operation != Operation::NET_CONNECT || rule.isUnixSocketRule()) return -1;
  if (!listsPort(rule, port)) return -1;
  int best = -1;
  auto& names = rule.hostNames;
  if (std::find(names.begin(), names.end(), host) != names.end()) {
    best = address != nullptr ? address->bits() : NAME_WITHOUT_ADDRESS;
  }
  if (address != nullptr) {
    for (const IpBlock& block : rule.hostBlocks) {
      if (block.contains(*address)) best = std::max(best, static_cast<int>(block.prefixBits));
    }
  }
  return best;
}

std::string refuseTcp(std::string_view host, uint16_t port) {
  std::string refused = validateRequestHost(host);
  if (!refused.empty()) return "refused net.connect to \"" + printable(host) + "\": " + refused;
  if (port == 0) return "refused net.connect to " + std::string(host) + ": port 0 is not a port";
  return {};
}

std::string target(std::string_view host, uint16_t port, const IpAddress* address) {
  std::string out = std::string(host) + " port " + std::to_string(port);
  if (address != nullptr && address->describe() != host) out += " (" + address->describe() + ")";
  return out;
}

// Why the winning rule matched: by name or by the block holding the address.
std::string tcpDetail(const Rule& rule, std::string_view host, uint16_t port,
                      const IpAddress* address, int specificity) {
  std::string how;
  auto& names = rule.hostNames;
  bool byName = std::find(names.begin(), names.end(), host) != names.end() &&
                specificity == (address ? address->bits() : NAME_WITHOUT_ADDRESS);
  if (byName) {
    how = "host " + std::string(host) + " listed";
  } else {
    for (const IpBlock& block : rule.hostBlocks) {
      if (block.contains(*address) && block.prefixBits == specificity) {
        how = "address " + address->describe() + " in " + block.describe();
        break;
      }
    }
  }
  return how + ", port " + std::to_string(port) + " listed";
}

bool unixRuleMatches(const Rule& rule, std::string_view path) {
  return rule.operation == Operation::NET_CONNECT && rule.isUnixSocketRule() &&
         rule.unixPath.matches(path);
}

}  // namespace
}  // namespace _

Decision decideNetConnect(const UnitPolicy& unit, std::string_view host, uint16_t port,
                          const IpAddress* address) {
  std::string refused = _::refuseTcp(host, port);
  if (!refused.empty()) return _::defaultDeny(std::move(refused));
  _::Best best;
  for (const Rule& rule : unit.rules) {
    int score = _::tcpSpecificity(rule, host, port, address);
    if (score >= 0) best.offer(rule, score);
  }
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows net.connect to " + _::target(host, port, address));
  }
  return _::fromBest(best, _::tcpDetail(*best.rule, host, port, address, best.specificity));
}

bool netConnectNeedsAddress(const UnitPolicy& unit, std::string_view host, uint16_t port) {
  if (!_::refuseTcp(host, port).empty()) return false;
  return std::any_of(unit.rules.begin(), unit.rules.end(), [&](const Rule& rule) {
    if (rule.effect != Effect::ALLOW) return false;
    if (_::tcpSpecificity(rule, host, port, nullptr) >= 0) return true;
    return rule.operation == Operation::NET_CONNECT && !rule.hostBlocks.empty() &&
           _::listsPort(rule, port);
  });
}

Decision decideNetConnectUnix(const UnitPolicy& unit, std::string_view path) {
  std::string refused = validateRequestPath(path);
  if (!refused.empty()) {
    return _::defaultDeny("refused net.connect to \"" + _::printable(path) + "\": " + refused);
  }
  _::Best best;
  for (const Rule& rule : unit.rules) {
    if (_::unixRuleMatches(rule, path)) best.offer(rule, rule.unixPath.specificity());
  }
  if (best.rule == nullptr) {
    return _::defaultDeny("no rule allows net.connect to Unix socket " + _::printable(path));
  }
  return _::fromBest(best, "unix_path matches " + best.rule->unixPath.text());
}

std::vector<RuleMatch> matchingNetConnectRules(const UnitPolicy& unit, std::string_view host,
                                               uint16_t port, const IpAddress* address) {
  std::vector<RuleMatch> matches;
  if (!_::refuseTcp(host, port).empty()) return matches;
  for (const Rule& rule : unit.rules) {
    int score = _::tcpSpecificity(rule, host, port, address);
    if (score >= 0) matches.push_back(RuleMatch{&rule, score});
  }
  _::rankMatches(unit, matches);
  return matches;
}

std::vector<RuleMatch> matchingNetConnectUnixRules(const UnitPolicy& unit, std::string_view path) {
  std::vector<RuleMatch> matches;
  if (!validateRequestPath(path).empty()) return matches;
  for (const Rule& rule : unit.rules) {
    if (_::unixRuleMatches(rule, path)) {
      matches.push_back(RuleMatch{&rule, rule.unixPath.specificity()});
    }
  }
  _::rankMatches(unit, matches);
  return matches;
}

}  // namespace airlock::policy
