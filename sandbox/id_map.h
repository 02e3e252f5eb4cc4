#pragma once
// The sandbox's user namespace mapping: exactly one uid and one gid, both WORKER_ID inside, never
// host root, and no uid 0 inside at all.

#include <sys/types.h>

namespace airlock::sandbox {

// The host id behind the worker's ids in a sandbox started by host root ("nobody"/"nogroup").
constexpr uid_t OVERFLOW_HOST_ID = 65534;
// The worker's uid and gid inside the sandbox. Not 0: RLIMIT_NPROC is not enforced for uid 0, and
// nothing inside should look like root to the code that runs there.
constexpr uid_t WORKER_ID = 1000;

struct HostIds {
  uid_t uid;
  gid_t gid;
  bool dropSupplementaryGroups;
  // True when the launcher is root: it may leave setgroups(2) allowed in the new namespace, so
  // the child empties the supplementary groups it inherited (host root's, e.g. gid 0) before it
  // runs anything. An unprivileged launcher must deny setgroups to map a gid at all; its child
  // keeps the launcher's own groups, which grant nothing the launcher lacks.
};

HostIds sandboxHostIds(uid_t launcherUid, gid_t launcherGid);
// Host ids that WORKER_ID inside the sandbox maps to: 65534 when the launcher is root (no id
// inside may be host root), else the launcher's own ids (the only ones it may map).

struct OwnerInside {
  uid_t uid;
  gid_t gid;
};
OwnerInside ownerInside(uid_t hostUid, gid_t hostGid, const HostIds& ids);
// How the sandbox's kernel shows a host file's owner: the one mapped id as WORKER_ID, any other
// as the kernel's overflow id (/proc/sys/kernel/overflowuid and overflowgid, 65534 by default).
// For the broker's answers (a brokered stat), so that they agree with the fstat of a descriptor
// it passed.

void writeIdMaps(pid_t child, HostIds ids);
// Broker side, right after clone3 and before releasing the child: writes "deny" to setgroups
// unless ids.dropSupplementaryGroups, then uid_map and gid_map ("1000 <host id> 1"). Throws
// kj::Exception naming the file and errno.

}  // namespace airlock::sandbox
