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

// A unit whose rules allow a TCP connect: every row of the table applies to it.
policy::UnitPolicy connectingUnit() {
  policy::UnitPolicy unit;
  policy::Rule rule;
  policy::setOperation(rule, policy::Operation::NET_CONNECT);
  rule.effect = policy::Effect::ALLOW;
  unit.rules.push_back(rule);
  return unit;
}

TEST(BrokeredSyscallTableTest, EveryRowNamesASyscallOfThisArchitectureOnce) {
  std::set<std::string> seen;
  for (auto& spec : brokeredSyscallSpecs(connectingUnit())) {
    EXPECT_NE(seccomp_syscall_resolve_name(spec.name.c_str()), __NR_SCMP_ERROR) << spec.name;
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name << " has two rows";
  }
  for (const char* name : {"rename", "renameat2", "symlinkat", "linkat", "fchmodat", "fchmodat2", "fchmod",
                           "utimensat", "truncate", "fchownat", "socket", "connect"}) {
    EXPECT_EQ(seen.count(name), 1u) << name;
  }
}

TEST(BrokeredSyscallTableTest, NoRowIsASyscallTheSandboxNeverGrantsUnlessTheBrokerDecidesIt) {
  for (auto& spec : brokeredSyscallSpecs(connectingUnit())) {
    for (auto& forbidden : sandbox::forbiddenSyscalls()) {
      if (forbidden.brokerDecides) continue;
      EXPECT_NE(spec.name, forbidden.name) << forbidden.reason;
    }
  }
  // And every never-granted syscall the broker may decide has its row: none is left to the kernel.
  std::set<std::string> rows;
  for (auto& spec : brokeredSyscallSpecs(connectingUnit())) rows.insert(spec.name);
  size_t brokerDecided = 0;
  for (auto& forbidden : sandbox::forbiddenSyscalls()) {
    if (!forbidden.brokerDecides) continue;
    ++brokerDecided;
    EXPECT_EQ(rows.count(forbidden.name), 1u) << forbidden.name;
  }
  EXPECT_GE(brokerDecided, 10u);  // socket(2), and the mode, owner and times changes
}

TEST(BrokeredSyscallTableTest, SocketIsBrokeredOnlyForAUnitWhoseRulesConnect) {
  auto names = [](const policy::UnitPolicy& unit) {
    std::set<std::string> out;
    for (auto& spec : brokeredSyscallSpecs(unit)) out.insert(spec.name);
    return out;
  };
  EXPECT_EQ(names(connectingUnit()).count("socket"), 1u);
  policy::UnitPolicy quiet;
  EXPECT_EQ(names(quiet).count("socket"), 0u);
  EXPECT_EQ(names(quiet).count("connect"), 1u);  // a socketpair end's connect is answered too
}

}  // namespace
}  // namespace airlock::broker::syscalls
