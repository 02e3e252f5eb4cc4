#include "broker/resources/cgroup_mounts.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace airlock::broker::resources {

namespace _ {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A path joined under a mount: the cgroup path relative to the mount's root. A path outside the
// mounted subtree is unreachable here: "".
std::string joinUnder(const CgroupMount& mount, const std::string& path) {
  std::string_view rest = path;
  if (mount.root != "/") {
    if (!rest.starts_with(mount.root)) return "";
    rest.remove_prefix(mount.root.size());
    if (!rest.empty() && rest[0] != '/') return "";
  }
  std::string dir = mount.mountPoint;
  if (!rest.empty() && rest != "/") dir += std::string(rest);
  return dir;
}

}  // namespace
}  // namespace _

std::map<std::string, std::string> parseProcCgroup(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : _::split(text, '\n')) {
    size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    if (path.empty() || path[0] != '/') continue;
    if (controllers.empty()) {
      out[""] = path;
      continue;
    }
    for (std::string_view controller : _::split(controllers, ',')) {
      if (!controller.empty() && !controller.starts_with("name=")) out[std::string(controller)] = path;
    }
  }
  return out;
}

std::map<std::string, CgroupMount> parseCgroupMounts(std::string_view mountinfo) {
  std::map<std::string, CgroupMount> out;
  for (std::string_view line : _::split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional fields...] - type source super
    std::vector<std::string_view> fields = _::split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 3 >= fields.size()) continue;
    std::string_view type = fields[dash + 1];
    CgroupMount mount{std::string(fields[4]), std::string(fields[3])};
    // Mount points with spaces are escaped (\040) by the kernel; such a mount is not ours to use.
    if (mount.mountPoint.find('\\') != std::string::npos) continue;
    if (type == "cgroup2") {
      out.emplace("", mount);
    } else if (type == "cgroup") {
      for (std::string_view option : _::split(fields[dash + 3], ',')) {
        if (option == "rw" || option == "ro" || option.starts_with("name=") ||
            option.find('=') != std::string_view::npos || option.empty()) {
          continue;
        }
        out.emplace(std::string(option), mount);
      }
    }
  }
  return out;
}

CgroupPlaces placesOf(const std::map<std::string, std::string>& procCgroup,
                      const std::map<std::string, CgroupMount>& mounts) {
  CgroupPlaces places;
  for (auto& [controller, path] : procCgroup) {
    auto mount = mounts.find(controller);
    if (mount == mounts.end()) continue;
    std::string dir = _::joinUnder(mount->second, path);
    if (dir.empty()) continue;
    if (controller.empty()) {
      places.v2 = dir;
    } else {
      places.v1[controller] = dir;
    }
  }
  return places;
}

CgroupPlaces discoverCgroupPlaces() {
  CgroupPlaces places = placesOf(parseProcCgroup(_::readAll("/proc/self/cgroup")),
                                 parseCgroupMounts(_::readAll("/proc/self/mountinfo")));
  if (!places.v2.empty()) {
    // Held here: split() returns views into it, and a range-for keeps only the vector alive.
    std::string controllers = _::readAll(places.v2 + "/cgroup.controllers");
    for (std::string_view name : _::split(controllers, ' ')) {
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.remove_suffix(1);
      if (!name.empty()) places.v2Controllers.insert(std::string(name));
    }
  }
  return places;
}

}  // namespace airlock::broker::resources
