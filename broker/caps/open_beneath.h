#pragma once
// Opens a file strictly beneath a directory fd with openat2(2): RESOLVE_BENEATH refuses `..`
// escapes and absolute paths, RESOLVE_NO_SYMLINKS refuses every symlink (a planted symlink under
// a recursive grant would otherwise expose its target), RESOLVE_NO_MAGICLINKS refuses /proc
// magic links. Broker-side; the path has already passed policy::validateRequestPath.

#include <sys/types.h>

#include <kj/io.h>

#include <string>

#include "broker/policy/model/policy.h"

namespace airlock::broker {

struct OpenBeneathResult {
  kj::AutoCloseFd fd;     // valid on success
  int error = 0;          // errno on failure
  std::string message;    // one line on failure: "ELOOP: symlink in path refused ..."
  bool ok() const { return fd.get() >= 0; }
  bool escapeRefused() const;  // the kernel refused a symlink or an escape from the root
};

// Files the broker creates for a worker's fs.open: owner read/write only.
inline constexpr mode_t CREATED_FILE_MODE = 0600;

// Whether an open with create may find the file already there.
enum class Creation : uint8_t { MAY_EXIST, EXCLUSIVE };  // EXCLUSIVE: O_EXCL, EEXIST if it does

// `relative` is the request path with the root prefix removed ("." for the root itself).
// Only regular files (or directories for read-only opens) are returned: a FIFO or device under a
// grant is refused rather than letting an open block the broker. EXCLUSIVE needs CREATE in
// `modes` (the caller checks; without it O_EXCL would mean nothing).
OpenBeneathResult openBeneath(int rootFd, const std::string& relative, policy::OpenModes modes,
                              Creation creation = Creation::MAY_EXIST,
                              mode_t createMode = CREATED_FILE_MODE);
// `createMode`: the permission bits of a file the open creates (the SDK's fs.open: 0600; a
// brokered open(2): what the program asked, less its umask, never set-id bits).

OpenBeneathResult openSocketBeneath(int rootFd, const std::string& relative);
// An O_PATH descriptor of the Unix socket at `relative`, resolved as openBeneath resolves (no
// symlink anywhere, the last component included, no escape). Anything but a socket is refused
// (EINVAL). A socket cannot be opened, only named: the broker connects to /proc/self/fd/N of
// this descriptor, which names exactly the inode checked here, so the path is not looked up a
// second time (connect(2) itself would follow a symlink swapped in after the check).

const char* errnoName(int error);  // "ENOENT", ...

}  // namespace airlock::broker
