#include "sandbox/id_map.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>
#include <kj/string.h>

namespace airlock::sandbox {

namespace _ {

void writeProcFile(pid_t child, const char* name, kj::StringPtr content) {
  auto path = kj::str("/proc/", child, "/", name);
  int fd;
  KJ_SYSCALL(fd = open(path.cStr(), O_WRONLY | O_CLOEXEC), path,
             "writing the sandbox's user namespace map; run `airlock doctor`");
  kj::AutoCloseFd file(fd);
  ssize_t n;
  KJ_SYSCALL(n = write(file.get(), content.begin(), content.size()), path, content,
             "run `airlock doctor`");
  KJ_REQUIRE(static_cast<size_t>(n) == content.size(), "short write", path);
}

// The kernel's id for an owner a user namespace does not map, read once.
uint32_t overflowId(const char* file) {
  uint32_t id = OVERFLOW_HOST_ID;
  if (FILE* in = fopen(file, "re")) {
    unsigned value = 0;
    if (fscanf(in, "%u", &value) == 1) id = value;
    fclose(in);
  }
  return id;
}

}  // namespace _

OwnerInside ownerInside(uid_t hostUid, gid_t hostGid, const HostIds& ids) {
  static const uid_t overflowUid = _::overflowId("/proc/sys/kernel/overflowuid");
  static const gid_t overflowGid = _::overflowId("/proc/sys/kernel/overflowgid");
  return {hostUid == ids.uid ? WORKER_ID : overflowUid,
          hostGid == ids.gid ? WORKER_ID : overflowGid};
}

HostIds sandboxHostIds(uid_t launcherUid, gid_t launcherGid) {
  if (launcherUid == 0) return {OVERFLOW_HOST_ID, OVERFLOW_HOST_ID, true};
  return {launcherUid, launcherGid, false};
}

void writeIdMaps(pid_t child, HostIds ids) {
  if (!ids.dropSupplementaryGroups) _::writeProcFile(child, "setgroups", "deny");
  _::writeProcFile(child, "uid_map", kj::str(WORKER_ID, " ", ids.uid, " 1\n"));
  _::writeProcFile(child, "gid_map", kj::str(WORKER_ID, " ", ids.gid, " 1\n"));
}

}  // namespace airlock::sandbox
