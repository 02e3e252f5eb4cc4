#pragma once
// What replacing one policy set by another changes, unit by unit: a reload's plan (which pools
// keep their workers, which restart), the body of its audit record, and `airlock policy diff`.

#include <string>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// True if `a` and `b` start workers the same way (worker, instances, worker_reuse, sandbox,
// limits): running
// workers can serve under `b` without a restart. Rules, timeouts and payload limits are read per
// call and do not need one, except in a unit with [sandbox] broker_syscalls, whose workers'
// brokered syscalls are decided by the rules they were started with: any change restarts them.
bool sameWorkers(const UnitPolicy& a, const UnitPolicy& b);

struct UnitChanges {
  std::vector<std::string> added;      // only in the new set: workers start
  std::vector<std::string> removed;    // only in the old set: workers stop
  std::vector<std::string> restarted;  // in both, workers started differently: replaced
  std::vector<std::string> changed;    // in both, same workers, other rules or limits
  std::vector<std::string> unchanged;
  // Each list in unit-name order.

  bool any() const { return !added.empty() || !removed.empty() || !restarted.empty() || !changed.empty(); }
};

UnitChanges compareUnits(const std::vector<UnitPolicy>& before,
                         const std::vector<UnitPolicy>& after);

}  // namespace airlock::policy
