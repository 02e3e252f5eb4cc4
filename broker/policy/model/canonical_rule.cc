#include "broker/policy/model/canonical_rule.h"

namespace airlock::policy::_ {

void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ',';
}

void put(std::string& out, uint64_t number) { put(out, std::to_string(number)); }

void putRule(std::string& out, const Rule& rule) {
  put(out, rule.id);
  put(out, rule.effect == Effect::ALLOW ? "allow" : "deny");
  put(out, operationName(rule.operation));
  operationRow(rule.operation).putCanonical(out, rule);
}

void putFsOpenConditions(std::string& out, const Rule& rule) {
  const FsKeys& fs = rule.fs();
  put(out, fs.path.text());
  put(out, fs.modes.bits);
  // Only when set, so a policy without granted_only keeps the revision it always had.
  if (fs.grantedOnly) put(out, "granted_only");
}

namespace {

// The clients of a call or grant rule (its caller_unit, a call rule's only, comes later).
void putCallers(std::string& out, const CallerKeys& callers) {
  put(out, callers.callerNames.size());
  for (auto& name : callers.callerNames) put(out, name);
  put(out, callers.callerUids.size());
  for (uid_t uid : callers.callerUids) put(out, uid);
}

}  // namespace

void putGrantConditions(std::string& out, const Rule& rule) {
  const GrantKeys& grant = rule.grant();
  putCallers(out, grant);
  put(out, grant.path.text());
  put(out, grant.modes.bits);
  // Only when set, so a grant rule without descriptors keeps the revision it always had.
  if (!grant.descriptors.empty()) {
    put(out, "descriptors");
    put(out, grant.descriptors.bits);
  }
}

void putFsPathConditions(std::string& out, const Rule& rule) {
  // The operation's name is already in; only the path decides beyond it.
  put(out, rule.fs().path.text());
}

void putCallConditions(std::string& out, const Rule& rule) {
  const CallKeys& call = rule.call();
  putCallers(out, call);
  put(out, call.methods.size());
  for (auto& method : call.methods) put(out, method);
  // Only when set, so a policy without caller_unit keeps the revision it always had.
  if (!call.callerUnits.empty()) {
    put(out, "caller_unit");
    put(out, call.callerUnits.size());
    for (auto& unit : call.callerUnits) put(out, unit);
  }
}

void putSecretsGetConditions(std::string& out, const Rule& rule) {
  put(out, rule.secrets().secretNames.size());
  for (auto& name : rule.secrets().secretNames) put(out, name);
}

void putNetConnectConditions(std::string& out, const Rule& rule) {
  const NetKeys& net = rule.net();
  put(out, net.unixPath.text());
  put(out, net.hostNames.size());
  for (auto& name : net.hostNames) put(out, name);
  put(out, net.hostBlocks.size());
  for (auto& block : net.hostBlocks) put(out, block.describe());
  put(out, net.ports.size());
  for (auto& range : net.ports) put(out, range.describe());
}

void putInvokeConditions(std::string& out, const Rule& rule) {
  const InvokeKeys& invoke = rule.invoke();
  put(out, invoke.invokeUnits.size());
  for (auto& unit : invoke.invokeUnits) put(out, unit);
  put(out, invoke.methods.size());
  for (auto& method : invoke.methods) put(out, method);
}

}  // namespace airlock::policy::_
