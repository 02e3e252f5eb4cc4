#include <gtest/gtest.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/syscall.h>

#include "sandbox/id_map.h"
#include "sandbox/launcher.h"
#include "sandbox/refused_syscall.h"

namespace airlock::sandbox {
namespace {

ExitStatus killedBy(int signal, std::string refused = "") {
  ExitStatus status;
  status.signal = signal;
  status.refusedSyscall = std::move(refused);
  return status;
}

TEST(ExitStatus, DescribesANormalExit) {
  ExitStatus status;
  status.exited = true;
  status.code = 3;
  EXPECT_EQ(status.describe(), "exited with status 3");
  EXPECT_FALSE(status.killedBySandbox());
}

TEST(ExitStatus, NamesTheRefusedSyscallWhenTheSupervisorKilledTheWorker) {
  auto status = killedBy(SIGKILL, "ptrace(0x10, 0x1, 0x0, 0x0, 0x0, 0x0)");
  EXPECT_EQ(status.describe(),
            "killed by seccomp: refused syscall ptrace(0x10, 0x1, 0x0, 0x0, 0x0, 0x0)");
  EXPECT_TRUE(status.killedBySandbox());
}

TEST(ExitStatus, SigsysWithoutANamedRefusalStillCountsAsTheSandbox) {
  EXPECT_EQ(killedBy(SIGSYS).describe(), "killed by SIGSYS (seccomp)");
  EXPECT_TRUE(killedBy(SIGSYS).killedBySandbox());
}

TEST(ExitStatus, NamesOtherSignals) {
  EXPECT_EQ(killedBy(SIGSEGV).describe(), "killed by SIGSEGV");
  EXPECT_EQ(killedBy(SIGKILL).describe(), "killed by SIGKILL");
  EXPECT_FALSE(killedBy(SIGKILL).killedBySandbox());
}

TEST(RefusedSyscall, NamesTheSyscallFromTheTableWithRegistersAndTheForbiddenReason) {
  RefusedSyscall refused;
  refused.arch = 0xc000003e;  // AUDIT_ARCH_X86_64
  refused.nr = 101;           // ptrace
  refused.args[0] = 0x10;
  refused.args[1] = 42;
  EXPECT_EQ(refused.describe(),
            "ptrace(0x10, 0x2a, 0x0, 0x0, 0x0, 0x0) [always refused: inspects and controls other "
            "processes]");
}

TEST(RefusedSyscall, AnUnknownNumberIsShownAsANumber) {
  RefusedSyscall refused;
  refused.arch = 0xc000003e;
  refused.nr = 4000;
  EXPECT_EQ(refused.describe(), "syscall_4000(0x0, 0x0, 0x0, 0x0, 0x0, 0x0)");
}

TEST(IdMap, RootLauncherNeverMapsHostRootIntoTheSandbox) {
  HostIds ids = sandboxHostIds(0, 0);
  EXPECT_EQ(ids.uid, OVERFLOW_HOST_ID);
  EXPECT_EQ(ids.gid, OVERFLOW_HOST_ID);
  EXPECT_TRUE(ids.dropSupplementaryGroups);
}

TEST(IdMap, UnprivilegedLauncherMapsItsOwnIds) {
  HostIds ids = sandboxHostIds(1000, 1001);
  EXPECT_EQ(ids.uid, 1000u);
  EXPECT_EQ(ids.gid, 1001u);
  EXPECT_FALSE(ids.dropSupplementaryGroups);
}

TEST(IdMap, TheWorkerIsNotUidZeroInside) { EXPECT_NE(WORKER_ID, 0u); }

// A refusal made by a group's argument filter (fork through clone, a device ioctl, memory both
// writable and executable) must not advise naming a group already in force: it says what each
// group allows instead.
TEST(RefusedSyscallText, AnArgumentFilteredRefusalSaysWhatEachGroupAllows) {
  RefusedSyscall fork;
  fork.arch = AUDIT_ARCH_X86_64;
  fork.nr = SYS_clone;
  fork.args[0] = 0x1200011;  // SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID: a process
  std::string text = fork.describe();
  EXPECT_NE(text.find("[a group allows it only for some arguments: group threads: allow only "
                      "with CLONE_THREAD"),
            std::string::npos) << text;
  EXPECT_EQ(text.find("add \"threads\""), std::string::npos) << text;
  RefusedSyscall sync;  // in no group: still named so a policy can allow it
  sync.arch = AUDIT_ARCH_X86_64;
  sync.nr = SYS_sync;
  EXPECT_NE(sync.describe().find("[in no group: add \"sync\" to [sandbox] syscalls by name"),
            std::string::npos) << sync.describe();
}

}  // namespace
}  // namespace airlock::sandbox
