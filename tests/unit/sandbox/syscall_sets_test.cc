#include "sandbox/syscall_sets.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <set>
#include <string>

#include "sandbox/seccomp_filter.h"

namespace airlock::sandbox {
namespace {

// A forbidden syscall may appear in a group only to be answered with an error (the caller's
// fallback is taken, the syscall never runs); no group allows one.
TEST(SyscallSets, NoGroupAllowsAForbiddenSyscall) {
  std::set<std::string> forbidden;
  for (auto& entry : forbiddenSyscalls()) forbidden.insert(entry.name);
  for (auto& group : syscallGroups()) {
    for (auto& syscall : group.syscalls) {
      if (syscall.action == SyscallAction::EPERM_IF_ARG_IN ||
          syscall.action == SyscallAction::ERRNO_EOPNOTSUPP) {
        continue;  // answered with an error, never run
      }
      EXPECT_EQ(forbidden.count(syscall.name), 0u) << group.name << " allows " << syscall.name;
    }
  }
}

// What a policy may name: groups, and single syscalls outside every group that are not always
// refused. A syscall a group lists must come through the group, whose entry may carry the only
// safe argument filter (clone without CLONE_THREAD would be fork).
TEST(SyscallSets, APolicyMayNameAGroupOrASyscallNoGroupListsButNothingElse) {
  EXPECT_EQ(refusalOfSyscallName("fs-metadata"), nullptr);
  EXPECT_EQ(refusalOfSyscallName("sync"), nullptr);
  auto text = [](kj::StringPtr name) {
    KJ_IF_MAYBE(refused, refusalOfSyscallName(name)) { return std::string(refused->cStr()); }
    return std::string("accepted");
  };
  EXPECT_EQ(text("ptrace"), "ptrace is never granted: inspects and controls other processes");
  EXPECT_EQ(text("clone").rfind("clone is in group threads: name the group instead", 0), 0u);
  EXPECT_EQ(text("mmap").rfind("mmap is in group memory", 0), 0u);
  EXPECT_EQ(text("socket").rfind("socket is never granted", 0), 0u);
  EXPECT_EQ(text("frobnicate").rfind("no syscall group and no x86-64 syscall", 0), 0u);
}

TEST(SyscallSets, ForbiddenListCoversTheIssuesMustNotAllowList) {
  std::set<std::string> forbidden;
  for (auto& entry : forbiddenSyscalls()) forbidden.insert(entry.name);
  for (const char* name :
       {"ptrace", "mount", "unshare", "setns", "bpf", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "keyctl", "perf_event_open", "userfaultfd", "process_vm_readv",
        "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "personality", "socket", "fork", "vfork", "chroot", "pivot_root", "seccomp",
        "add_key", "request_key", "delete_module", "open_by_handle_at", "memfd_create",
        "execveat", "pkey_mprotect", "clock_settime", "settimeofday", "sethostname"}) {
    EXPECT_EQ(forbidden.count(name), 1u) << name;
  }
}

TEST(SyscallSets, EveryNameResolvesOnThisArchitecture) {
  for (auto& group : syscallGroups()) {
    for (auto& syscall : group.syscalls) {
      EXPECT_NE(seccomp_syscall_resolve_name(syscall.name), __NR_SCMP_ERROR) << syscall.name;
    }
  }
  for (auto& entry : forbiddenSyscalls()) {
    EXPECT_NE(seccomp_syscall_resolve_name(entry.name), __NR_SCMP_ERROR) << entry.name;
  }
}

// Only a dangerous group may list a syscall again: it widens what an earlier group allows (and
// says what is lost), which only a justified policy gets.
TEST(SyscallSets, EveryGroupHasAReasonAndOnlyADangerousOneRepeatsASyscall) {
  std::set<std::string> seen;
  for (auto& group : syscallGroups()) {
    EXPECT_GT(std::string(group.reason).size(), 10u) << group.name;
    if (group.danger != nullptr) {
      EXPECT_GT(std::string(group.danger).size(), 10u) << group.name;
      continue;
    }
    for (auto& syscall : group.syscalls) {
      EXPECT_TRUE(seen.insert(syscall.name).second) << syscall.name << " listed twice";
    }
  }
}

TEST(SyscallSets, NoDefaultGroupIsDangerous) {
  for (const char* name : defaultWorkerGroups()) {
    KJ_IF_MAYBE(group, findSyscallGroup(name)) {
      EXPECT_EQ(group->danger, nullptr) << name;
    }
  }
  KJ_IF_MAYBE(jit, findSyscallGroup("executable-memory")) {
    EXPECT_NE(jit->danger, nullptr);
  } else {
    ADD_FAILURE() << "no executable-memory group";
  }
}

TEST(SyscallSets, Clone3IsAnsweredEnosysAndCloneOnlyMakesThreads) {
  KJ_IF_MAYBE(threads, findSyscallGroup("threads")) {
    bool sawClone = false, sawClone3 = false;
    for (auto& syscall : threads->syscalls) {
      if (std::string(syscall.name) == "clone") {
        sawClone = true;
        EXPECT_EQ(syscall.action, SyscallAction::ALLOW_THREADS_ONLY);
      }
      if (std::string(syscall.name) == "clone3") {
        sawClone3 = true;
        EXPECT_EQ(syscall.action, SyscallAction::ERRNO_ENOSYS);
      }
    }
    EXPECT_TRUE(sawClone);
    EXPECT_TRUE(sawClone3);
  } else {
    FAIL() << "no threads group";
  }
}

TEST(SyscallSets, DefaultWorkerGroupsAllExist) {
  for (const char* name : defaultWorkerGroups()) {
    EXPECT_TRUE(findSyscallGroup(name) != nullptr) << name;
  }
  EXPECT_TRUE(findSyscallGroup("no-such-group") == nullptr);
}

const SyscallEntry* findEntry(const char* name) {
  for (auto& group : syscallGroups()) {
    for (auto& syscall : group.syscalls) {
      if (std::string(syscall.name) == name) return &syscall;
    }
  }
  return nullptr;
}

std::set<uint64_t> allowedValues(const char* name) {
  auto* entry = findEntry(name);
  if (entry == nullptr) return {};
  EXPECT_EQ(entry->action, SyscallAction::ALLOW_IF_ARG_IN) << name;
  return std::set<uint64_t>(entry->values.begin(), entry->values.end());
}

TEST(SyscallSets, IoctlAllowlistExcludesTerminalInjection) {
  auto ioctls = allowedValues("ioctl");
  EXPECT_FALSE(ioctls.empty());
  EXPECT_EQ(ioctls.count(TIOCSTI), 0u);
  EXPECT_EQ(ioctls.count(TIOCLINUX), 0u);
  EXPECT_EQ(ioctls.count(TIOCSCTTY), 0u);
}

TEST(SyscallSets, PrctlAllowlistCannotChangeSecurityState) {
  auto options = allowedValues("prctl");
  EXPECT_FALSE(options.empty());
  for (uint64_t option : {PR_SET_SECCOMP, PR_SET_SECUREBITS, PR_CAP_AMBIENT, PR_CAPBSET_DROP,
                          PR_SET_DUMPABLE, PR_SET_MM, PR_SET_PTRACER, PR_SET_NO_NEW_PRIVS,
                          PR_SET_KEEPCAPS, PR_SET_PDEATHSIG}) {
    EXPECT_EQ(options.count(option), 0u) << option;
  }
}

TEST(SyscallSets, SocketpairIsLocalOnlyAndNotInTheDefaultSet) {
  auto domains = allowedValues("socketpair");
  EXPECT_EQ(domains, (std::set<uint64_t>{static_cast<uint64_t>(AF_UNIX)}));
  for (const char* name : defaultWorkerGroups()) EXPECT_STRNE(name, "local-socketpair");
}

TEST(SyscallSets, MappingsAreWriteXorExecute) {
  ASSERT_NE(findEntry("mmap"), nullptr);
  ASSERT_NE(findEntry("mprotect"), nullptr);
  EXPECT_EQ(findEntry("mmap")->action, SyscallAction::ALLOW_W_XOR_X_MMAP);
  EXPECT_EQ(findEntry("mprotect")->action, SyscallAction::ALLOW_NO_EXEC);
}

TEST(SeccompFilter, CompilesTheDefaultWorkerGroups) {
  EXPECT_NO_THROW(SeccompFilter::compile(defaultWorkerGroups()));
}

TEST(SeccompFilter, RefusalsAndForeignArchitecturesAllNotifyTheSupervisor) {
  auto filter = SeccompFilter::compile(defaultWorkerGroups());
  size_t notify = 0, killProcess = 0, trap = 0;
  for (auto& insn : filter.program()) {
    if (insn.code != (BPF_RET | BPF_K)) continue;
    if (insn.k == SECCOMP_RET_USER_NOTIF) ++notify;
    if (insn.k == SECCOMP_RET_KILL_PROCESS) ++killProcess;
    if ((insn.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRAP) ++trap;
  }
  EXPECT_GT(notify, 0u);         // the default action and the bad-arch action
  EXPECT_EQ(killProcess, 0u);    // nothing is killed unnamed: the supervisor names, then kills
  EXPECT_EQ(trap, 0u);         // the placeholder is gone: a worker's SIGSYS handler sees nothing
}

TEST(SeccompFilter, ANeverGrantedSyscallCannotBeBrokeredEither) {
  const BrokeredSyscall brokered[] = {{"openat"}, {"ptrace"}};
  EXPECT_ANY_THROW(SeccompFilter::compile(defaultWorkerGroups(), nullptr, brokered));
  const BrokeredSyscall fine[] = {{"openat"}, {"newfstatat", 3, 0x1000}};
  EXPECT_NO_THROW(SeccompFilter::compile(defaultWorkerGroups(), nullptr, fine));
}

TEST(SeccompFilter, RejectsAnUnknownGroupName) {
  const char* const groups[] = {"basic-io", "no-such-group"};
  EXPECT_ANY_THROW(SeccompFilter::compile(groups));
}

}  // namespace
}  // namespace airlock::sandbox
