#pragma once
// The fs.* operations other than open, done strictly beneath a granted root: the parent
// directory of the request path is opened with openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS (as open_beneath.h does), then one *at(2) call acts on the last component
// without following it (AT_SYMLINK_NOFOLLOW, or calls that never follow a final link). A symlink
// anywhere above the last component, or a `..` escape, is refused by the kernel with ELOOP or
// EXDEV. Broker-side, event-loop thread; paths have passed policy::validateRequestPath.

#include <sys/stat.h>

#include <kj/io.h>

#include <string>
#include <vector>

namespace airlock::broker {

// Most entries fs.list answers with. A directory with more is a failed request, not a cut list:
// a worker must not mistake part of a directory for all of it. 10,000 names of up to 255 bytes
// keep one answer under 3 MiB, well inside the worker's Cap'n Proto traversal limit.
inline constexpr size_t MAX_LIST_ENTRIES = 10000;

// The mode fs.mkdir gives a new directory: the broker's group may read it, nobody else.
inline constexpr mode_t CREATED_DIRECTORY_MODE = 0750;

// What one syscall did: error 0, or the errno and a one-line message naming the call.
struct AtOutcome {
  int error = 0;
  std::string message;  // "unlinkat: ENOENT: No such file or directory"
  bool ok() const { return error == 0; }
  bool escapeRefused() const;  // ELOOP or EXDEV: a symlink or an escape from the root

  static AtOutcome failed(const char* call, int error);  // `error` from `call`, with its message
};

// The directory holding a request path's last component, opened beneath the root.
struct ParentDir {
  kj::AutoCloseFd fd;  // O_PATH | O_DIRECTORY; valid when outcome.ok()
  std::string name;    // the last component, never empty, never containing '/'; "." for the root
  AtOutcome outcome;
};

// `relative` is the request path below the root ("." for the root itself), as relativeTo gives.
ParentDir openParentBeneath(int rootFd, const std::string& relative);

// `path` beneath `dirFd` as O_RDONLY | O_DIRECTORY into `out`, resolved as every request path
// is: no symlink anywhere (the last component included), no escape from `dirFd`.
AtOutcome openDirectoryBeneath(int dirFd, const std::string& path, kj::AutoCloseFd& out);

// The part of `path` below `root`: "." for the root itself. `path` is `root` or beneath it.
std::string relativeTo(const std::string& root, const std::string& path);

struct ListedEntry {
  std::string name;
  mode_t type = 0;  // S_IFREG, S_IFDIR, S_IFLNK, or another S_IF* for anything else
};

// Each acts on `parent.name` in `parent.fd`; `parent` must be ok().
AtOutcome statAt(const ParentDir& parent, struct stat& out);  // never follows a final symlink
AtOutcome listAt(const ParentDir& parent, std::vector<ListedEntry>& out);
// Sorted by name, without "." and "..". A final symlink is refused (ELOOP), not listed through;
// more than MAX_LIST_ENTRIES entries fails with E2BIG and a message saying the bound.
AtOutcome mkdirAt(const ParentDir& parent, mode_t mode = CREATED_DIRECTORY_MODE);  // mode & 0777; EEXIST if anything is
                                              // there, a symlink included
AtOutcome unlinkAt(const ParentDir& parent);  // a file, a symlink (not its target) or an empty
                                              // directory
AtOutcome renameAt(const ParentDir& from, const ParentDir& to);
// Never replaces a directory: a directory source is moved with RENAME_NOREPLACE, and a file onto
// a directory is EISDIR from the kernel. Neither name is followed if it is a symlink.
AtOutcome symlinkAt(const std::string& target, const ParentDir& parent);
// `target` is written as given (checked beforehand by policy::refuseSymlinkTarget).

}  // namespace airlock::broker
