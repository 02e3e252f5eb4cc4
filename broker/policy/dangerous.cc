#include "broker/policy/dangerous.h"

namespace airlock::policy {

namespace _ {
namespace {

bool writes(OpenModes modes) {
  return modes.has(OpenMode::WRITE) || modes.has(OpenMode::CREATE) ||
         modes.has(OpenMode::TRUNCATE) || modes.has(OpenMode::APPEND);
}

// The system directory `root` is or is under, or "" if none.
std::string_view systemDirectoryOf(std::string_view root) {
  for (std::string_view dir : SYSTEM_DIRECTORIES) {
    if (root == dir || (root.starts_with(dir) && root.size() > dir.size() &&
                        root[dir.size()] == '/')) {
      return dir;
    }
  }
  return {};
}

}  // namespace
}  // namespace _

std::string dangerousAllowance(const Rule& rule) {
  if (rule.effect != Effect::ALLOW || !isFsOperation(rule.operation)) return {};
  if (rule.path.matchesEverything()) {
    return "grants the whole file system (path \"" + rule.path.text() + "\")";
  }
  // fs.mkdir, fs.unlink, fs.rename and fs.symlink change the tree: write access as a write mode is.
  bool writes = rule.operation == Operation::FS_OPEN ? _::writes(rule.modes)
                                                     : isFsWriteOperation(rule.operation);
  if (!writes) return {};
  const std::string& root = rule.path.root();
  if (root == "/") {
    return "grants write access at the file system root (path \"" + rule.path.text() + "\")";
  }
  std::string_view system = _::systemDirectoryOf(root);
  if (!system.empty()) {
    return "grants write access under " + std::string(system) +
           ", a system directory, not a data directory";
  }
  return {};
}

}  // namespace airlock::policy
