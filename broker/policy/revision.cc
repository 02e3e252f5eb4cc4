#include "broker/policy/revision.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

namespace airlock::policy {

namespace _ {
namespace {

// Length-prefixed, so no two different sequences of fields serialize alike.
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
  switch (rule.operation) {
    case Operation::FS_OPEN:
      put(out, rule.path.text());
      put(out, rule.modes.bits);
      break;
    case Operation::CALL:
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
      break;
    case Operation::SECRETS_GET:
      put(out, rule.secretNames.size());
      for (auto& name : rule.secretNames) put(out, name);
      break;    case Operation::NET_CONNECT:
      put(out, rule.unixPath.text());
      put(out, rule.hostNames.size());
      for (auto& name : rule.hostNames) put(out, name);
      put(out, rule.hostBlocks.size());
      for (auto& block : rule.hostBlocks) put(out, block.describe());
      put(out, rule.ports.size());
      for (auto& range : rule.ports) put(out, range.describe());
      break;
    case Operation::FS_STAT:
    case Operation::FS_LIST:
    case Operation::FS_MKDIR:
    case Operation::FS_UNLINK:
    case Operation::FS_RENAME:
    case Operation::FS_SYMLINK:
      // The operation's name is already in; only the path decides beyond it.
      put(out, rule.path.text());
      break;
    case Operation::INVOKE:
      put(out, rule.invokeUnits.size());
      for (auto& unit : rule.invokeUnits) put(out, unit);
      put(out, rule.methods.size());
      for (auto& method : rule.methods) put(out, method);
      break;
  }
}

void putUnit(std::string& out, const UnitPolicy& unit) {
  put(out, unit.name);
  // As written, not as resolved: the revision is the policy's, the same wherever --workers points.
  put(out, unit.workerName);
  put(out, static_cast<uint64_t>(unit.instances));
  put(out, static_cast<uint64_t>(unit.callTimeout.count()));
  put(out, unit.maxPayloadBytes);
  put(out, unit.readOnlyPaths.size());
  for (auto& path : unit.readOnlyPaths) put(out, path);
  // Only when not the defaults, so a policy without [limits] or landlock keeps its revision.
  if (unit.landlock != LayerStrictness::REQUIRED || unit.limits != WorkerLimits{}) {
    put(out, "sandbox-v2");
    put(out, static_cast<uint64_t>(unit.landlock));
    put(out, unit.limits.memoryMiB);
    put(out, unit.limits.openFiles);
    put(out, unit.limits.threads);
    put(out, unit.limits.fileSizeMiB);
    put(out, unit.limits.cpuSeconds);
  }
  // Only when set, so a unit without a typed interface keeps its revision. The methods are the
  // schema's meaning (ids and names), not the file's path or text.
  if (unit.typedInterface != nullptr) {
    const TypedInterface& typed = *unit.typedInterface;
    put(out, "interface-v1");
    put(out, typed.name);
    put(out, typed.id);
    put(out, typed.methods.size());
    for (const auto& method : typed.methods) {
      put(out, method.interfaceId);
      put(out, method.methodId);
      put(out, method.name);
    }
  }
  // Likewise: a unit that keeps the default restart behaviour keeps its revision.
  if (!unit.restart.isDefault()) {
    put(out, "restart-v1");
    put(out, restartPolicyName(unit.restart.policy));
    put(out, static_cast<uint64_t>(unit.restart.crashLoopLimit));
    put(out, static_cast<uint64_t>(unit.restart.crashLoopWindow.count()));
  }
  if (!unit.flow.isDefault()) {
    put(out, "flow-v1");
    put(out, unit.flow.maxCallsInFlight);
    put(out, unit.flow.maxCallsPerSecond);
    put(out, unit.flow.callsBurst);
  }
  // Only when set, like the others: a unit without [sandbox] syscalls keeps its revision.
  if (!unit.syscalls.empty()) {
    put(out, "syscalls-v1");
    put(out, unit.syscalls.size());
    for (auto& name : unit.syscalls) put(out, name);
  }
  if (!unit.requests.isDefault()) {
    put(out, "requests-v1");
    put(out, unit.requests.maxRequestsPerSecond);
    put(out, unit.requests.requestsBurst);
  }
  put(out, unit.rules.size());
  for (const Rule& rule : unit.rules) putRule(out, rule);
}

}  // namespace
}  // namespace _

std::string canonicalForm(const UnitPolicy& unit) {
  std::string out;
  _::putUnit(out, unit);
  return out;
}

std::string canonicalForm(const Rule& rule) {
  std::string out;
  _::putRule(out, rule);
  return out;
}

std::string policyRevision(const std::vector<UnitPolicy>& units,
                           const std::vector<std::string>& admins) {
  std::vector<const UnitPolicy*> byName;
  for (const UnitPolicy& unit : units) byName.push_back(&unit);
  std::sort(byName.begin(), byName.end(),
            [](const UnitPolicy* a, const UnitPolicy* b) { return a->name < b->name; });
  std::string canonical = "airlock-policy-v1,";
  _::put(canonical, byName.size());
  for (const UnitPolicy* unit : byName) _::putUnit(canonical, *unit);
  if (!admins.empty()) {
    // Only when there are admins, so a set without [broker] keeps the revision it always had.
    std::vector<std::string> sorted = admins;
    std::sort(sorted.begin(), sorted.end());
    canonical += "admins,";
    _::put(canonical, sorted.size());
    for (auto& name : sorted) _::put(canonical, name);
  }

  unsigned char digest[POLICY_REVISION_HEX_CHARS / 2];
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(canonical.data()),
                     canonical.size(), nullptr, 0);
  char hex[POLICY_REVISION_HEX_CHARS + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

std::shared_ptr<const std::string> stampRevision(std::vector<UnitPolicy>& units,
                                                 const std::vector<std::string>& admins) {
  auto revision = std::make_shared<const std::string>(policyRevision(units, admins));
  for (UnitPolicy& unit : units) unit.revision = revision;
  return revision;
}

}  // namespace airlock::policy
