#pragma once
// [resources]: what a unit's workers may use together, enforced by the kernel through cgroups
// (broker/resources/). Unlike [limits] (rlimits, one worker each, fixed at its start), these
// bound the unit as a whole and a reload applies a change to the running workers. Pure.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace airlock::policy {

struct SourceLocation;  // policy.h

// One per key of [resources], in the order of the table (broker/policy/table/resource_keys.cc).
enum class ResourceKey : uint8_t {
  MEMORY_MAX_MIB,   // hard memory limit: past it the kernel's OOM killer takes a worker
  MEMORY_HIGH_MIB,  // soft limit: reclaimed towards it under pressure, never killed for it
  CPU_MAX_PERCENT,  // CPU time per period, in percent of one CPU (may exceed 100)
  CPU_WEIGHT,       // share of contended CPU, 1..10000 (100: as much as anyone by default)
  PIDS_MAX,         // processes and threads of all the unit's workers
  IO_WEIGHT,        // share of contended block I/O, 1..10000
};
inline constexpr size_t RESOURCE_KEY_COUNT = 6;

// A row of the one table of [resources] keys: the policy key, its bounds, and what it bounds.
struct ResourceKeyRow {
  ResourceKey key;
  std::string_view name;  // as written in the policy, e.g. "memory_max_mib"
  int64_t min, max;
  std::string_view what;  // for docs and `policy explain`: what the kernel does at the limit
};
std::span<const ResourceKeyRow> resourceKeyRows();  // every key, at the index of its enum value
const ResourceKeyRow& resourceKeyRow(ResourceKey key);

// The values a unit's [resources] sets; 0 means "not set" (every key's minimum is 1).
struct UnitResources {
  std::array<uint64_t, RESOURCE_KEY_COUNT> values{};

  uint64_t get(ResourceKey key) const { return values[static_cast<size_t>(key)]; }
  bool isSet(ResourceKey key) const { return get(key) != 0; }
  bool any() const {
    for (uint64_t value : values) {
      if (value != 0) return true;
    }
    return false;
  }
  bool operator==(const UnitResources&) const = default;
};

}  // namespace airlock::policy
