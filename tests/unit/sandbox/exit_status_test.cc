#include <gtest/gtest.h>
#include <signal.h>

#include "sandbox/id_map.h"
#include "sandbox/launcher.h"

namespace airlock::sandbox {
namespace {

TEST(ExitStatus, DescribesANormalExit) {
  ExitStatus status{true, 3, 0};
  EXPECT_EQ(status.describe(), "exited with status 3");
}

TEST(ExitStatus, NamesSeccompForSigsys) {
  ExitStatus status{false, 0, SIGSYS};
  EXPECT_EQ(status.describe(), "killed by SIGSYS (seccomp refused a syscall)");
}

TEST(ExitStatus, NamesOtherSignals) {
  EXPECT_EQ((ExitStatus{false, 0, SIGSEGV}).describe(), "killed by SIGSEGV");
  EXPECT_EQ((ExitStatus{false, 0, SIGKILL}).describe(), "killed by SIGKILL");
}

TEST(IdMap, RootLauncherNeverMapsHostRootIntoTheSandbox) {
  HostIds ids = sandboxHostIds(0, 0);
  EXPECT_EQ(ids.uid, OVERFLOW_HOST_ID);
  EXPECT_EQ(ids.gid, OVERFLOW_HOST_ID);
}

TEST(IdMap, UnprivilegedLauncherMapsItsOwnIds) {
  HostIds ids = sandboxHostIds(1000, 1001);
  EXPECT_EQ(ids.uid, 1000u);
  EXPECT_EQ(ids.gid, 1001u);
}

}  // namespace
}  // namespace airlock::sandbox
