#include "sandbox/mount_root.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace airlock::sandbox {

namespace _ {

// Debian 12 has a merged /usr: the libraries live under /usr/lib*, and these are symlinks into it.
constexpr const char* LIBRARY_DIRS[] = {"/usr/lib", "/usr/lib64"};
constexpr const char* USR_SYMLINKS[] = {"/lib", "/lib64", "/bin", "/sbin"};
constexpr const char* DEVICES[] = {"/dev/null", "/dev/zero", "/dev/urandom"};

// The tmpfs must be attached somewhere before pivot_root; /tmp exists everywhere, and this is
// the child's private copy of the mount table, so the host's /tmp is untouched.
constexpr const char* STAGING_DIR = "/tmp";
// The root holds only directories, mountpoint files and symlinks.
constexpr const char* ROOT_TMPFS_SIZE = "1m";

std::string canonical(const std::string& path) {
  KJ_REQUIRE(!path.empty() && path[0] == '/', "sandbox paths must be absolute", path);
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
}

bool isSymlink(const char* path, std::string& target) {
  struct stat st;
  if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) return false;
  char buffer[PATH_MAX];
  ssize_t n = readlink(path, buffer, sizeof(buffer) - 1);
  if (n <= 0) return false;
  target.assign(buffer, static_cast<size_t>(n));
  return true;
}

uint64_t mountFlags(BindKind kind) {
  uint64_t flags = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
  switch (kind) {
    case BindKind::PROGRAM:
    case BindKind::LIBRARY:
      return flags | MOUNT_ATTR_NODEV;
    case BindKind::READ_ONLY:
      return flags | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    case BindKind::DEVICE:
      return flags | MOUNT_ATTR_NOEXEC;
  }
  return flags | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
}

// Creates the parent directories of `relative` (a path below the new root, without leading /).
void makeParents(const std::string& relative, const SetupReporter& reporter) {
  for (size_t slash = relative.find('/'); slash != std::string::npos;
       slash = relative.find('/', slash + 1)) {
    std::string dir = relative.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
      reporter.fail("build root", errno, "mkdir(/%s, 0755)", dir.c_str());
    }
  }
}

// An empty directory or file to attach the clone `source` on, unless one is already there.
void makeMountpoint(int source, const std::string& relative, const SetupReporter& reporter) {
  struct stat st;
  if (fstat(source, &st) < 0) {
    reporter.fail("build root", errno, "fstat(clone of /%s)", relative.c_str());
  }
  makeParents(relative, reporter);
  struct stat existing;
  if (lstat(relative.c_str(), &existing) == 0) return;  // inside an earlier bind: use it
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(relative.c_str(), 0755) < 0) {
      reporter.fail("build root", errno, "mkdir(/%s, 0755)", relative.c_str());
    }
    return;
  }
  int fd = open(relative.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) reporter.fail("build root", errno, "open(/%s, O_CREAT|O_EXCL)", relative.c_str());
  close(fd);
}

void mountTmpfsAt(const char* dir, const SetupReporter& reporter) {
  constexpr const char* STEP = "root tmpfs";
  int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) reporter.fail(STEP, errno, "fsopen(tmpfs)");
  if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0) {
    reporter.fail(STEP, errno, "fsconfig(tmpfs, mode=0755)");
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "size", ROOT_TMPFS_SIZE, 0) < 0) {
    reporter.fail(STEP, errno, "fsconfig(tmpfs, size=%s)", ROOT_TMPFS_SIZE);
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    reporter.fail(STEP, errno, "fsconfig(tmpfs, FSCONFIG_CMD_CREATE)");
  }
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0) reporter.fail(STEP, errno, "fsmount(tmpfs, NOSUID|NODEV|NOEXEC)");
  if (move_mount(mnt, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    reporter.fail(STEP, errno, "move_mount(tmpfs, %s)", dir);
  }
  close(mnt);
  close(fs);
}

void attachBinds(const RootPlan& plan, const std::vector<int>& sources,
                 const SetupReporter& reporter) {
  for (size_t i = 0; i < plan.binds.size(); ++i) {
    std::string relative = plan.binds[i].path.substr(1);
    makeMountpoint(sources[i], relative, reporter);
    if (move_mount(sources[i], "", AT_FDCWD, relative.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      reporter.fail("build root", errno, "move_mount(clone of %s, %s)",
                    plan.binds[i].path.c_str(), plan.binds[i].path.c_str());
    }
  }
  for (auto& link : plan.symlinks) {
    std::string relative = link.path.substr(1);
    makeParents(relative, reporter);
    // EEXIST: a bound tree already shows it (its own link), or it was listed twice.
    if (symlink(link.target.c_str(), relative.c_str()) < 0 && errno != EEXIST) {
      reporter.fail("build root", errno, "symlink(%s -> %s)", link.path.c_str(),
                    link.target.c_str());
    }
  }
}

// An empty directory unless a bind already shows one there: after the binds, so that one inside
// a bound tree is that tree's own directory.
void makeEmptyDirectory(const std::string& path, const SetupReporter& reporter) {
  if (path == "/") return;
  std::string relative = path.substr(1);
  makeParents(relative + "/", reporter);
}

}  // namespace _

namespace _ {

// True if only root or this process's own user can change what is in `dir` (and so replace a
// symlink there): owned by one of them, writable by neither its group nor others.
bool onlyTrustedMayWrite(const std::string& dir) {
  struct stat st;
  if (stat(dir.empty() ? "/" : dir.c_str(), &st) != 0) return false;
  return (st.st_uid == 0 || st.st_uid == geteuid()) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

}  // namespace _

std::string readOnlyPathThroughSymlink(const std::string& path) {
  // Resolved one component at a time, as the kernel does, so that every link on the way is seen,
  // those its targets lead through included.
  std::vector<std::string> pending;  // components still to walk, the next one last
  auto push = [&pending](const std::string& text) {
    std::vector<std::string> parts;
    for (size_t start = 0; start <= text.size();) {
      size_t slash = text.find('/', start);
      if (slash == std::string::npos) slash = text.size();
      if (slash > start) parts.push_back(text.substr(start, slash - start));
      start = slash + 1;
    }
    pending.insert(pending.end(), parts.rbegin(), parts.rend());
  };
  push(path);
  std::string resolved;  // "" is the root
  for (int links = 0; !pending.empty();) {
    std::string part = pending.back();
    pending.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      resolved = resolved.substr(0, resolved.rfind('/'));
      continue;
    }
    std::string next = resolved + "/" + part;
    struct stat st;
    if (lstat(next.c_str(), &st) != 0) return "";  // does not exist: the load says so
    if (!S_ISLNK(st.st_mode)) {
      resolved = next;
      continue;
    }
    if (++links > 40) return "resolves through too many symlinks";
    if (!_::onlyTrustedMayWrite(resolved)) {
      return "resolves through the symlink \"" + next + "\", which a user other than root or " +
             "airlock's own may replace: name the path it leads to, \"" + _::canonical(path) +
             "\"";
    }
    std::string target;
    if (!_::isSymlink(next.c_str(), target)) return "";  // replaced meanwhile: judged at start
    if (target.starts_with("/")) resolved.clear();
    push(target);
  }
  return "";
}

RootPlan planRoot(const SandboxSpec& spec) {
  RootPlan plan;
  plan.programPath = _::canonical(spec.program);
  std::vector<BindMount> binds;
  binds.push_back({plan.programPath, BindKind::PROGRAM});
  for (const char* dir : _::LIBRARY_DIRS) {
    struct stat st;
    if (stat(dir, &st) == 0) binds.push_back({_::canonical(dir), BindKind::LIBRARY});
  }
  if (!spec.nativeFirstLibrary.empty()) {
    binds.push_back({_::canonical(spec.nativeFirstLibrary), BindKind::LIBRARY});
  }
  for (auto& path : spec.libraryPaths) binds.push_back({_::canonical(path), BindKind::LIBRARY});
  for (const char* device : _::DEVICES) binds.push_back({device, BindKind::DEVICE});
  std::vector<RootSymlink> readOnlyLinks;
  for (auto& path : spec.readOnlyPaths) {
    std::string problem = readOnlyPathThroughSymlink(path);
    if (!problem.empty()) KJ_FAIL_REQUIRE("read-only path", path, problem);
    std::string bound = _::canonical(path);
    binds.push_back({bound, BindKind::READ_ONLY});
    // A path that is itself a link (/etc/localtime, /usr/bin/sh) is shown as that link too, so
    // that the name the policy wrote works inside as it does outside.
    std::string target;
    if (bound != path && _::isSymlink(path.c_str(), target)) readOnlyLinks.push_back({path, target});
  }
  // Sorted so that a directory is attached before anything inside it; for one path bound twice,
  // the first kind pushed wins (program, library and
  // device before plain read-only, so listing /usr/lib again cannot make it noexec).
  std::stable_sort(binds.begin(), binds.end(),
                   [](const BindMount& a, const BindMount& b) { return a.path < b.path; });
  for (auto& bind : binds) {
    if (plan.binds.empty() || plan.binds.back().path != bind.path) plan.binds.push_back(bind);
  }
  for (const char* link : _::USR_SYMLINKS) {
    std::string target;
    if (_::isSymlink(link, target)) plan.symlinks.push_back({link, target});
  }
  plan.symlinks.insert(plan.symlinks.end(), readOnlyLinks.begin(), readOnlyLinks.end());
  if (!spec.workingDirectory.empty()) {
    KJ_REQUIRE(spec.workingDirectory[0] == '/', "working directory must be absolute",
               spec.workingDirectory);
    plan.workingDirectory = spec.workingDirectory;
  }
  for (auto& dir : spec.emptyDirectories) {
    KJ_REQUIRE(dir.starts_with("/"), "an empty directory of the root must be absolute", dir);
    plan.emptyDirectories.push_back(dir);
  }
  return plan;
}

std::vector<int> openBindSources(const RootPlan& plan, const SetupReporter& reporter) {
  std::vector<int> sources;
  sources.reserve(plan.binds.size());
  for (auto& bind : plan.binds) {
    // AT_RECURSIVE: a non-recursive clone of a tree with locked submounts fails with EINVAL.
    int fd = open_tree(AT_FDCWD, bind.path.c_str(),
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) {
      reporter.fail("bind sources", errno, "open_tree(%s, OPEN_TREE_CLONE|AT_RECURSIVE)",
                    bind.path.c_str());
    }
    struct mount_attr attr = {};
    attr.attr_set = _::mountFlags(bind.kind);
    if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
      reporter.fail("bind sources", errno, "mount_setattr(clone of %s, %#llx)",
                    bind.path.c_str(), static_cast<unsigned long long>(attr.attr_set));
    }
    sources.push_back(fd);  // closed at execve (close-on-exec) or by the fd cleanup step
  }
  return sources;
}

void enterNewRoot(const RootPlan& plan, const std::vector<int>& sources,
                  const SetupReporter& reporter) {
  // Nothing we mount may propagate to the host, and host mounts must not appear in here later.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    reporter.fail("private mounts", errno, "mount(/, MS_REC|MS_PRIVATE)");
  }
  _::mountTmpfsAt(_::STAGING_DIR, reporter);
  if (chdir(_::STAGING_DIR) < 0) reporter.fail("root tmpfs", errno, "chdir(%s)", _::STAGING_DIR);
  _::attachBinds(plan, sources, reporter);
  _::makeEmptyDirectory(plan.workingDirectory, reporter);
  for (auto& dir : plan.emptyDirectories) _::makeEmptyDirectory(dir, reporter);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the
  // new root, with no directory left to climb back out of.
  if (syscall(SYS_pivot_root, ".", ".") < 0) {
    reporter.fail("pivot_root", errno, "pivot_root(%s, %s)", _::STAGING_DIR, _::STAGING_DIR);
  }
  if (umount2(".", MNT_DETACH) < 0) {
    reporter.fail("pivot_root", errno, "umount2(old root, MNT_DETACH)");
  }
  if (chdir("/") < 0) reporter.fail("pivot_root", errno, "chdir(/)");
  // mount_setattr only adds flags here, so the flags the kernel locked on the host's mounts need
  // no repeating (a MS_REMOUNT would have to repeat them).
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
  if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
    reporter.fail("read-only root", errno, "mount_setattr(/, AT_RECURSIVE, RDONLY|NOSUID)");
  }
  if (chdir(plan.workingDirectory.c_str()) < 0) {
    reporter.fail("working directory", errno, "chdir(%s)", plan.workingDirectory.c_str());
  }
}

}  // namespace airlock::sandbox
