// `airlock doctor` reports every layer and a verdict that agrees with its exit status.

#include <gtest/gtest.h>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

TEST(Doctor, ReportsEveryLayerAndAVerdictMatchingItsExitStatus) {
  auto result = runProgram({binDir() + "/airlock", "doctor"});
  for (auto item : {"namespace user", "namespace pid", "namespace mount", "namespace network",
                    "namespace ipc", "namespace uts", "namespace cgroup",
                    "unprivileged user namespaces", "seccomp user notification", "landlock",
                    "openat2", "cgroup v1", "cgroup v2", "trial launch", "verdict:",
                    "syscall groups", "basic-io               default", "fs-metadata            opt-in"}) {
    EXPECT_NE(result.output.find(item), std::string::npos) << item << "\n" << result.output;
  }
  // Where [resources] has a CPU controller, whether a capped unit can run in the background.
  bool cpuController = result.output.find("cpu (writable)") != std::string::npos ||
                       result.output.find(" cpu ") != std::string::npos;
  if (cpuController) {
    EXPECT_NE(result.output.find("cpu idle class"), std::string::npos) << result.output;
  }
  bool full = result.output.find("verdict: airlock can run at full strength") != std::string::npos;
  EXPECT_EQ(result.exitCode, full ? 0 : 1) << result.output;
}

TEST(Doctor, HelpExplainsFullStrength) {
  auto result = runProgram({binDir() + "/airlock", "doctor", "--help"});
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_NE(result.output.find("Full strength means"), std::string::npos) << result.output;
  EXPECT_EQ(runProgram({binDir() + "/airlock", "doctor", "--bogus"}).exitCode, 2);
}

}  // namespace
}  // namespace airlock::testing
