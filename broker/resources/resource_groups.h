#pragma once
// The kernel's side of [resources]: a cgroup per unit, beneath it a leaf per worker (so an
// out-of-memory kill takes one worker, whole), all beneath one group of this airlockd
// ("airlockd-<pid>") made under the cgroup it was started in, never elsewhere. One interface,
// two back ends: cgroup v2 (one tree; workers born in their leaf with CLONE_INTO_CGROUP, the
// daemon itself moved to a leaf so that no group with children holds a process) and cgroup v1
// (a tree per controller; the launcher writes the worker's pid into its leaves before releasing
// it). Broker-side, event-loop thread only; main() makes the one instance.

#include <sys/types.h>

#include <kj/refcount.h>

#include <cstdint>
#include <string>
#include <vector>

#include "broker/policy/model/resources.h"
#include "broker/resources/cgroup_knobs.h"
#include "broker/resources/cgroup_mounts.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox_spec.h"

namespace airlock::broker::resources {

// What a group has used, as its cgroup files say; 0 where the controller is not there.
struct GroupUsage {
  uint64_t memoryBytes = 0;       // now
  uint64_t memoryPeakBytes = 0;   // the most it ever held
  uint64_t cpuMicros = 0;         // CPU time of every process that ran in it
  uint64_t throttledPeriods = 0;  // CFS periods in which cpu_max_percent held it back
  uint64_t throttledMicros = 0;   // how long it waited for that
  uint64_t oomKills = 0;          // processes the kernel's OOM killer took in it
  bool background = false;        // in the kernel's CPU idle class (cgroup_knobs.h), as it holds
};

// One worker's leaf. Refcounted: a call in flight keeps reading its CPU time while the pool
// may already have dropped the worker. The last reference removes the directories (the worker
// has been reaped by then: its WorkerProcess holds one).
class WorkerLeaf : public kj::Refcounted {
 public:
  virtual ~WorkerLeaf() noexcept(false) = default;
  virtual void place(sandbox::CgroupPlacement& placement) const = 0;
  // Fills in how the launcher puts the worker in this leaf (fds borrowed from the leaf).
  virtual GroupUsage usage() const = 0;
  virtual uint64_t cpuMicros() const = 0;  // usage().cpuMicros alone: one file, read per call

  void explainExit(sandbox::ExitStatus& status) const;
  // Once the leaf's one process has been reaped: a SIGKILL while the leaf counts an OOM kill
  // was the kernel's (v1 counts it in the leaf only), so `status` says out of memory, with the
  // leaf's memory peak.
};

class UnitGroup {
 public:
  virtual ~UnitGroup() noexcept(false) = default;
  [[nodiscard]] virtual std::vector<std::string> apply(const policy::UnitResources& resources) = 0;
  // Writes every key: the set ones as their limits, the others back to "no limit" (a reload
  // that drops a key). Returns one line per set limit the machine cannot enforce, naming the key,
  // the controller and the file (and errno); empty: all in force. The running workers are
  // beneath this group, so a change applies to them at once.
  virtual kj::Own<WorkerLeaf> newLeaf() = 0;
  // Makes a leaf now; throws, naming the directory and errno. A leaf made ahead of the start it
  // is for keeps the mkdir (one per hierarchy) off that start's path: the launcher then only
  // places the child in it. A leaf nobody started a process in is removed when dropped.
  virtual GroupUsage usage() const = 0;       // of all the unit's workers together
};

class ResourceGroups {
 public:
  virtual ~ResourceGroups() noexcept(false) = default;
  virtual CgroupVersion version() const = 0;
  virtual kj::Own<UnitGroup> unitGroup(const std::string& unitName) = 0;
  // A new group for a unit's pool (a pool that replaces another gets its own). Throws.
  virtual std::string describe() const = 0;  // the hierarchy and each controller's directory
};

kj::Own<ResourceGroups> openResourceGroups(const CgroupPlaces& places, pid_t self);
// Picks cgroup v2 when this process's v2 group offers a controller, else the mounted v1
// controllers; removes the groups of airlockd processes that no longer run (a crash leaves
// them); makes this airlockd's group. Null, with the reason logged, when neither hierarchy can
// be used: workers then run in airlockd's own cgroup and any [resources] limit is unenforceable.

}  // namespace airlock::broker::resources
