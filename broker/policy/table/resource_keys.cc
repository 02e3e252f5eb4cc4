#include "broker/policy/model/resources.h"

#include <kj/debug.h>

namespace airlock::policy {

namespace _ {
namespace {

// Bounds: a MiB past 2^20 (a TiB) or more than 1000 % of one CPU per worker group is no limit
// a policy means; weights are cgroup v2's range (v1's are mapped onto it, cgroup_knobs.cc).
constexpr ResourceKeyRow RESOURCE_KEYS[] = {
    {ResourceKey::MEMORY_MAX_MIB, "memory_max_mib", 4, 1 << 20,
     "memory of all the unit's workers together; past it the kernel's OOM killer kills one worker"},
    {ResourceKey::MEMORY_HIGH_MIB, "memory_high_mib", 4, 1 << 20,
     "memory above which the kernel reclaims the workers' pages first; nobody is killed for it"},
    {ResourceKey::CPU_MAX_PERCENT, "cpu_max_percent", 1, 100000,
     "CPU time per 100 ms period, in percent of one CPU; past it the workers wait (throttled)"},
    {ResourceKey::CPU_WEIGHT, "cpu_weight", 1, 10000,
     "share of the CPU when it is contended; 100 is the default every group has"},
    {ResourceKey::PIDS_MAX, "pids_max", 1, 1 << 22,
     "processes and threads of all the unit's workers; past it fork and clone fail with EAGAIN"},
    {ResourceKey::IO_WEIGHT, "io_weight", 1, 10000,
     "share of the block devices when they are contended; 100 is the default"},
};
static_assert(std::size(RESOURCE_KEYS) == RESOURCE_KEY_COUNT);

}  // namespace
}  // namespace _

std::span<const ResourceKeyRow> resourceKeyRows() {
  for (size_t i = 0; i < std::size(_::RESOURCE_KEYS); ++i) {
    KJ_ASSERT(static_cast<size_t>(_::RESOURCE_KEYS[i].key) == i, "rows follow the enum");
  }
  return _::RESOURCE_KEYS;
}

const ResourceKeyRow& resourceKeyRow(ResourceKey key) {
  return resourceKeyRows()[static_cast<size_t>(key)];
}

}  // namespace airlock::policy
