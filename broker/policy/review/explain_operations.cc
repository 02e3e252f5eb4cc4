#include "broker/policy/review/explain_operations.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "broker/policy/decide/decide_grant.h"
#include "broker/policy/decide/decide_net.h"

namespace airlock::policy::_ {

namespace {

// Decides `out` as airlockd answers a request for a unit no policy defines, if `unit` is null.
bool deniedForUnknownUnit(const UnitPolicy* unit, const ExplainRequest& request,
                          Explanation& out) {
  if (unit != nullptr) return false;
  out.decision = denyByDefault("no policy defines unit \"" + request.unit + "\"");
  return true;
}

// The matches other than the deciding rule.
std::vector<RuleMatch> losers(std::vector<RuleMatch> matches, const Decision& decision) {
  std::erase_if(matches, [&decision](const RuleMatch& m) { return m.rule == decision.rule; });
  return matches;
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

// A uid written in an argument; an error when it is not a number.
uid_t parseUid(const std::string& text, std::string& error) {
  uid_t uid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    error = "uid must be a number, not \"" + text + "\"";
  }
  return uid;
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

}  // namespace

Decision denyByDefault(std::string reason) {
  return Decision{Verdict::DENY, std::string(DEFAULT_DENY_RULE_ID), std::move(reason), nullptr};
}

// With `grant=PATH:MODES`: as if the call the worker serves had been granted that (whether the
// caller may grant it is `explain UNIT grant`'s question).
void explainFsOpen(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                   Explanation& out) {
  OpenModes modes = parseModes(request.args.at("mode"), out.error);
  if (!out.error.empty()) return;
  const std::string& path = request.args.at("path");
  std::vector<CallGrant> grants;
  auto grantArg = request.args.find("grant");
  if (grantArg != request.args.end()) {
    const std::string& text = grantArg->second;
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      out.error = "grant must be PATH:MODES (e.g. /srv/docs/a.xml:read), not \"" + text + "\"";
      return;
    }
    grants.push_back(CallGrant{text.substr(0, colon), parseModes(text.substr(colon + 1), out.error)});
    if (!out.error.empty()) return;
  }
  out.request = "fs.open " + path + " (" + modes.describe() + ") in unit " + request.unit;
  if (!grants.empty()) out.request += " with grant #0 " + grants[0].describe();
  if (deniedForUnknownUnit(unit, request, out)) return;
  out.decision = decideFsOpen(*unit, path, modes, grants);
  out.lost = losers(matchingFsOpenRules(*unit, path, modes, grants), out.decision);
}

void explainFsPath(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                   Explanation& out) {
  if (deniedForUnknownUnit(unit, request, out)) return;
  const std::string& path = request.args.at("path");
  out.request = std::string(operationName(op)) + " " + path + " in unit " + unit->name;
  out.decision = decideFsPath(*unit, op, path);
  out.lost = losers(matchingFsPathRules(*unit, op, path), out.decision);
}

void explainFsRename(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                     Explanation& out) {
  if (deniedForUnknownUnit(unit, request, out)) return;
  const std::string &from = request.args.at("from"), &to = request.args.at("to");
  out.request = std::string(operationName(op)) + " " + from + " -> " + to + " in unit " +
                unit->name;
  out.decision = decideFsRename(*unit, from, to);
  auto matches = matchingFsPathRules(*unit, op, from);
  for (const RuleMatch& m : matchingFsPathRules(*unit, op, to)) {
    bool seen = std::any_of(matches.begin(), matches.end(),
                            [&m](const RuleMatch& x) { return x.rule == m.rule; });
    if (!seen) matches.push_back(m);
  }
  out.lost = losers(std::move(matches), out.decision);
}

// Without a target, only the link's path is decided.
void explainFsSymlink(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                      Explanation& out) {
  auto target = request.args.find("target");
  if (target == request.args.end()) return explainFsPath(unit, op, request, out);
  if (deniedForUnknownUnit(unit, request, out)) return;
  const std::string& path = request.args.at("path");
  out.request = std::string(operationName(op)) + " " + path + " -> " + target->second +
                " in unit " + unit->name;
  out.decision = decideFsSymlink(*unit, path, target->second);
  out.lost = losers(matchingFsPathRules(*unit, op, path), out.decision);
}

// By a client (caller, uid) or by a unit (caller_unit: as UnitsServer::invoke decides the
// callee's side).
void explainCall(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                 Explanation& out) {
  const auto& args = request.args;
  out.error = checkCallerArgs(args);
  if (!out.error.empty()) return;
  uid_t uid = 0;
  if (!args.count("caller_unit")) {
    uid = parseUid(args.at("uid"), out.error);
    if (!out.error.empty()) return;
  }
  Caller caller = args.count("caller_unit") ? Caller::unit(args.at("caller_unit"))
                                            : Caller{args.at("caller"), uid};
  const std::string& method = args.at("method");
  out.request = "call " + request.unit + "." + method + " by " + caller.describe();
  // As UnitServer::call answers a call for a unit no policy defines.
  if (deniedForUnknownUnit(unit, request, out)) return;
  out.decision = decideCall(*unit, caller, method);
  out.lost = losers(matchingCallRules(*unit, caller, method), out.decision);
  const WorkerReuseSetting& reuse = unit->workerReuse;
  if (!out.decision.allowed() || reuse.reuse == WorkerReuse::ANY) return;
  out.worker = std::string("worker_reuse = \"") + workerReuseName(reuse.reuse) + "\" " +
               reuse.where.describe() + ": ";
  out.worker += reuse.reuse == WorkerReuse::NEVER
                    ? "served by a fresh worker that serves no other call"
                    : "served by a worker that serves only " + caller.describe() +
                          " for its whole life";
}

void explainSecretsGet(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                       Explanation& out) {
  const std::string& name = request.args.at("name");
  out.request = "secrets.get " + name + " in unit " + request.unit;
  if (deniedForUnknownUnit(unit, request, out)) return;
  out.decision = decideSecretsGet(*unit, name);
  out.lost = losers(matchingSecretsGetRules(*unit, name), out.decision);
}

void explainNetConnect(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                       Explanation& out) {
  uint16_t port = 0;
  std::optional<IpAddress> address;
  out.error = netRequest(request.args, port, address);
  if (!out.error.empty()) return;
  bool isUnix = request.args.count("unix_path") != 0;
  const std::string& target = isUnix ? request.args.at("unix_path") : request.args.at("host");
  out.request = "net.connect " + target + (isUnix ? "" : " port " + std::to_string(port)) +
                (address && address->describe() != target ? " (" + address->describe() + ")"
                                                          : "") +
                " in unit " + request.unit;
  if (deniedForUnknownUnit(unit, request, out)) return;
  const IpAddress* at = address ? &*address : nullptr;
  out.decision = isUnix ? decideNetConnectUnix(*unit, target)
                        : decideNetConnect(*unit, target, port, at);
  out.lost = losers(isUnix ? matchingNetConnectUnixRules(*unit, target)
                           : matchingNetConnectRules(*unit, target, port, at),
                    out.decision);
}

void explainGrant(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                  Explanation& out) {
  const auto& args = request.args;
  uid_t uid = parseUid(args.at("uid"), out.error);
  OpenModes modes = parseModes(args.at("mode"), out.error);
  if (!out.error.empty()) return;
  std::optional<DescriptorKind> descriptor;
  if (auto kind = args.find("descriptor"); kind != args.end()) {
    descriptor = parseDescriptorKind(kind->second);
    if (!descriptor) {
      out.error = "descriptor=" + kind->second + ": expected regular or directory";
      return;
    }
  }
  Caller caller{args.at("caller"), uid};
  const std::string& path = args.at("path");
  out.request = "grant " + path + " (" + modes.describe() + ")" +
                (descriptor ? std::string(" as a ") + descriptorKindName(*descriptor) +
                                  " descriptor"
                            : std::string()) +
                " to a call of unit " + request.unit + " by " + caller.describe();
  if (deniedForUnknownUnit(unit, request, out)) return;
  out.decision = decideGrant(*unit, caller, path, modes, descriptor);
  out.lost = losers(matchingGrantRules(*unit, caller, path, modes, descriptor), out.decision);
}

// May `request.unit` (the caller) invoke args unit.method? The caller's side only.
void explainInvoke(const UnitPolicy* unit, Operation, const ExplainRequest& request,
                   Explanation& out) {
  const std::string &callee = request.args.at("unit"), &method = request.args.at("method");
  out.request = "invoke " + callee + "." + method + " by unit " + request.unit;
  if (deniedForUnknownUnit(unit, request, out)) return;
  out.decision = decideInvoke(*unit, callee, method);
  out.lost = losers(matchingInvokeRules(*unit, callee, method), out.decision);
}

}  // namespace airlock::policy::_
