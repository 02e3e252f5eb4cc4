#include "broker/caps/granted_descriptor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker {

namespace _ {

using policy::OpenMode;
using policy::OpenModes;

OpenModes accessOf(int statusFlags) {
  OpenModes access;
  int mode = statusFlags & O_ACCMODE;
  if (mode == O_RDONLY || mode == O_RDWR) access.add(OpenMode::READ);
  if (mode == O_WRONLY || mode == O_RDWR) {
    access.add(OpenMode::WRITE);
    access.add(OpenMode::TRUNCATE);  // ftruncate(2) needs only a writable description
    access.add(OpenMode::APPEND);
  }
  return access;
}

const char* fileKindName(mode_t mode) {
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISFIFO(mode)) return "a pipe or FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISLNK(mode)) return "a symlink";
  return "an unknown kind of file";
}

}  // namespace _

std::optional<policy::DescriptorGrant> receiveGrantedDescriptor(int fd, policy::OpenModes modes,
                                                                std::string& refusal) {
  int statusFlags = fcntl(fd, F_GETFL);
  struct stat st;
  if (statusFlags < 0 || fstat(fd, &st) != 0) {
    refusal = std::string("the descriptor cannot be examined: ") + strerror(errno);
    return std::nullopt;
  }
  if ((statusFlags & O_PATH) != 0) {
    refusal = "the descriptor was opened O_PATH: it permits no reading or writing to hand on";
    return std::nullopt;
  }
  policy::DescriptorGrant granted;
  if (S_ISREG(st.st_mode)) {
    granted.kind = policy::DescriptorKind::REGULAR;
  } else if (S_ISDIR(st.st_mode)) {
    granted.kind = policy::DescriptorKind::DIRECTORY;
  } else {
    refusal = std::string("the descriptor is ") + _::fileKindName(st.st_mode) +
              ": only regular files and directories are handed to a worker";
    return std::nullopt;
  }
  granted.access = _::accessOf(statusFlags);
  if (!modes.subsetOf(granted.access)) {
    refusal = "the grant asks " + modes.describe() + " but the descriptor permits only " +
              granted.access.describe() + ": a grant is never wider than the host's own file";
    return std::nullopt;
  }
  granted.appendOnly = (statusFlags & O_APPEND) != 0;
  if (granted.appendOnly && (modes.has(_::OpenMode::TRUNCATE) ||
                             (modes.has(_::OpenMode::WRITE) && !modes.has(_::OpenMode::APPEND)))) {
    refusal = "the descriptor appends only (O_APPEND): grant append (with write), never "
              "truncate";
    return std::nullopt;
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    refusal = std::string("the broker cannot keep the descriptor: ") + strerror(errno);
    return std::nullopt;
  }
  granted.device = st.st_dev;
  granted.inode = st.st_ino;
  granted.fd = std::make_shared<const kj::AutoCloseFd>(copy);
  return granted;
}

OpenBeneathResult reopenGrantedDescriptor(const policy::DescriptorGrant& granted,
                                          policy::OpenModes modes) {
  using policy::OpenMode;
  OpenBeneathResult result;
  bool reads = modes.has(OpenMode::READ);
  bool writes = modes.has(OpenMode::WRITE) || modes.has(OpenMode::APPEND) ||
                modes.has(OpenMode::TRUNCATE);
  int flags = O_CLOEXEC | O_NOCTTY | (reads && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY);
  if (granted.kind == policy::DescriptorKind::DIRECTORY) flags |= O_DIRECTORY;
  if (modes.has(OpenMode::TRUNCATE)) flags |= O_TRUNC;
  // An append-only description keeps the worker appending, whatever it asked.
  if (modes.has(OpenMode::APPEND) || (writes && granted.appendOnly)) flags |= O_APPEND;
  std::string path = "/proc/self/fd/" + std::to_string(granted.fd->get());
  int fd = open(path.c_str(), flags);
  if (fd < 0) {
    result.error = errno;
    result.message = std::string(errnoName(result.error)) + ": reopening the granted descriptor: " +
                     strerror(result.error);
    return result;
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != granted.device || st.st_ino != granted.inode) {
    result.error = EXDEV;
    result.message = "EXDEV: reopening the granted descriptor gave another file";
    return result;
  }
  result.fd = kj::mv(owned);
  return result;
}

}  // namespace airlock::broker
