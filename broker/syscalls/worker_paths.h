#pragma once
// Where a brokered syscall's path points, as the broker sees it: the sandbox's own view (left to
// the kernel), beneath a root the unit's fs.* rules name (decided and done by the broker), or
// anywhere else (refused). Paths are made absolute and lexically normal first, so that the
// decision and the act both use the same string.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "broker/policy/model/policy.h"
#include "sandbox/sandbox_spec.h"

namespace airlock::broker::syscalls {

// What the sandbox shows, from the same plan the launcher mounts (sandbox/mount_root.h): the
// bound files and trees, the /lib-style symlinks and the empty directories made for the
// working directory and the rule roots.
class SandboxView {
 public:
  static SandboxView of(const sandbox::SandboxSpec& spec);

  bool binds(const std::string& path) const;
  // True for a path at or beneath something bound (the program, its libraries, a python worker's
  // script and packages, read_only_paths, the root's symlinks): the kernel's to serve, whatever
  // rule's root it also lies beneath.

  bool shows(const std::string& path) const;
  // True for a path at or beneath something bound, for an empty directory and the directories
  // above it, and for a name in a directory above something bound (which the kernel answers
  // ENOENT itself: /usr/bin/pyvenv.cfg next to a bound /usr/bin/python3). A name inside an
  // empty directory is not shown: a file next to the working directory is outside the view.

 private:
  std::vector<std::string> bound_;  // binds and root symlinks: absolute, normal
  std::vector<std::string> empty_;  // the working directory and the rule roots' empty stand-ins
};

// The roots of the unit's fs.* rules: a path at or beneath one is the broker's to decide.
std::vector<std::string> brokeredRoots(const policy::UnitPolicy& unit);

bool isAtOrBeneath(const std::string& path, const std::string& root);

// `path` joined to `base` (when relative) and made lexically normal: no ".", "..", "//" or
// trailing "/"; ".." above "/" stays at "/", as the kernel does.
std::string absoluteNormal(const std::string& base, const std::string& path);

// The directory a relative path of thread `tid` starts from: its working directory for AT_FDCWD,
// else the directory `dirfd` refers to (a copy taken with pidfd_getfd). Empty when it names
// nothing the broker can place by path (a socket, a deleted directory, a bad fd).
std::string startingDirectory(int pidfd, pid_t tid, int dirfd);

// The umask of thread `tid` (/proc/TID/status), which a file or directory the broker creates
// for it is given less of, as the kernel would; 077 when it cannot be read (nothing widened).
mode_t threadUmask(pid_t tid);

// The absolute path the broker's own descriptor `fd` names (/proc/self/fd), or empty as above.
std::string descriptorPath(int fd);

}  // namespace airlock::broker::syscalls
