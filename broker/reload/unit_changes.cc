#include "broker/reload/unit_changes.h"

#include <map>

#include "broker/policy/revision.h"

namespace airlock::broker {

bool sameWorkers(const policy::UnitPolicy& a, const policy::UnitPolicy& b) {
  return a.name == b.name && a.workerPath == b.workerPath && a.instances == b.instances &&
         a.readOnlyPaths == b.readOnlyPaths;
}

UnitChanges compareUnits(const std::vector<policy::UnitPolicy>& before,
                         const std::vector<policy::UnitPolicy>& after) {
  std::map<std::string_view, const policy::UnitPolicy*> old, now;
  for (auto& unit : before) old[unit.name] = &unit;
  for (auto& unit : after) now[unit.name] = &unit;
  UnitChanges changes;
  for (auto& [name, unit] : now) {
    auto previous = old.find(name);
    if (previous == old.end()) {
      changes.added.emplace_back(name);
    } else if (!sameWorkers(*previous->second, *unit)) {
      changes.restarted.emplace_back(name);
    } else if (policy::canonicalForm(*previous->second) != policy::canonicalForm(*unit)) {
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

}  // namespace airlock::broker
