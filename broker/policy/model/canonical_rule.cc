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
  put(out, rule.path.text());
  put(out, rule.modes.bits);
  // Only when set, so a policy without granted_only keeps the revision it always had.
  if (rule.grantedOnly) put(out, "granted_only");
}

void putGrantConditions(std::string& out, const Rule& rule) {
  put(out, rule.callerNames.size());
  for (auto& name : rule.callerNames) put(out, name);
  put(out, rule.callerUids.size());
  for (uid_t uid : rule.callerUids) put(out, uid);
  put(out, rule.path.text());
  put(out, rule.modes.bits);
  // Only when set, so a grant rule without descriptors keeps the revision it always had.
  if (!rule.descriptors.empty()) {
    put(out, "descriptors");
    put(out, rule.descriptors.bits);
  }
}

void putFsPathConditions(std::string& out, const Rule& rule) {
  // The operation's name is already in; only the path decides beyond it.
  put(out, rule.path.text());
}

void putCallConditions(std::string& out, const Rule& rule) {
  put(out, rule.callerNames.size());
  for (auto& name : rule.callerNames) put(out, name);
  put(out, rule.callerUids.size());
  for (uid_t uid : rule.callerUids) put(out, uid);
  put(out, rule.methods.size());
  for (auto& method : rule.methods) put(out, method);
  // Only when set, so a policy without caller_unit keeps the revision it always had.
  if (!rule.callerUnits.empty()) {
    put(out, "caller_unit");
    put(out, rule.callerUnits.size());
    for (auto& unit : rule.callerUnits) put(out, unit);
  }
}

void putSecretsGetConditions(std::string& out, const Rule& rule) {
  put(out, rule.secretNames.size());
  for (auto& name : rule.secretNames) put(out, name);
}

void putNetConnectConditions(std::string& out, const Rule& rule) {
  put(out, rule.unixPath.text());
  put(out, rule.hostNames.size());
  for (auto& name : rule.hostNames) put(out, name);
  put(out, rule.hostBlocks.size());
  for (auto& block : rule.hostBlocks) put(out, block.describe());
  put(out, rule.ports.size());
  for (auto& range : rule.ports) put(out, range.describe());
}

void putInvokeConditions(std::string& out, const Rule& rule) {
  put(out, rule.invokeUnits.size());
  for (auto& unit : rule.invokeUnits) put(out, unit);
  put(out, rule.methods.size());
  for (auto& method : rule.methods) put(out, method);
}

}  // namespace airlock::policy::_
