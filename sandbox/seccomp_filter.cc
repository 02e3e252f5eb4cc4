#include "sandbox/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <kj/debug.h>
#include <kj/io.h>

#include "sandbox/native_first.h"
#include "sandbox/profile_grants.h"

namespace airlock::sandbox {

namespace _ {

// libseccomp refuses SCMP_ACT_NOTIFY as a default action. So the filter is compiled with this
// placeholder default, which no table entry uses, and every BPF return of it becomes
// SECCOMP_RET_USER_NOTIF afterwards (checked by the unit tests).
constexpr uint32_t PLACEHOLDER_DEFAULT = SCMP_ACT_TRAP;

struct Context {
  scmp_filter_ctx ctx;
  explicit Context(uint32_t defaultAction) : ctx(seccomp_init(defaultAction)) {
    KJ_REQUIRE(ctx != nullptr, "seccomp_init failed");
  }
  ~Context() { seccomp_release(ctx); }
  KJ_DISALLOW_COPY(Context);
};

void check(int rc, const char* what, const char* name) {
  KJ_REQUIRE(rc == 0, "seccomp_rule_add failed", what, name, strerror(-rc));
}

void addRules(scmp_filter_ctx ctx, const char* name, const std::vector<CompiledRule>& rules) {
  int nr = seccomp_syscall_resolve_name(name);
  KJ_REQUIRE(nr != __NR_SCMP_ERROR, "syscall table names a syscall unknown on this arch", name);
  for (const CompiledRule& rule : rules) {
    check(seccomp_rule_add_array(ctx, rule.action, nr, static_cast<unsigned>(rule.conditions.size()),
                                 rule.conditions.data()),
          "rule", name);
  }
}

scmp_arg_cmp maskedEq(unsigned arg, uint64_t mask, uint64_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

}  // namespace _

std::vector<CompiledRule> rulesOf(const SyscallEntry& entry) {
  using _::maskedEq;
  // Every comparison is on a register, never on memory the process could change after the check.
  switch (entry.action) {
    case SyscallAction::ALLOW: return {CompiledRule{SCMP_ACT_ALLOW, {}}};
    case SyscallAction::ALLOW_THREADS_ONLY:
      return {CompiledRule{SCMP_ACT_ALLOW, {maskedEq(0, CLONE_THREAD, CLONE_THREAD)}}};
    case SyscallAction::ERRNO_ENOSYS: return {CompiledRule{SCMP_ACT_ERRNO(ENOSYS), {}}};
    case SyscallAction::ERRNO_EOPNOTSUPP: return {CompiledRule{SCMP_ACT_ERRNO(EOPNOTSUPP), {}}};
    case SyscallAction::EPERM_IF_ARG_IN:
    case SyscallAction::ALLOW_IF_ARG_IN: {
      KJ_REQUIRE(entry.argIndex < 6 && entry.values.size() > 0, "bad argument filter", entry.name);
      uint32_t action = entry.action == SyscallAction::ALLOW_IF_ARG_IN ? SCMP_ACT_ALLOW
                                                                       : SCMP_ACT_ERRNO(EPERM);
      std::vector<CompiledRule> rules;
      for (uint64_t value : entry.values) {
        // int-typed arguments are read by the kernel as 32 bits: compare only those.
        rules.push_back({action, {maskedEq(entry.argIndex, 0xFFFFFFFFull, value)}});
      }
      return rules;
    }
    case SyscallAction::ALLOW_W_XOR_X_MMAP:
      // mmap(addr, len, prot, flags, fd, off). Either no PROT_EXEC, or PROT_EXEC without
      // PROT_WRITE and without MAP_ANONYMOUS (ld.so mapping a library's text).
      return {CompiledRule{SCMP_ACT_ALLOW, {maskedEq(2, PROT_EXEC, 0)}},
              CompiledRule{SCMP_ACT_ALLOW,
                           {maskedEq(2, PROT_WRITE, 0), maskedEq(3, MAP_ANONYMOUS, 0)}}};
    case SyscallAction::ALLOW_NO_EXEC:
      return {CompiledRule{SCMP_ACT_ALLOW, {maskedEq(2, PROT_EXEC, 0)}}};
    case SyscallAction::ALLOW_NOT_WRITE_AND_EXEC:
      // prot is register 2 for mmap and mprotect alike: no PROT_EXEC, or no PROT_WRITE.
      return {CompiledRule{SCMP_ACT_ALLOW, {maskedEq(2, PROT_EXEC, 0)}},
              CompiledRule{SCMP_ACT_ALLOW, {maskedEq(2, PROT_WRITE, 0)}}};
  }
  KJ_FAIL_REQUIRE("unknown syscall action", entry.name);
}

namespace _ {

std::vector<sock_filter> exportProgram(scmp_filter_ctx ctx) {
  int raw = memfd_create("airlock-seccomp-bpf", MFD_CLOEXEC);
  KJ_SYSCALL(raw, "memfd_create(airlock-seccomp-bpf)");
  kj::AutoCloseFd memfd(raw);
  int rc = seccomp_export_bpf(ctx, memfd.get());
  KJ_REQUIRE(rc == 0, "seccomp_export_bpf failed", strerror(-rc));
  off_t size = lseek(memfd.get(), 0, SEEK_END);
  KJ_SYSCALL(size);
  KJ_REQUIRE(size > 0 && size % sizeof(sock_filter) == 0, "odd BPF program size", size);
  // The kernel's limit on one filter (BPF_MAXINSNS).
  KJ_REQUIRE(size / sizeof(sock_filter) <= BPF_MAXINSNS, "seccomp program too long", size);
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n;
  KJ_SYSCALL(n = pread(memfd.get(), program.data(), static_cast<size_t>(size), 0));
  KJ_REQUIRE(n == size, "short read of the BPF program");
  return program;
}

}  // namespace _

SeccompFilter SeccompFilter::compile(kj::ArrayPtr<const char* const> groupNames,
                                     kj::Maybe<const ProfileGrants&> profile,
                                     kj::ArrayPtr<const BrokeredSyscall> brokered,
                                     bool nativeFirst) {
  _::Context context(_::PLACEHOLDER_DEFAULT);
  // A foreign-architecture syscall (i386 `int 0x80`, or the x32 ABI, which libseccomp's x86_64
  // filter sends to the bad-arch action) goes to the supervisor like any other refusal, so it is
  // named and the whole process killed. (libseccomp's own default, KILL_THREAD, would let the
  // rest of the worker run on.)
  int rc = seccomp_attr_set(context.ctx, SCMP_FLTATR_ACT_BADARCH, _::PLACEHOLDER_DEFAULT);
  KJ_REQUIRE(rc == 0, "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH) failed", strerror(-rc));
  auto isBrokered = [&](const char* name) {
    for (auto& call : brokered) {
      if (call.name == name) return true;
    }
    return false;
  };
  for (const char* name : groupNames) {
    KJ_IF_MAYBE(group, findSyscallGroup(name)) {
      for (auto& entry : group->syscalls) {
        // A brokered syscall is left to the default action, which sends it to the supervisor.
        if (!isBrokered(entry.name)) _::addRules(context.ctx, entry.name, rulesOf(entry));
      }
    } else KJ_IF_MAYBE(refused, refusalOfSyscallName(name)) {
      KJ_FAIL_REQUIRE("syscall name refused", name, *refused);
    } else if (!isBrokered(name)) {
      _::addRules(context.ctx, name, {CompiledRule{SCMP_ACT_ALLOW, {}}});
    }
  }
  KJ_IF_MAYBE(grants, profile) {
    for (const GrantedSyscall& granted : grants->granted) {
      auto compiled = [&](const char* name) { return granted.group == name; };
      if (std::any_of(groupNames.begin(), groupNames.end(), compiled)) continue;
      if (isBrokered(granted.name.c_str())) continue;
      _::addRules(context.ctx, granted.name.c_str(), granted.rules);
    }
  }
  for (auto& call : brokered) {
    for (auto& forbidden : forbiddenSyscalls()) {
      KJ_REQUIRE(call.name != forbidden.name || forbidden.brokerDecides,
                 "a never-granted syscall cannot be brokered", call.name, forbidden.reason);
    }
    if (call.nativeWhenFlagArg < 0) continue;
    int nr = seccomp_syscall_resolve_name(call.name.c_str());
    KJ_REQUIRE(nr != __NR_SCMP_ERROR, "brokered syscall unknown on this arch", call.name);
    KJ_REQUIRE(call.nativeWhenFlagArg < 6 && call.nativeWhenFlag != 0, "bad native flag",
               call.name);
    struct scmp_arg_cmp cmp = {static_cast<unsigned>(call.nativeWhenFlagArg), SCMP_CMP_MASKED_EQ,
                               call.nativeWhenFlag, call.nativeWhenFlag};
    _::check(seccomp_rule_add_array(context.ctx, SCMP_ACT_ALLOW, nr, 1, &cmp), "native when flag",
             call.name.c_str());
  }
  SeccompFilter filter;
  filter.program_ = _::exportProgram(context.ctx);
  size_t rewritten = 0;
  for (auto& insn : filter.program_) {
    if (insn.code == (BPF_RET | BPF_K) && insn.k == _::PLACEHOLDER_DEFAULT) {
      insn.k = SECCOMP_RET_USER_NOTIF;
      ++rewritten;
    }
  }
  KJ_ASSERT(rewritten > 0, "compiled seccomp program has no default-action return");
  if (nativeFirst) {
    KJ_REQUIRE(brokered.size() > 0, "native-first reads need brokered syscalls");
    auto prologue = nativeFirstPrologue();
    filter.program_.insert(filter.program_.begin(), prologue.begin(), prologue.end());
    KJ_REQUIRE(filter.program_.size() <= BPF_MAXINSNS, "seccomp program too long",
               filter.program_.size());
  }
  return filter;
}

int SeccompFilter::install() const {
  struct sock_fprog prog = {static_cast<unsigned short>(program_.size()),
                            const_cast<sock_filter*>(program_.data())};
  // The listener is created close-on-exec by the kernel.
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace airlock::sandbox
