// libFuzzer target for the cgroup discovery parsers (broker/resources/cgroup_mounts.h), which
// read /proc/self/cgroup and /proc/self/mountinfo at airlockd's start. Input: the two texts,
// separated by the first NUL byte. Invariants:
//   - no crash and no hang on any text;
//   - every directory placesOf() returns lies under a mount point the mountinfo text named, so
//     airlockd never makes a group anywhere the kernel did not show it a cgroup file system.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/resources/cgroup_mounts.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::broker::resources;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\0');
  std::string_view procCgroup = input.substr(0, split);
  std::string_view mountinfo = split == std::string_view::npos ? "" : input.substr(split + 1);
  auto mounts = parseCgroupMounts(mountinfo);
  CgroupPlaces places = placesOf(parseProcCgroup(procCgroup), mounts);
  auto underAMount = [&](const std::string& dir) {
    for (auto& [controller, mount] : mounts) {
      if (dir.rfind(mount.mountPoint, 0) == 0) return true;
    }
    return false;
  };
  for (auto& [controller, dir] : places.v1) {
    airlock::fuzz::fuzzCheck(underAMount(dir), "a v1 group lies under a cgroup mount", dir);
  }
  if (!places.v2.empty()) {
    airlock::fuzz::fuzzCheck(underAMount(places.v2), "the v2 group lies under a cgroup2 mount",
                             places.v2);
  }
  return 0;
}
