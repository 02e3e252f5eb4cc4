#include "broker/policy/explain.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "broker/policy/decide_net.h"

namespace airlock::policy {

namespace _ {
namespace {

// The arguments each operation takes, and which of them must be given.
struct OperationArgs {
  std::set<std::string> required, optional;
};

OperationArgs argsOf(Operation op) {
  switch (op) {
    case Operation::FS_OPEN: return {{"path", "mode"}, {}};
    case Operation::CALL: return {{"method"}, {"caller", "uid", "caller_unit"}};
    case Operation::SECRETS_GET: return {{"name"}, {}};
    case Operation::FS_STAT:
    case Operation::FS_LIST:
    case Operation::FS_MKDIR:
    case Operation::FS_UNLINK: return {{"path"}, {}};
    case Operation::FS_RENAME: return {{"from", "to"}, {}};
    case Operation::FS_SYMLINK: return {{"path"}, {"target"}};
    // Either host and port (and the address a name resolves to) or unix_path: netRequest checks.
    case Operation::NET_CONNECT: return {{}, {"host", "port", "address", "unix_path"}};
    case Operation::INVOKE: return {{"unit", "method"}, {}};
  }
  return {};
}

// A call comes from a client (caller and uid) or from a unit (caller_unit), never both.
std::string checkCallerArgs(const std::map<std::string, std::string>& args) {
  bool client = args.count("caller") > 0, unit = args.count("caller_unit") > 0;
  if (client && unit) return "call takes --arg caller=NAME or --arg caller_unit=UNIT, not both";
  if (!client && !unit) return "call needs --arg caller=NAME (a client) or --arg caller_unit=UNIT";
  if (client && !args.count("uid")) return "call needs --arg uid=N with --arg caller";
  if (unit && args.count("uid")) return "uid applies to a client caller, not caller_unit";
  return {};
}

std::string checkArgs(Operation op, const std::map<std::string, std::string>& args) {
  OperationArgs known = argsOf(op);
  for (auto& [key, value] : args) {
    if (!known.required.count(key) && !known.optional.count(key)) {
      std::string list;
      for (auto& k : known.required) list += (list.empty() ? "" : ", ") + k;
      for (auto& k : known.optional) list += (list.empty() ? "" : ", ") + k;
      return "unknown argument \"" + key + "\" for " + operationName(op) + " (takes " + list + ")";
    }
  }
  for (auto& key : known.required) {
    if (!args.count(key)) return std::string(operationName(op)) + " needs --arg " + key + "=...";
  }
  return op == Operation::CALL ? checkCallerArgs(args) : std::string();
}

// "read,write" -> modes; an unknown name sets `error`.
OpenModes parseModes(const std::string& text, std::string& error) {
  OpenModes modes;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string name = text.substr(start, end - start);
    auto found = std::find_if(ALL_OPEN_MODES.begin(), ALL_OPEN_MODES.end(),
                              [&name](OpenMode m) { return name == openModeName(m); });
    if (found == ALL_OPEN_MODES.end()) {
      error = "unknown open mode \"" + name + "\" (read, write, create, truncate, append)";
      return modes;
    }
    modes.add(*found);
    start = end + 1;
  }
  return modes;
}

// A net.connect request's arguments: host=NAME port=N [address=IP] or unix_path=PATH. An error
// when they mix or miss; `address` must be an IP address.
std::string netRequest(const std::map<std::string, std::string>& args, uint16_t& port,
                       std::optional<IpAddress>& address) {
  if (args.count("unix_path")) {
    if (args.size() != 1) return "net.connect takes unix_path=PATH alone, or host= and port=";
    return {};
  }
  if (!args.count("host") || !args.count("port")) {
    return "net.connect needs --arg host=... --arg port=N (or --arg unix_path=PATH)";
  }
  const std::string& text = args.at("port");
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return "port must be a number 0..65535, not \"" + text + "\"";
  }
  if (args.count("address")) {
    address = IpAddress::parse(args.at("address"));
    if (!address) return "address must be an IPv4 or IPv6 address, not \"" + args.at("address") + "\"";
  } else {
    // A literal host is its own address, as the broker treats it.
    address = IpAddress::parseAsResolver(args.at("host"));
  }
  return {};
}

Decision denyByDefault(std::string reason) {
  return Decision{Verdict::DENY, std::string(DEFAULT_DENY_RULE_ID), std::move(reason), nullptr};
}

// The matches other than the deciding rule.
std::vector<RuleMatch> losers(std::vector<RuleMatch> matches, const Decision& decision) {
  std::erase_if(matches, [&decision](const RuleMatch& m) { return m.rule == decision.rule; });
  return matches;
}

// fs.stat, fs.list, fs.mkdir, fs.unlink, fs.rename, fs.symlink in a unit that exists.
void explainFsPath(const UnitPolicy& unit, Operation op, const ExplainRequest& request,
                   Explanation& out) {
  const auto& args = request.args;
  std::string name = operationName(op);
  if (op == Operation::FS_RENAME) {
    const std::string &from = args.at("from"), &to = args.at("to");
    out.request = name + " " + from + " -> " + to + " in unit " + unit.name;
    out.decision = decideFsRename(unit, from, to);
    auto matches = matchingFsPathRules(unit, op, from);
    for (const RuleMatch& m : matchingFsPathRules(unit, op, to)) {
      bool seen = std::any_of(matches.begin(), matches.end(),
                              [&m](const RuleMatch& x) { return x.rule == m.rule; });
      if (!seen) matches.push_back(m);
    }
    out.lost = losers(std::move(matches), out.decision);
    return;
  }
  const std::string& path = args.at("path");
  out.request = name + " " + path + " in unit " + unit.name;
  auto target = args.find("target");
  if (op == Operation::FS_SYMLINK && target != args.end()) {
    out.request = name + " " + path + " -> " + target->second + " in unit " + unit.name;
    out.decision = decideFsSymlink(unit, path, target->second);
  } else {
    out.decision = decideFsPath(unit, op, path);
  }
  out.lost = losers(matchingFsPathRules(unit, op, path), out.decision);
}

// call, by a client (caller, uid) or by a unit (caller_unit: as UnitsServer::invoke decides the
// callee's side). `unit` is null when no policy defines it.
void explainCall(const UnitPolicy* unit, const ExplainRequest& request, Explanation& out) {
  const auto& args = request.args;
  uid_t uid = 0;
  if (!args.count("caller_unit")) {
    const std::string& uidText = args.at("uid");
    auto [end, ec] = std::from_chars(uidText.data(), uidText.data() + uidText.size(), uid);
    if (ec != std::errc() || end != uidText.data() + uidText.size() || uidText.empty()) {
      out.error = "uid must be a number, not \"" + uidText + "\"";
      return;
    }
  }
  Caller caller = args.count("caller_unit") ? Caller::unit(args.at("caller_unit"))
                                            : Caller{args.at("caller"), uid};
  const std::string& method = args.at("method");
  out.request = "call " + request.unit + "." + method + " by " + caller.describe();
  if (unit == nullptr) {
    // As UnitServer::call answers a call for a unit no policy defines.
    out.decision = denyByDefault("no policy defines unit \"" + request.unit + "\"");
    return;
  }
  out.decision = decideCall(*unit, caller, method);
  out.lost = losers(matchingCallRules(*unit, caller, method), out.decision);
}

// invoke: may `request.unit` (the caller) invoke args unit.method? The caller's side only.
void explainInvoke(const UnitPolicy* unit, const ExplainRequest& request, Explanation& out) {
  const std::string &callee = request.args.at("unit"), &method = request.args.at("method");
  out.request = "invoke " + callee + "." + method + " by unit " + request.unit;
  if (unit == nullptr) {
    out.decision = denyByDefault("no policy defines unit \"" + request.unit + "\"");
    return;
  }
  out.decision = decideInvoke(*unit, callee, method);
  out.lost = losers(matchingInvokeRules(*unit, callee, method), out.decision);
}

}  // namespace
}  // namespace _

Explanation explain(const std::vector<UnitPolicy>& units, const ExplainRequest& request) {
  Explanation out;
  std::optional<Operation> op;
  for (Operation known : ALL_OPERATIONS) {
    if (request.operation == operationName(known)) op = known;
  }
  out.request = request.operation + " in unit " + request.unit;
  if (!op) {
    std::string known;
    for (Operation o : ALL_OPERATIONS) {
      known += (known.empty() ? "" : ", ") + std::string(operationName(o));
    }
    out.decision = _::denyByDefault("no operation \"" + request.operation +
                                    "\" (airlockd decides " + known + ")");
    return out;
  }
  out.error = _::checkArgs(*op, request.args);
  if (!out.error.empty()) return out;
  auto unit = std::find_if(units.begin(), units.end(),
                           [&request](const UnitPolicy& u) { return u.name == request.unit; });
  if (*op == Operation::FS_OPEN) {
    OpenModes modes = _::parseModes(request.args.at("mode"), out.error);
    if (!out.error.empty()) return out;
    const std::string& path = request.args.at("path");
    out.request = "fs.open " + path + " (" + modes.describe() + ") in unit " + request.unit;
    if (unit == units.end()) {
      out.decision = _::denyByDefault("no policy defines unit \"" + request.unit + "\"");
      return out;
    }
    out.decision = decideFsOpen(*unit, path, modes);
    out.lost = _::losers(matchingFsOpenRules(*unit, path, modes), out.decision);
    return out;
  }
  if (isFsOperation(*op)) {
    if (unit == units.end()) {
      out.decision = _::denyByDefault("no policy defines unit \"" + request.unit + "\"");
      return out;
    }
    _::explainFsPath(*unit, *op, request, out);
    return out;
  }
  if (*op == Operation::NET_CONNECT) {
    uint16_t port = 0;
    std::optional<IpAddress> address;
    out.error = _::netRequest(request.args, port, address);
    if (!out.error.empty()) return out;
    bool isUnix = request.args.count("unix_path") != 0;
    const std::string& target = isUnix ? request.args.at("unix_path") : request.args.at("host");
    out.request = "net.connect " + target + (isUnix ? "" : " port " + std::to_string(port)) +
                  (address && address->describe() != target ? " (" + address->describe() + ")"
                                                            : "") +
                  " in unit " + request.unit;
    if (unit == units.end()) {
      out.decision = _::denyByDefault("no policy defines unit \"" + request.unit + "\"");
      return out;
    }
    const IpAddress* at = address ? &*address : nullptr;
    out.decision = isUnix ? decideNetConnectUnix(*unit, target)
                          : decideNetConnect(*unit, target, port, at);
    out.lost = _::losers(isUnix ? matchingNetConnectUnixRules(*unit, target)
                                : matchingNetConnectRules(*unit, target, port, at),
                         out.decision);
    return out;
  }
  if (*op == Operation::SECRETS_GET) {
    const std::string& name = request.args.at("name");
    out.request = "secrets.get " + name + " in unit " + request.unit;
    if (unit == units.end()) {
      out.decision = _::denyByDefault("no policy defines unit \"" + request.unit + "\"");
      return out;
    }
    out.decision = decideSecretsGet(*unit, name);
    out.lost = _::losers(matchingSecretsGetRules(*unit, name), out.decision);
    return out;
  }
  const UnitPolicy* found = unit == units.end() ? nullptr : &*unit;
  if (*op == Operation::INVOKE) {
    _::explainInvoke(found, request, out);
  } else {
    _::explainCall(found, request, out);
  }
  return out;
}

}  // namespace airlock::policy
