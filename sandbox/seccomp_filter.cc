#include "sandbox/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cerrno>

#include <kj/debug.h>

#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

namespace _ {

void addRule(scmp_filter_ctx ctx, const SyscallEntry& entry) {
  int nr = seccomp_syscall_resolve_name(entry.name);
  KJ_REQUIRE(nr != __NR_SCMP_ERROR, "syscall table names a syscall unknown on this arch",
             entry.name);
  int rc = 0;
  switch (entry.action) {
    case SyscallAction::ALLOW:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
      break;
    case SyscallAction::ALLOW_THREADS_ONLY:
      // clone's flags are its first argument, a register: safe to decide on.
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
      break;
    case SyscallAction::ALLOW_SAFE_IOCTLS:
      // The request number is a register; the kernel reads it as 32 bits, so compare only those.
      // FIONBIO/FIOCLEX/FIONCLEX: kj sets fd flags with them; TCGETS: isatty(), answered ENOTTY
      // on the worker's pipes; FIONREAD: bytes pending. No request that reaches a tty or device.
      for (unsigned long request : {FIONBIO, FIOCLEX, FIONCLEX, TCGETS, FIONREAD}) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFul, request));
        if (rc != 0) break;
      }
      break;
    case SyscallAction::ERRNO_ENOSYS:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
      break;
  }
  KJ_REQUIRE(rc == 0, "seccomp_rule_add failed", entry.name, strerror(-rc));
}

}  // namespace _

SeccompFilter SeccompFilter::compile(kj::ArrayPtr<const char* const> groupNames) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  KJ_REQUIRE(ctx != nullptr, "seccomp_init failed");
  SeccompFilter filter(ctx);
  // The default bad-arch action is KILL_THREAD: a worker thread making an i386 `int 0x80` call
  // would die while the rest ran on. Kill the process instead (DESIGN: measured on 6.18).
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  KJ_REQUIRE(rc == 0, "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH) failed", strerror(-rc));
  for (const char* name : groupNames) {
    KJ_IF_MAYBE(group, findSyscallGroup(name)) {
      for (auto& entry : group->syscalls) _::addRule(ctx, entry);
    } else {
      KJ_FAIL_REQUIRE("unknown syscall group", name);
    }
  }
  return filter;
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

SeccompFilter::~SeccompFilter() {
  if (ctx_ != nullptr) seccomp_release(ctx_);
}

int SeccompFilter::load() const { return seccomp_load(ctx_); }

}  // namespace airlock::sandbox
