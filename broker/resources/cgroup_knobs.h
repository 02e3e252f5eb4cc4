#pragma once
// The one table from [resources] keys to cgroup files: for each key, the controller and file
// that enforce it under cgroup v1 and under v2, and the value written for a policy's number (or
// for "not set", which a reload that drops a key writes back). `airlock doctor`, the groups and
// the docs read it. Pure.

#include <cstdint>
#include <string>

#include "broker/policy/model/resources.h"

namespace airlock::broker::resources {

enum class CgroupVersion : uint8_t { V1, V2 };
const char* cgroupVersionName(CgroupVersion version);  // "cgroup v1", "cgroup v2"

struct CgroupKnob {
  policy::ResourceKey key;
  const char* v1Controller;
  const char* v1File;
  const char* v2Controller;
  const char* v2File;
  std::string (*v1Value)(uint64_t value);  // 0: the value of a group with no limit
  std::string (*v2Value)(uint64_t value);

  const char* controller(CgroupVersion version) const {
    return version == CgroupVersion::V1 ? v1Controller : v2Controller;
  }
  const char* file(CgroupVersion version) const {
    return version == CgroupVersion::V1 ? v1File : v2File;
  }
  std::string value(CgroupVersion version, uint64_t policyValue) const {
    return (version == CgroupVersion::V1 ? v1Value : v2Value)(policyValue);
  }
};

const CgroupKnob& knobOf(policy::ResourceKey key);

// The CPU weight written for a unit: its cpu_weight if set; else, under a cpu_max_percent, the
// share of the machine the cap allows of the default weight 100 (cpu_max_percent / cpus, at
// least 1, at most 100), so that a unit capped at a fraction of the CPUs does not compete at
// full weight while it is under its quota (docs/policy.md, [resources]); else 0 (the default).
// Under the idle class (runsInBackground) the kernel holds its own weight instead; this one is
// what a kernel without the class keeps.
// `cpus`: the CPUs airlockd may run on (at least 1).
uint64_t cpuWeightFor(const policy::UnitResources& resources, uint64_t cpus);

// Whether a unit's group runs in the kernel's idle class (`cpu.idle`, v1 and v2, Linux 5.15+):
// a unit with a cpu_max_percent and no cpu_weight. A weight only sets a share, so a capped burner
// under its quota still holds every CPU for whole slices and delays the other units' woken
// workers (PERFORMANCE.md, [resources]); a group in the idle class is preempted at once by any
// other task that wakes, and still gets the CPU nobody else wants, up to its cap. A cpu_weight
// set beside the cap asks for a share under contention instead.
bool runsInBackground(const policy::UnitResources& resources);
inline constexpr char CPU_IDLE_FILE[] = "cpu.idle";

// The CFS period airlockd gives every unit group: cpu_max_percent is a share of it. 100 ms is
// the kernel's default, short enough that a throttled unit's calls wait at most that long.
inline constexpr uint64_t CPU_PERIOD_US = 100000;

// The controllers a group's statistics come from, beyond the knobs' (v1 keeps CPU time apart).
inline constexpr const char* V1_CPU_ACCOUNTING = "cpuacct";

}  // namespace airlock::broker::resources
