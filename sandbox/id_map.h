#pragma once
// The sandbox's user namespace mapping: exactly one uid and one gid, never host root.

#include <sys/types.h>

namespace airlock::sandbox {

// The host id behind uid/gid 0 inside a sandbox started by host root ("nobody"/"nogroup").
constexpr uid_t OVERFLOW_HOST_ID = 65534;

struct HostIds {
  uid_t uid;
  gid_t gid;
};

HostIds sandboxHostIds(uid_t launcherUid, gid_t launcherGid);
// Host ids that uid/gid 0 inside the sandbox map to: 65534 when the launcher is root (no uid
// inside may be host root), else the launcher's own ids (the only ones it may map).

void writeIdMaps(pid_t child, HostIds ids);
// Broker side, right after clone3 and before releasing the child: writes "deny" to setgroups
// (required before an unprivileged gid_map, and keeps supplementary groups out of reach), then
// uid_map and gid_map. Throws kj::Exception naming the file and errno.

}  // namespace airlock::sandbox
