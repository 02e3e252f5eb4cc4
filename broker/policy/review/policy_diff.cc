#include "broker/policy/review/policy_diff.h"

#include <algorithm>
#include <map>

#include "broker/policy/model/revision.h"
#include "broker/policy/review/rule_summary.h"

namespace airlock::policy {

namespace _ {
namespace {

const UnitPolicy* findUnit(const std::vector<UnitPolicy>& units, const std::string& name) {
  for (auto& unit : units) {
    if (unit.name == name) return &unit;
  }
  return nullptr;
}

std::vector<std::string> settingChanges(const UnitPolicy& a, const UnitPolicy& b) {
  std::vector<std::string> out;
  auto compare = [&](const char* key, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(std::string(key) + ": " + x + " -> " + y);
  };
  compare("mode", unitModeName(a.mode), unitModeName(b.mode));
  compare("worker", a.workerName, b.workerName);
  compare("python_worker", a.pythonScript, b.pythonScript);
  compare("program", a.programPath, b.programPath);
  compare("instances", std::to_string(a.instances), std::to_string(b.instances));
  compare("call_timeout_ms", std::to_string(a.callTimeout.count()),
          std::to_string(b.callTimeout.count()));
  compare("max_payload_bytes", std::to_string(a.maxPayloadBytes),
          std::to_string(b.maxPayloadBytes));
  compare("restart", restartPolicyName(a.restart.policy), restartPolicyName(b.restart.policy));
  compare("crash_loop_limit", std::to_string(a.restart.crashLoopLimit),
          std::to_string(b.restart.crashLoopLimit));
  compare("crash_loop_window_ms", std::to_string(a.restart.crashLoopWindow.count()),
          std::to_string(b.restart.crashLoopWindow.count()));
  compare("worker_reuse", workerReuseName(a.workerReuse.reuse),
          workerReuseName(b.workerReuse.reuse));
  compare("max_calls_in_flight", std::to_string(a.flow.maxCallsInFlight),
          std::to_string(b.flow.maxCallsInFlight));
  compare("max_calls_per_second", std::to_string(a.flow.maxCallsPerSecond),
          std::to_string(b.flow.maxCallsPerSecond));
  compare("calls_burst", std::to_string(a.flow.callsBurst), std::to_string(b.flow.callsBurst));
  compare("max_requests_per_second", std::to_string(a.requests.maxRequestsPerSecond),
          std::to_string(b.requests.maxRequestsPerSecond));
  compare("requests_burst", std::to_string(a.requests.requestsBurst),
          std::to_string(b.requests.requestsBurst));
  compare("read_only_paths", "[" + joined(a.readOnlyPaths) + "]",
          "[" + joined(b.readOnlyPaths) + "]");
  auto strictness = [](LayerStrictness s) {
    return std::string(s == LayerStrictness::REQUIRED ? "required" : "best-effort");
  };
  compare("landlock", strictness(a.landlock), strictness(b.landlock));
  compare("syscalls", "[" + joined(a.syscalls) + "]", "[" + joined(b.syscalls) + "]");
  auto refusal = [](SyscallRefusal mode) {
    return std::string(mode == SyscallRefusal::KILL ? "kill" : "errno");
  };
  compare("on_refused_syscall", refusal(a.onRefusedSyscall), refusal(b.onRefusedSyscall));
  compare("broker_syscalls", a.brokerSyscalls ? "true" : "false",
          b.brokerSyscalls ? "true" : "false");
  auto profile = [](const UnitPolicy& unit) {
    return unit.seccompProfile == nullptr ? std::string("none")
                                          : "\"" + unit.seccompProfile->written + "\"";
  };
  compare("seccomp_profile", profile(a), profile(b));
  if (a.seccompProfile != nullptr && b.seccompProfile != nullptr &&
      a.seccompProfile->written == b.seccompProfile->written &&
      a.seccompProfile->canonical != b.seccompProfile->canonical) {
    out.push_back("seccomp_profile: \"" + b.seccompProfile->written + "\" has new contents");
  }
  compare("memory_mib", std::to_string(a.limits.memoryMiB), std::to_string(b.limits.memoryMiB));
  compare("open_files", std::to_string(a.limits.openFiles), std::to_string(b.limits.openFiles));
  compare("threads", std::to_string(a.limits.threads), std::to_string(b.limits.threads));
  compare("file_size_mib", std::to_string(a.limits.fileSizeMiB),
          std::to_string(b.limits.fileSizeMiB));
  compare("cpu_seconds", std::to_string(a.limits.cpuSeconds),
          std::to_string(b.limits.cpuSeconds));
  for (const ResourceKeyRow& row : resourceKeyRows()) {
    auto shown = [&](const UnitPolicy& unit) {
      return unit.resources.isSet(row.key) ? std::to_string(unit.resources.get(row.key))
                                           : std::string("unset");
    };
    compare(std::string(row.name).c_str(), shown(a), shown(b));
  }
  compare("resources", strictness(a.resourcesEnforcement), strictness(b.resourcesEnforcement));
  auto interface = [](const UnitPolicy& unit) {
    return unit.typedInterface == nullptr ? std::string("none") : unit.typedInterface->describe();
  };
  compare("interface", interface(a), interface(b));
  return out;
}

std::string located(const Rule& rule) {
  return ruleSummary(rule) + "  (" + rule.where.describe() + ")";
}

std::vector<RuleChange> ruleChanges(const UnitPolicy& a, const UnitPolicy& b) {
  std::map<std::string_view, const Rule*> old;
  for (auto& rule : a.rules) old[rule.id] = &rule;
  std::vector<RuleChange> out;
  std::map<std::string_view, bool> seen;
  for (auto& rule : b.rules) {
    seen[rule.id] = true;
    auto previous = old.find(rule.id);
    if (previous == old.end()) {
      out.push_back(RuleChange{RuleChange::ADDED, rule.id, "", located(rule)});
    } else if (canonicalForm(*previous->second) != canonicalForm(rule)) {
      out.push_back(
          RuleChange{RuleChange::CHANGED, rule.id, located(*previous->second), located(rule)});
    }
  }
  for (auto& rule : a.rules) {
    if (!seen.count(rule.id)) {
      out.push_back(RuleChange{RuleChange::REMOVED, rule.id, located(rule), ""});
    }
  }
  return out;
}

void setDifference(const std::vector<std::string>& a, const std::vector<std::string>& b,
                   std::vector<std::string>& out) {
  for (auto& name : a) {
    if (std::find(b.begin(), b.end(), name) == b.end()) out.push_back(name);
  }
}

}  // namespace
}  // namespace _

PolicyDiff diffPolicies(const LoadResult& before, const LoadResult& after) {
  PolicyDiff diff;
  diff.revisionBefore = policyRevision(before.units, before.broker.admins);
  diff.revisionAfter = policyRevision(after.units, after.broker.admins);
  UnitChanges changes = compareUnits(before.units, after.units);
  auto add = [&](const std::string& name, UnitDiff::Kind kind) {
    UnitDiff unit{name, kind, {}, {}};
    const UnitPolicy* a = _::findUnit(before.units, name);
    const UnitPolicy* b = _::findUnit(after.units, name);
    static const UnitPolicy NONE;
    unit.settings = (a && b) ? _::settingChanges(*a, *b) : std::vector<std::string>{};
    unit.rules = _::ruleChanges(a ? *a : NONE, b ? *b : NONE);
    diff.units.push_back(std::move(unit));
  };
  for (auto& name : changes.added) add(name, UnitDiff::ADDED);
  for (auto& name : changes.removed) add(name, UnitDiff::REMOVED);
  for (auto& name : changes.restarted) add(name, UnitDiff::RESTARTED);
  for (auto& name : changes.changed) add(name, UnitDiff::CHANGED);
  std::sort(diff.units.begin(), diff.units.end(),
            [](const UnitDiff& x, const UnitDiff& y) { return x.unit < y.unit; });
  _::setDifference(after.broker.admins, before.broker.admins, diff.adminsAdded);
  _::setDifference(before.broker.admins, after.broker.admins, diff.adminsRemoved);
  return diff;
}

}  // namespace airlock::policy
