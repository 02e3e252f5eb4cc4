#include "broker/policy/review/rule_summary.h"

namespace airlock::policy {

namespace _ {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

void summarizeFsOpen(const Rule& rule, std::string& out) {
  const FsKeys& fs = rule.fs();
  out += " path=" + fs.path.text() + " mode=" + fs.modes.describe();
  if (fs.grantedOnly) out += " granted_only=true";
}

void summarizeFsPath(const Rule& rule, std::string& out) {
  out += " path=" + rule.fs().path.text();
}

namespace {

void summarizeCallers(const CallerKeys& callers, std::string& out) {
  if (!callers.callerNames.empty()) out += " caller=" + joined(callers.callerNames);
  if (!callers.callerUids.empty()) {
    std::vector<std::string> uids;
    for (uid_t uid : callers.callerUids) uids.push_back(std::to_string(uid));
    out += " caller_uid=" + joined(uids);
  }
}

}  // namespace

void summarizeCall(const Rule& rule, std::string& out) {
  const CallKeys& call = rule.call();
  summarizeCallers(call, out);
  if (!call.callerUnits.empty()) out += " caller_unit=" + joined(call.callerUnits);
  out += " method=" + joined(call.methods);
}

void summarizeGrant(const Rule& rule, std::string& out) {
  const GrantKeys& grant = rule.grant();
  summarizeCallers(grant, out);
  out += " path=" + grant.path.text() + " mode=" + grant.modes.describe();
  if (!grant.descriptors.empty()) out += " descriptors=" + grant.descriptors.describe();
}

void summarizeSecretsGet(const Rule& rule, std::string& out) {
  out += " name=" + joined(rule.secrets().secretNames);
}

void summarizeNetConnect(const Rule& rule, std::string& out) {
  const NetKeys& net = rule.net();
  if (net.isUnixSocketRule()) {
    out += " unix_path=" + net.unixPath.text();
    return;
  }
  std::vector<std::string> hosts = net.hostNames, ports;
  for (auto& block : net.hostBlocks) hosts.push_back(block.describe());
  for (auto& range : net.ports) ports.push_back(range.describe());
  out += " host=" + joined(hosts) + " port=" + joined(ports);
}

void summarizeInvoke(const Rule& rule, std::string& out) {
  const InvokeKeys& invoke = rule.invoke();
  out += " unit=" + joined(invoke.invokeUnits) + " method=" + joined(invoke.methods);
}

}  // namespace _

std::string ruleSummary(const Rule& rule) {
  std::string out = rule.effect == Effect::ALLOW ? "allow " : "deny ";
  out += operationName(rule.operation);
  operationRow(rule.operation).summarize(rule, out);
  return out;
}

}  // namespace airlock::policy
