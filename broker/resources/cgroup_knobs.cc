#include "broker/resources/cgroup_knobs.h"

#include <kj/debug.h>

#include <algorithm>

namespace airlock::broker::resources {

namespace _ {
namespace {

using policy::ResourceKey;

std::string mibOrUnlimitedV1(uint64_t mib) { return mib == 0 ? "-1" : std::to_string(mib << 20); }
std::string mibOrMaxV2(uint64_t mib) { return mib == 0 ? "max" : std::to_string(mib << 20); }
std::string quotaV1(uint64_t percent) {
  return percent == 0 ? "-1" : std::to_string(percent * CPU_PERIOD_US / 100);
}
std::string quotaV2(uint64_t percent) {
  std::string period = " " + std::to_string(CPU_PERIOD_US);
  return percent == 0 ? "max" + period : std::to_string(percent * CPU_PERIOD_US / 100) + period;
}
// v2's weight 100 is v1's 1024 shares (each the default); the scale is linear, floor 2 (v1's
// least).
std::string sharesV1(uint64_t weight) {
  return std::to_string(weight == 0 ? 1024 : std::max<uint64_t>(2, weight * 1024 / 100));
}
std::string weightV2(uint64_t weight) { return std::to_string(weight == 0 ? 100 : weight); }
std::string pidsMax(uint64_t pids) { return pids == 0 ? "max" : std::to_string(pids); }
// blkio.weight is 10..1000 with 500 the default: v2's 100 maps to 500.
std::string blkioWeightV1(uint64_t weight) {
  return std::to_string(weight == 0 ? 500 : std::clamp<uint64_t>(weight * 5, 10, 1000));
}
std::string ioWeightV2(uint64_t weight) { return "default " + weightV2(weight); }

constexpr CgroupKnob KNOBS[] = {
    {ResourceKey::MEMORY_MAX_MIB, "memory", "memory.limit_in_bytes", "memory", "memory.max",
     mibOrUnlimitedV1, mibOrMaxV2},
    {ResourceKey::MEMORY_HIGH_MIB, "memory", "memory.soft_limit_in_bytes", "memory", "memory.high",
     mibOrUnlimitedV1, mibOrMaxV2},
    {ResourceKey::CPU_MAX_PERCENT, "cpu", "cpu.cfs_quota_us", "cpu", "cpu.max", quotaV1, quotaV2},
    {ResourceKey::CPU_WEIGHT, "cpu", "cpu.shares", "cpu", "cpu.weight", sharesV1, weightV2},
    {ResourceKey::PIDS_MAX, "pids", "pids.max", "pids", "pids.max", pidsMax, pidsMax},
    {ResourceKey::IO_WEIGHT, "blkio", "blkio.weight", "io", "io.weight", blkioWeightV1,
     ioWeightV2},
};
static_assert(std::size(KNOBS) == policy::RESOURCE_KEY_COUNT);

}  // namespace
}  // namespace _

const char* cgroupVersionName(CgroupVersion version) {
  return version == CgroupVersion::V1 ? "cgroup v1" : "cgroup v2";
}

uint64_t cpuWeightFor(const policy::UnitResources& resources, uint64_t cpus) {
  using policy::ResourceKey;
  if (resources.isSet(ResourceKey::CPU_WEIGHT)) return resources.get(ResourceKey::CPU_WEIGHT);
  uint64_t percent = resources.get(ResourceKey::CPU_MAX_PERCENT);
  if (percent == 0) return 0;
  return std::clamp<uint64_t>(percent / std::max<uint64_t>(cpus, 1), 1, 100);
}

bool runsInBackground(const policy::UnitResources& resources) {
  using policy::ResourceKey;
  return resources.isSet(ResourceKey::CPU_MAX_PERCENT) && !resources.isSet(ResourceKey::CPU_WEIGHT);
}

const CgroupKnob& knobOf(policy::ResourceKey key) {
  const CgroupKnob& knob = _::KNOBS[static_cast<size_t>(key)];
  KJ_ASSERT(knob.key == key, "knobs follow the enum");
  return knob;
}

}  // namespace airlock::broker::resources
