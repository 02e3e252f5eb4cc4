#include "broker/caps/open_beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker {

namespace _ {

int openFlagsFor(policy::OpenModes modes) {
  using policy::OpenMode;
  bool reads = modes.has(OpenMode::READ);
  bool writes = modes.has(OpenMode::WRITE) || modes.has(OpenMode::APPEND) ||
                modes.has(OpenMode::TRUNCATE) || modes.has(OpenMode::CREATE);
  int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not block the broker
  flags |= reads && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY;
  if (modes.has(OpenMode::CREATE)) flags |= O_CREAT;
  if (modes.has(OpenMode::TRUNCATE)) flags |= O_TRUNC;
  if (modes.has(OpenMode::APPEND)) flags |= O_APPEND;
  return flags;
}

// openat2 beneath `rootFd` with every symlink refused; on failure sets `result`'s error and
// message and returns an invalid fd.
kj::AutoCloseFd openat2Beneath(int rootFd, const std::string& relative, uint64_t flags,
                               OpenBeneathResult& result, mode_t createMode = 0) {
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = flags;
  how.mode = (flags & O_CREAT) ? (createMode & 0777) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, rootFd, relative.c_str(), &how, sizeof(how));
  if (fd < 0) {
    result.error = errno;
    result.message = std::string(errnoName(result.error)) + ": " + strerror(result.error);
    if (result.escapeRefused()) {
      result.message += " (a symlink or an escape from the granted root was refused)";
    }
    return kj::AutoCloseFd();
  }
  return kj::AutoCloseFd(static_cast<int>(fd));
}

}  // namespace _

bool OpenBeneathResult::escapeRefused() const { return error == ELOOP || error == EXDEV; }

const char* errnoName(int error) {
  const char* name = strerrorname_np(error);
  return name ? name : "E?";
}

OpenBeneathResult openBeneath(int rootFd, const std::string& relative, policy::OpenModes modes,
                              Creation creation, mode_t createMode) {
  OpenBeneathResult result;
  auto openFlags = static_cast<uint64_t>(_::openFlagsFor(modes));
  if (creation == Creation::EXCLUSIVE) openFlags |= O_EXCL;
  kj::AutoCloseFd owned = _::openat2Beneath(rootFd, relative, openFlags, result, createMode);
  if (owned.get() < 0) return result;
  struct stat st;
  if (fstat(owned.get(), &st) != 0) {
    result.error = errno;
    result.message = std::string("fstat: ") + strerror(result.error);
    return result;
  }
  bool readOnlyDirectory = S_ISDIR(st.st_mode) && (openFlags & O_ACCMODE) == O_RDONLY;
  if (!S_ISREG(st.st_mode) && !readOnlyDirectory) {
    result.error = EINVAL;
    result.message = "not a regular file (FIFOs, devices and sockets are never opened)";
    return result;
  }
  // Give the worker an ordinary blocking descriptor.
  int flags = fcntl(owned.get(), F_GETFL);
  if (flags >= 0) fcntl(owned.get(), F_SETFL, flags & ~O_NONBLOCK);
  result.fd = kj::mv(owned);
  return result;
}

OpenBeneathResult openSocketBeneath(int rootFd, const std::string& relative) {
  OpenBeneathResult result;
  kj::AutoCloseFd owned = _::openat2Beneath(rootFd, relative, O_PATH | O_CLOEXEC, result);
  if (owned.get() < 0) return result;
  struct stat st;
  if (fstat(owned.get(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    result.error = EINVAL;
    result.message = "not a Unix socket";
    return result;
  }
  result.fd = kj::mv(owned);
  return result;
}

}  // namespace airlock::broker
