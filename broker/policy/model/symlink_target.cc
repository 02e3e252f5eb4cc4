#include "broker/policy/model/symlink_target.h"

#include "broker/policy/model/path_pattern.h"

namespace airlock::policy {

Refusal refuseSymlinkTarget(std::string_view root, std::string_view linkPath,
                                std::string_view target) {
  return refuseSymlinkTargetAt(root, depthBeneath(root, linkPath), target, LinkChange::MAKE);
}

long depthBeneath(std::string_view root, std::string_view path) {
  if (path.size() <= root.size()) return -1;  // the root itself
  std::string_view below = path.substr(root == "/" ? 1 : root.size() + 1);
  long depth = 0;
  for (char c : below) depth += c == '/';
  return depth;
}

Refusal refuseSymlinkTargetAt(std::string_view root, long depth, std::string_view target,
                                  LinkChange change) {
  if (target.empty()) return "the symlink target is empty";
  if (target.find('\0') != std::string_view::npos) return "the symlink target has a NUL byte";
  if (target.size() >= MAX_PATH_BYTES) return "the symlink target is longer than PATH_MAX";
  if (target[0] == '/') return "the symlink target is absolute; only relative targets are made";
  bool descended = false;
  size_t start = 0;
  while (start <= target.size()) {
    size_t end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view segment = target.substr(start, end - start);
    if (segment == "..") {
      // After a name, `..` climbs from wherever that name leads: if it is itself a link ("L"
      // pointing at ".."), lexical and real resolution part ways and "L/.." could leave the root.
      if (descended) {
        return Refusal::because("the symlink target \"" + std::string(target) +
                                "\" has '..' after a name; only leading '..' segments are made");
      }
      if (--depth < 0) {
        return Refusal::because("the symlink target \"" + std::string(target) +
                                "\" climbs above " + std::string(root) +
                                ", the root of the rule that allows the " +
                                (change == LinkChange::MAKE ? "link" : "rename"));
      }
    } else if (!segment.empty() && segment != ".") {
      ++depth;
      descended = true;
    }
    start = end + 1;
  }
  return {};
}

}  // namespace airlock::policy
