#include "broker/policy/review/unit_changes.h"

#include <map>

#include "broker/policy/model/revision.h"

namespace airlock::policy {

namespace {

// The same profile contents: what the worker's filter is compiled from.
bool sameProfile(const UnitPolicy& a, const UnitPolicy& b) {
  if (a.seccompProfile == nullptr || b.seccompProfile == nullptr) {
    return a.seccompProfile == b.seccompProfile;
  }
  return a.seccompProfile->canonical == b.seccompProfile->canonical;
}

}  // namespace

bool sameWorkers(const UnitPolicy& a, const UnitPolicy& b) {
  return sameProfile(a, b) && a.name == b.name && a.workerPath == b.workerPath &&
         // A new build installed over the same file: the running workers run the old one.
         a.workerFileIdentity == b.workerFileIdentity &&
         a.pythonScript == b.pythonScript && a.programPath == b.programPath && a.instances == b.instances &&
         a.readOnlyPaths == b.readOnlyPaths && a.landlock == b.landlock && a.limits == b.limits &&
         a.syscalls == b.syscalls && a.onRefusedSyscall == b.onRefusedSyscall &&
         a.brokerSyscalls == b.brokerSyscalls &&
         // A learning worker's filter lets syscalls run that an enforcing one's refuses.
         a.mode == b.mode &&
         // A worker bound to a caller, or kept for one call, must not carry on under "any" (nor
         // one that served anyone become bound): the pool starts afresh.
         a.workerReuse.reuse == b.workerReuse.reuse &&
         // A brokered unit's workers decide their own syscalls by the rules they started with.
         (!a.brokerSyscalls || canonicalForm(a) == canonicalForm(b));
}

UnitChanges compareUnits(const std::vector<UnitPolicy>& before,
                         const std::vector<UnitPolicy>& after) {
  std::map<std::string_view, const UnitPolicy*> old, now;
  for (auto& unit : before) old[unit.name] = &unit;
  for (auto& unit : after) now[unit.name] = &unit;
  UnitChanges changes;
  for (auto& [name, unit] : now) {
    auto previous = old.find(name);
    if (previous == old.end()) {
      changes.added.emplace_back(name);
    } else if (!sameWorkers(*previous->second, *unit)) {
      changes.restarted.emplace_back(name);
    } else if (canonicalForm(*previous->second) != canonicalForm(*unit)) {
      changes.changed.emplace_back(name);
    } else {
      changes.unchanged.emplace_back(name);
    }
  }
  for (auto& [name, unit] : old) {
    if (!now.count(name)) changes.removed.emplace_back(name);
  }
  return changes;
}

}  // namespace airlock::policy
