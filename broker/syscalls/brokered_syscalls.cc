// The one table of brokered syscalls: which syscall numbers the filter sends to the broker and
// which kind of call (brokered_call.h) answers each, with its argument positions. Adding a
// syscall is adding a row.

#include <fcntl.h>
#include <seccomp.h>

#include <kj/debug.h>

#include <map>

#include "broker/syscalls/brokered_call.h"
#include "broker/syscalls/syscall_answer.h"
#include "broker/syscalls/syscall_broker.h"

namespace airlock::broker::syscalls {

namespace _ {

constexpr int NONE = -1;  // no argument: AT_FDCWD for a directory fd

struct Row {
  const char* name;
  void (*answer)(BrokeredCall& call);
  int nativeWhenFlagArg = NONE;  // AT_EMPTY_PATH here: a descriptor the program already holds
  uint64_t nativeWhenFlag = 0;
  bool (*brokeredFor)(const policy::UnitPolicy& unit) = nullptr;  // null: for every unit
};

bool unitConnects(const policy::UnitPolicy& unit) {
  return unitConnectsTcp(unit) || unitConnectsUnix(unit);
}

// x86-64 argument positions, as in each syscall's man page.
constexpr Row ROWS[] = {
    {"open", [](BrokeredCall& c) { c.open(NONE, 0, c.arg(1), c.arg(2)); }},
    {"openat", [](BrokeredCall& c) { c.open(0, 1, c.arg(2), c.arg(3)); }},
    {"creat", [](BrokeredCall& c) { c.open(NONE, 0, O_CREAT | O_WRONLY | O_TRUNC, c.arg(1)); }},
    {"openat2", [](BrokeredCall& c) { c.openat2(0, 1, 2, 3); }},
    {"stat", [](BrokeredCall& c) { c.stat(NONE, 0, 1, true); }},
    {"lstat", [](BrokeredCall& c) { c.stat(NONE, 0, 1, false); }},
    {"newfstatat", [](BrokeredCall& c) { c.stat(0, 1, 2, !(c.arg(3) & AT_SYMLINK_NOFOLLOW)); },
     3, AT_EMPTY_PATH},
    {"statx", [](BrokeredCall& c) { c.statx(0, 1, 2, 3, 4); }, 2, AT_EMPTY_PATH},
    {"access", [](BrokeredCall& c) { c.access(NONE, 0, 1); }},
    {"faccessat", [](BrokeredCall& c) { c.access(0, 1, 2); }},
    {"faccessat2", [](BrokeredCall& c) { c.access(0, 1, 2); }, 3, AT_EMPTY_PATH},
    {"readlink", [](BrokeredCall& c) { c.readlink(NONE, 0, 1, 2); }},
    {"readlinkat", [](BrokeredCall& c) { c.readlink(0, 1, 2, 3); }},
    {"mkdir", [](BrokeredCall& c) { c.mkdir(NONE, 0, c.arg(1)); }},
    {"mkdirat", [](BrokeredCall& c) { c.mkdir(0, 1, c.arg(2)); }},
    {"unlink", [](BrokeredCall& c) { c.unlink(NONE, 0, 0); }},
    {"unlinkat", [](BrokeredCall& c) { c.unlink(0, 1, c.arg(2)); }},
    {"rmdir", [](BrokeredCall& c) { c.unlink(NONE, 0, AT_REMOVEDIR); }},
    {"rename", [](BrokeredCall& c) { c.rename(NONE, 0, NONE, 1, 0); }},
    {"renameat", [](BrokeredCall& c) { c.rename(0, 1, 2, 3, 0); }},
    {"renameat2", [](BrokeredCall& c) { c.rename(0, 1, 2, 3, c.arg(4)); }},
    {"symlink", [](BrokeredCall& c) { c.symlink(0, NONE, 1); }},
    {"symlinkat", [](BrokeredCall& c) { c.symlink(0, 1, 2); }},
    {"link", [](BrokeredCall& c) { c.link(NONE, 0, NONE, 1); }},
    {"linkat", [](BrokeredCall& c) { c.link(0, 1, 2, 3); }},
    {"chmod", [](BrokeredCall& c) { c.chmod(NONE, 0, c.arg(1)); }},
    {"fchmodat", [](BrokeredCall& c) { c.chmod(0, 1, c.arg(2)); }},
    {"fchmodat2", [](BrokeredCall& c) { c.chmod(0, 1, c.arg(2), c.arg(3)); }},
    // On a held descriptor: the broker's copy of it, if the broker granted it for writing. Not
    // left to the kernel, which would let a read-only descriptor change its file's mode.
    {"fchmod", [](BrokeredCall& c) { c.fdChmod(0, c.arg(1)); }},
    {"utimensat", [](BrokeredCall& c) { c.utimens(0, 1, 2, c.arg(3)); }},
    {"truncate", [](BrokeredCall& c) { c.truncate(0, 1); }},
    // A sandboxed program is nobody's root: a change of owner is EPERM, as for any other user.
    {"chown", [](BrokeredCall& c) { c.refuseOwnerChange(); }},
    {"lchown", [](BrokeredCall& c) { c.refuseOwnerChange(); }},
    {"fchown", [](BrokeredCall& c) { c.refuseOwnerChange(); }},
    {"fchownat", [](BrokeredCall& c) { c.refuseOwnerChange(); }},
    // A program's own sockets: only for a unit whose rules allow some connect; any other unit
    // keeps socket(2) refused as every worker has it (syscall_sets.cc).
    {"socket", [](BrokeredCall& c) { c.socket(0, 1); }, NONE, 0, unitConnects},
    {"connect", [](BrokeredCall& c) { c.connect(0, 1, 2); }},
};

// The row answering syscall number `nr`, or null. The names are resolved to numbers once, not
// per call: libseccomp's lookup walks its whole name table for each.
const Row* rowFor(int nr) {
  static const std::map<int, const Row*> byNumber = []() {
    std::map<int, const Row*> out;
    for (auto& row : ROWS) out.emplace(seccomp_syscall_resolve_name(row.name), &row);
    return out;
  }();
  auto found = byNumber.find(nr);
  return found == byNumber.end() ? nullptr : found->second;
}

}  // namespace _

std::vector<sandbox::BrokeredSyscall> brokeredSyscallSpecs(const policy::UnitPolicy& unit) {
  std::vector<sandbox::BrokeredSyscall> specs;
  for (auto& row : _::ROWS) {
    if (row.brokeredFor != nullptr && !row.brokeredFor(unit)) continue;
    specs.push_back({row.name, row.nativeWhenFlagArg, row.nativeWhenFlag});
  }
  return specs;
}

SyscallBroker::SyscallBroker(std::shared_ptr<const policy::UnitPolicy> unit, const FsRoots& roots,
                             audit::AuditLog& audit, SandboxView view, pid_t workerPid,
                             std::string caller, std::string callId)
    : unit_(std::move(unit)), roots_(roots), audit_(audit), view_(std::move(view)),
      brokeredRoots_(brokeredRoots(*unit_)), workerPid_(workerPid), caller_(std::move(caller)),
      callId_(std::move(callId)) {}

SyscallBroker::~SyscallBroker() noexcept = default;

void SyscallBroker::handle(int listenerFd, int pidfd, const sandbox::RefusedSyscall& call) {
  const _::Row* row = _::rowFor(call.nr);
  KJ_REQUIRE(row != nullptr, "a brokered syscall the table does not answer", call.nr);
  BrokeredCall brokered(*this, listenerFd, pidfd, call, row->name);
  row->answer(brokered);
}

}  // namespace airlock::broker::syscalls
