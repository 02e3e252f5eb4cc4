// The one table of brokered syscalls (broker/syscalls/brokered_syscalls.cc): each row must name a
// syscall this architecture has, once, and never one the sandbox refuses outright.

#include <gtest/gtest.h>
#include <seccomp.h>

#include <set>
#include <string>

#include "broker/syscalls/syscall_broker.h"
#include "sandbox/syscall_sets.h"

namespace airlock::broker::syscalls {
namespace {

TEST(BrokeredSyscallTableTest, EveryRowNamesASyscallOfThisArchitectureOnce) {
  std::set<std::string> seen;
  for (auto& spec : brokeredSyscallSpecs()) {
    EXPECT_NE(seccomp_syscall_resolve_name(spec.name.c_str()), __NR_SCMP_ERROR) << spec.name;
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name << " has two rows";
  }
  for (const char* name : {"rename", "renameat2", "symlinkat", "linkat", "fchmodat", "fchmod",
                           "utimensat", "truncate", "fchownat"}) {
    EXPECT_EQ(seen.count(name), 1u) << name;
  }
}

TEST(BrokeredSyscallTableTest, NoRowIsASyscallTheSandboxNeverGrants) {
  for (auto& spec : brokeredSyscallSpecs()) {
    for (auto& forbidden : sandbox::forbiddenSyscalls()) {
      EXPECT_NE(spec.name, forbidden.name) << forbidden.reason;
    }
  }
}

}  // namespace
}  // namespace airlock::broker::syscalls
