#include "broker/caps/at_beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "broker/caps/open_beneath.h"

namespace airlock::broker {

namespace _ {

AtOutcome failure(const char* call, int error) { return AtOutcome::failed(call, error); }

// openat2 beneath `dirFd` with every symlink refused; -1 with errno set on failure.
int openat2Beneath(int dirFd, const char* path, uint64_t flags) {
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, dirFd, path, &how, sizeof(how)));
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// DT_* as the S_IF* bits ListedEntry carries; DT_UNKNOWN (some file systems) asks fstatat.
mode_t typeOf(int dirFd, const dirent& entry) {
  switch (entry.d_type) {
    case DT_REG: return S_IFREG;
    case DT_DIR: return S_IFDIR;
    case DT_LNK: return S_IFLNK;
    case DT_UNKNOWN: {
      struct stat st;
      if (fstatat(dirFd, entry.d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) return st.st_mode & S_IFMT;
      return 0;
    }
    default: return S_IFIFO;  // device, FIFO, socket: "other"
  }
}

}  // namespace _

bool AtOutcome::escapeRefused() const { return error == ELOOP || error == EXDEV; }

AtOutcome AtOutcome::failed(const char* call, int error) {
  AtOutcome out;
  out.error = error;
  out.message = std::string(call) + ": " + errnoName(error) + ": " + strerror(error);
  if (out.escapeRefused()) out.message += " (a symlink or an escape from the granted root)";
  return out;
}

AtOutcome openDirectoryBeneath(int dirFd, const std::string& path, kj::AutoCloseFd& out) {
  int fd = _::openat2Beneath(dirFd, path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return _::failure("openat2 of the directory", errno);
  out = kj::AutoCloseFd(fd);
  return {};
}

std::string relativeTo(const std::string& root, const std::string& path) {
  if (path.size() == root.size()) return ".";
  size_t skip = root == "/" ? 1 : root.size() + 1;
  return path.substr(skip);
}

ParentDir openParentBeneath(int rootFd, const std::string& relative) {
  ParentDir parent;
  size_t slash = relative.rfind('/');
  std::string directory = slash == std::string::npos ? "." : relative.substr(0, slash);
  parent.name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  int fd = _::openat2Beneath(rootFd, directory.c_str(), O_PATH | O_DIRECTORY);
  if (fd < 0) {
    parent.outcome = _::failure("openat2 of the parent directory", errno);
    return parent;
  }
  parent.fd = kj::AutoCloseFd(fd);
  return parent;
}

AtOutcome statAt(const ParentDir& parent, struct stat& out) {
  if (fstatat(parent.fd.get(), parent.name.c_str(), &out, AT_SYMLINK_NOFOLLOW) != 0) {
    return _::failure("fstatat", errno);
  }
  return {};
}

AtOutcome listAt(const ParentDir& parent, std::vector<ListedEntry>& out) {
  // openat2 again rather than O_NOFOLLOW: a final symlink is then ELOOP, an escape like any other.
  int fd = _::openat2Beneath(parent.fd.get(), parent.name.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return _::failure("openat2 of the directory", errno);
  std::unique_ptr<DIR, _::DirCloser> dir(fdopendir(fd));  // owns fd from here
  if (!dir) {
    int error = errno;
    close(fd);
    return _::failure("fdopendir", error);
  }
  out.clear();
  errno = 0;
  while (const dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (out.size() == MAX_LIST_ENTRIES) {
      out.clear();
      AtOutcome tooMany;
      tooMany.error = E2BIG;
      tooMany.message = "the directory has more than " + std::to_string(MAX_LIST_ENTRIES) +
                        " entries, the most fs.list answers with";
      return tooMany;
    }
    out.push_back(ListedEntry{std::string(name), _::typeOf(dirfd(dir.get()), *entry)});
  }
  if (errno != 0) return _::failure("readdir", errno);
  std::sort(out.begin(), out.end(),
            [](const ListedEntry& a, const ListedEntry& b) { return a.name < b.name; });
  return {};
}

AtOutcome mkdirAt(const ParentDir& parent, mode_t mode) {
  if (mkdirat(parent.fd.get(), parent.name.c_str(), mode & 0777) != 0) {
    return _::failure("mkdirat", errno);
  }
  return {};
}

AtOutcome unlinkAt(const ParentDir& parent) {
  // Try a file first and a directory only if the kernel says it is one: no stat-then-act race.
  if (unlinkat(parent.fd.get(), parent.name.c_str(), 0) == 0) return {};
  if (errno != EISDIR) return _::failure("unlinkat", errno);
  if (unlinkat(parent.fd.get(), parent.name.c_str(), AT_REMOVEDIR) != 0) {
    return _::failure("unlinkat(AT_REMOVEDIR)", errno);
  }
  return {};
}

AtOutcome renameAt(const ParentDir& from, const ParentDir& to) {
  struct stat source;
  if (fstatat(from.fd.get(), from.name.c_str(), &source, AT_SYMLINK_NOFOLLOW) != 0) {
    return _::failure("fstatat of the source", errno);
  }
  // rename(2) lets a directory replace an empty directory; RENAME_NOREPLACE stops that. A file
  // cannot replace a directory at all (EISDIR).
  unsigned flags = S_ISDIR(source.st_mode) ? RENAME_NOREPLACE : 0;
  if (renameat2(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str(), flags) != 0) {
    return _::failure(flags ? "renameat2(RENAME_NOREPLACE)" : "renameat2", errno);
  }
  return {};
}

AtOutcome symlinkAt(const std::string& target, const ParentDir& parent) {
  if (symlinkat(target.c_str(), parent.fd.get(), parent.name.c_str()) != 0) {
    return _::failure("symlinkat", errno);
  }
  return {};
}

}  // namespace airlock::broker
