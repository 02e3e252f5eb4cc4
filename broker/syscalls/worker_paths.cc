#include "broker/syscalls/worker_paths.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/io.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "sandbox/mount_root.h"

namespace airlock::broker::syscalls {

namespace _ {

std::string readLink(const std::string& link) {
  char buffer[PATH_MAX + 1];
  ssize_t n = readlink(link.c_str(), buffer, PATH_MAX);
  if (n <= 0) return "";
  std::string target(buffer, static_cast<size_t>(n));
  // Not a directory the broker can name by path: "socket:[...]", "/x (deleted)", ...
  if (target[0] != '/' || target.ends_with(" (deleted)")) return "";
  return target;
}

std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace _

bool isAtOrBeneath(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

SandboxView SandboxView::of(const sandbox::SandboxSpec& spec) {
  sandbox::RootPlan plan = sandbox::planRoot(spec);
  SandboxView view;
  for (auto& bind : plan.binds) view.bound_.push_back(bind.path);
  for (auto& link : plan.symlinks) view.bound_.push_back(link.path);
  view.empty_.push_back(plan.workingDirectory);
  for (auto& dir : plan.emptyDirectories) view.empty_.push_back(dir);
  return view;
}

bool SandboxView::binds(const std::string& path) const {
  for (auto& bound : bound_) {
    if (isAtOrBeneath(path, bound)) return true;
  }
  return false;
}

bool SandboxView::shows(const std::string& path) const {
  std::string parent = _::parentOf(path);
  for (auto& bound : bound_) {
    if (isAtOrBeneath(path, bound) || isAtOrBeneath(bound, parent)) return true;
  }
  for (auto& empty : empty_) {
    if (isAtOrBeneath(empty, path)) return true;  // the directory itself, or one above it
  }
  return false;
}

std::vector<std::string> brokeredRoots(const policy::UnitPolicy& unit) {
  std::set<std::string> roots;
  for (auto& rule : unit.rules) {
    if (policy::isFsOperation(rule.operation)) roots.insert(rule.fs().path.root());
  }
  // A learning unit's learn_paths are brokered as its rules' roots are: what it does there is
  // performed and recorded by the broker (a descriptor it opened there can be chmod'ed, its
  // working directory there is listed), or the learning run would differ from the enforced one.
  if (unit.learning()) {
    for (auto& grant : unit.learnGrants) {
      if (policy::isFsOperation(grant.operation)) roots.insert(grant.fs().path.root());
    }
  }
  return {roots.begin(), roots.end()};
}

std::string absoluteNormal(const std::string& base, const std::string& path) {
  std::string joined = path.starts_with("/") ? path : base + "/" + path;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    std::string part = joined.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = slash + 1;
  }
  std::string out;
  for (auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

std::string startingDirectory(int pidfd, pid_t tid, int dirfd) {
  if (dirfd == AT_FDCWD) return _::readLink("/proc/" + std::to_string(tid) + "/cwd");
  if (dirfd < 0) return "";
  long copy = syscall(SYS_pidfd_getfd, pidfd, dirfd, 0);
  if (copy < 0) return "";
  kj::AutoCloseFd owned(static_cast<int>(copy));
  return descriptorPath(owned.get());
}

mode_t threadUmask(pid_t tid) {
  constexpr mode_t UNREADABLE = 077;
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("Umask:")) continue;
    unsigned long mask = 0;
    if (sscanf(line.c_str() + 6, "%lo", &mask) != 1 || mask > 0777) return UNREADABLE;
    return static_cast<mode_t>(mask);
  }
  return UNREADABLE;
}

std::string descriptorPath(int fd) { return _::readLink("/proc/self/fd/" + std::to_string(fd)); }

}  // namespace airlock::broker::syscalls
