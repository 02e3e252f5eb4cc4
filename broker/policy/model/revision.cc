#include "broker/policy/model/revision.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

#include "broker/policy/model/canonical_rule.h"

namespace airlock::policy {

namespace _ {
namespace {

void putUnit(std::string& out, const UnitPolicy& unit) {
  put(out, unit.name);
  // As written, not as resolved: the revision is the policy's, the same wherever --workers points.
  put(out, unit.workerName);
  if (!unit.pythonScript.empty()) {  // only when set, as program
    put(out, "python_worker");
    put(out, unit.pythonScript);
  }
  if (!unit.programPath.empty()) {  // only when set: a worker unit keeps its revision
    put(out, "program");
    put(out, unit.programPath);
  }
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
  // Only when set, so a unit without [resources] keeps its revision.
  if (unit.resources.any() || unit.resourcesEnforcement != LayerStrictness::REQUIRED) {
    put(out, "resources-v1");
    for (uint64_t value : unit.resources.values) put(out, value);
    put(out, static_cast<uint64_t>(unit.resourcesEnforcement));
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
  // Only when not "any", so a unit without the key keeps its revision.
  if (unit.workerReuse.reuse != WorkerReuse::ANY) {
    put(out, "worker-reuse-v1");
    put(out, workerReuseName(unit.workerReuse.reuse));
  }
  if (!unit.flow.isDefault()) {
    put(out, "flow-v1");
    put(out, unit.flow.maxCallsInFlight);
    put(out, unit.flow.maxCallsPerSecond);
    put(out, unit.flow.callsBurst);
  }
  // Only when set, like the others: a unit without [sandbox] syscalls keeps its revision.
  if (unit.onRefusedSyscall != SyscallRefusal::KILL) put(out, "on-refused-syscall-errno");
  if (unit.brokerSyscalls) put(out, "broker-syscalls");
  if (!unit.syscalls.empty()) {
    put(out, "syscalls-v1");
    put(out, unit.syscalls.size());
    for (auto& name : unit.syscalls) put(out, name);
  }
  // The profile's contents, not its file name: editing the JSON file is a policy change.
  if (unit.seccompProfile != nullptr) {
    put(out, "seccomp-profile-v1");
    put(out, unit.seccompProfile->canonical);
  }
  if (!unit.requests.isDefault()) {
    put(out, "requests-v1");
    put(out, unit.requests.maxRequestsPerSecond);
    put(out, unit.requests.requestsBurst);
  }
  // Only when learning: an enforcing unit keeps its revision.
  if (unit.learning()) {
    put(out, "learn-v1");
    put(out, unit.learnGrants.size());
    for (const Rule& grant : unit.learnGrants) putRule(out, grant);
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
