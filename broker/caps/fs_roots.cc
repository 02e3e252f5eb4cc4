#include "broker/caps/fs_roots.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker {

namespace _ {
namespace {

// The pattern whose root a rule's requests are resolved beneath, if it has one.
const policy::PathPattern* grantedPattern(const policy::Rule& rule) {
  if (policy::isFsOperation(rule.operation)) return &rule.fs().path;
  if (rule.operation == policy::Operation::NET_CONNECT && rule.net().isUnixSocketRule()) {
    return &rule.net().unixPath;
  }
  return nullptr;
}

}  // namespace
}  // namespace _

FsRoots FsRoots::open(const std::vector<policy::UnitPolicy>& units) {
  FsRoots roots;
  for (auto& unit : units) {
    for (auto& rule : unit.rules) roots.openRootOf(rule);
    // A learning unit acts beneath its learn grants' roots as beneath its rules'.
    for (auto& grant : unit.learnGrants) roots.openRootOf(grant);
  }
  return roots;
}

void FsRoots::openRootOf(const policy::Rule& rule) {
  const policy::PathPattern* pattern = _::grantedPattern(rule);
  if (pattern == nullptr) return;
  const std::string& root = pattern->root();
  if (fds_.count(root) || missing_.count(root)) return;
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    missing_[root] = std::string("cannot open granted root ") + root + ": " + strerror(errno) +
                     " (rule " + rule.id + " at " + rule.where.describe() + ")";
    return;
  }
  fds_.emplace(root, kj::AutoCloseFd(fd));
}

int FsRoots::find(const std::string& root, std::string& why) const {
  auto it = fds_.find(root);
  if (it != fds_.end()) return it->second.get();
  auto missing = missing_.find(root);
  why = missing != missing_.end() ? missing->second : "granted root " + root + " was not opened";
  return -1;
}

}  // namespace airlock::broker
