#include "broker/policy/review/rule_summary.h"

namespace airlock::policy {

namespace _ {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

void summarizeFsOpen(const Rule& rule, std::string& out) {
  out += " path=" + rule.path.text() + " mode=" + rule.modes.describe();
  if (rule.grantedOnly) out += " granted_only=true";
}

void summarizeFsPath(const Rule& rule, std::string& out) { out += " path=" + rule.path.text(); }

namespace {

void summarizeCallers(const Rule& rule, std::string& out) {
  if (!rule.callerNames.empty()) out += " caller=" + joined(rule.callerNames);
  if (!rule.callerUids.empty()) {
    std::vector<std::string> uids;
    for (uid_t uid : rule.callerUids) uids.push_back(std::to_string(uid));
    out += " caller_uid=" + joined(uids);
  }
}

}  // namespace

void summarizeCall(const Rule& rule, std::string& out) {
  summarizeCallers(rule, out);
  if (!rule.callerUnits.empty()) out += " caller_unit=" + joined(rule.callerUnits);
  out += " method=" + joined(rule.methods);
}

void summarizeGrant(const Rule& rule, std::string& out) {
  summarizeCallers(rule, out);
  out += " path=" + rule.path.text() + " mode=" + rule.modes.describe();
  if (!rule.descriptors.empty()) out += " descriptors=" + rule.descriptors.describe();
}

void summarizeSecretsGet(const Rule& rule, std::string& out) {
  out += " name=" + joined(rule.secretNames);
}

void summarizeNetConnect(const Rule& rule, std::string& out) {
  if (rule.isUnixSocketRule()) {
    out += " unix_path=" + rule.unixPath.text();
    return;
  }
  std::vector<std::string> hosts = rule.hostNames, ports;
  for (auto& block : rule.hostBlocks) hosts.push_back(block.describe());
  for (auto& range : rule.ports) ports.push_back(range.describe());
  out += " host=" + joined(hosts) + " port=" + joined(ports);
}

void summarizeInvoke(const Rule& rule, std::string& out) {
  out += " unit=" + joined(rule.invokeUnits) + " method=" + joined(rule.methods);
}

}  // namespace _

std::string ruleSummary(const Rule& rule) {
  std::string out = rule.effect == Effect::ALLOW ? "allow " : "deny ";
  out += operationName(rule.operation);
  operationRow(rule.operation).summarize(rule, out);
  return out;
}

}  // namespace airlock::policy
