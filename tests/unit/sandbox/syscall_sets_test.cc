#include "sandbox/syscall_sets.h"

#include <gtest/gtest.h>
#include <seccomp.h>

#include <set>
#include <string>

#include "sandbox/seccomp_filter.h"

namespace airlock::sandbox {
namespace {

TEST(SyscallSets, NoGroupContainsAForbiddenSyscall) {
  std::set<std::string> forbidden;
  for (auto& entry : forbiddenSyscalls()) forbidden.insert(entry.name);
  for (auto& group : syscallGroups()) {
    for (auto& syscall : group.syscalls) {
      EXPECT_EQ(forbidden.count(syscall.name), 0u) << group.name << " allows " << syscall.name;
    }
  }
}

TEST(SyscallSets, ForbiddenListCoversTheIssuesMustNotAllowList) {
  std::set<std::string> forbidden;
  for (auto& entry : forbiddenSyscalls()) forbidden.insert(entry.name);
  for (const char* name :
       {"ptrace", "mount", "unshare", "setns", "bpf", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "keyctl", "perf_event_open", "userfaultfd", "process_vm_readv",
        "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "personality", "socket", "fork", "vfork", "chroot", "pivot_root"}) {
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

TEST(SyscallSets, EveryGroupHasAReasonAndNoSyscallAppearsTwice) {
  std::set<std::string> seen;
  for (auto& group : syscallGroups()) {
    EXPECT_GT(std::string(group.reason).size(), 10u) << group.name;
    for (auto& syscall : group.syscalls) {
      EXPECT_TRUE(seen.insert(syscall.name).second) << syscall.name << " listed twice";
    }
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

TEST(SeccompFilter, CompilesTheDefaultWorkerGroups) {
  EXPECT_NO_THROW(SeccompFilter::compile(defaultWorkerGroups()));
}

TEST(SeccompFilter, RejectsAnUnknownGroupName) {
  const char* const groups[] = {"basic-io", "no-such-group"};
  EXPECT_ANY_THROW(SeccompFilter::compile(groups));
}

}  // namespace
}  // namespace airlock::sandbox
