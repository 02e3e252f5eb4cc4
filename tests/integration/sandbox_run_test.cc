// `airlock sandbox run` as the security team uses it: exit statuses passed through, and with
// --policy, exactly the sandbox the unit's worker gets.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

RunResult sandboxRun(std::vector<std::string> args) {
  args.insert(args.begin(), {binDir() + "/airlock", "sandbox", "run"});
  return runProgram(args);
}

TEST(SandboxRunCli, ExitStatusesPassThrough) {
  EXPECT_EQ(sandboxRun({"--", "/bin/true"}).exitCode, 0);
  EXPECT_EQ(sandboxRun({"--", "/bin/false"}).exitCode, 1);
  auto missing = sandboxRun({"--", "/no/such/program"});
  EXPECT_EQ(missing.exitCode, 127) << missing.output;
}

// The check of a read-only path's symlinks runs at every start, not only at policy load (a link
// can be replaced after the policy loaded): --ro-bind, which no loader sees, through a link in a
// sticky world-writable directory starts nothing and names the link.
TEST(SandboxRunCli, AReadOnlyPathThroughALinkOthersMayReplaceStartsNothing) {
  TempDir dir;
  std::string shared = dir.file("shared");
  ASSERT_EQ(mkdir(shared.c_str(), 0777), 0);
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
  ASSERT_EQ(symlink("/etc", (shared + "/link").c_str()), 0);
  auto refused = sandboxRun({"--ro-bind", shared + "/link", "--", "/bin/echo", "PROGRAM-RAN"});
  EXPECT_EQ(refused.exitCode, 125) << refused.output;
  EXPECT_NE(refused.output.find("resolves through the symlink \"" + shared + "/link\""),
            std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("PROGRAM-RAN"), std::string::npos) << refused.output;
}

// Debian programs the default syscall set stops are refused naming the group that would allow
// them, and run to exit 0 with that group (and the next one each names).
TEST(SandboxRunCli, ARefusedSyscallNamesTheGroupThatAllowsItAndThatGroupRunsTheProgram) {
  auto refused = sandboxRun({"--", "/bin/ls", "/"});
  EXPECT_EQ(refused.exitCode, 159) << refused.output;
  EXPECT_NE(refused.output.find("refused syscall statfs("), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("[in group fs-metadata: add \"fs-metadata\" to [sandbox] syscalls"),
            std::string::npos)
      << refused.output;
  auto listed = sandboxRun({"--syscalls", "fs-metadata", "--", "/bin/ls", "/"});
  EXPECT_EQ(listed.exitCode, 0) << listed.output;
  EXPECT_NE(listed.output.find("usr"), std::string::npos) << listed.output;

  auto walked = sandboxRun({"--syscalls", "fs-metadata,working-directory", "--", "/usr/bin/find",
                            "/usr/bin", "-maxdepth", "1", "-name", "find"});
  EXPECT_EQ(walked.exitCode, 0) << walked.output;
  EXPECT_NE(walked.output.find("/usr/bin/find"), std::string::npos) << walked.output;
}

TEST(SandboxRunCli, Python3RunsWithTheGroupsItsRefusalsName) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  auto refused = sandboxRun({"--", "/usr/bin/python3", "-c", "print(1)"});
  EXPECT_EQ(refused.exitCode, 159) << refused.output;
  EXPECT_NE(refused.output.find("refused syscall sysinfo("), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("[in group system-info"), std::string::npos) << refused.output;
  auto next = sandboxRun({"--syscalls", "system-info", "--", "/usr/bin/python3", "-c", "print(1)"});
  EXPECT_EQ(next.exitCode, 159) << next.output;
  EXPECT_NE(next.output.find("group nss-without-daemons answers"), std::string::npos)
      << next.output;
  auto ran = sandboxRun({"--syscalls", "system-info,nss-without-daemons", "--", "/usr/bin/python3",
                         "-c", "print(6 * 7)"});
  EXPECT_EQ(ran.exitCode, 0) << ran.output;
  EXPECT_EQ(ran.output, "42\n");
}

TEST(SandboxRunCli, AnUnknownSyscallGroupRunsNothing) {
  auto result = sandboxRun({"--syscalls", "fs-metadata,no-such-group", "--", "/bin/true"});
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_NE(result.output.find("no syscall group and no x86-64 syscall is named \"no-such-group\""),
            std::string::npos)
      << result.output;
  auto forbidden = sandboxRun({"--syscalls", "ptrace", "--", "/bin/true"});
  EXPECT_EQ(forbidden.exitCode, 2) << forbidden.output;
  EXPECT_NE(forbidden.output.find("ptrace is never granted: inspects and controls other processes"),
            std::string::npos)
      << forbidden.output;
  auto grouped = sandboxRun({"--syscalls", "clone", "--", "/bin/true"});
  EXPECT_EQ(grouped.exitCode, 2) << grouped.output;
  EXPECT_NE(grouped.output.find("clone is in group threads: name the group instead"),
            std::string::npos)
      << grouped.output;
}

// A syscall no group lists (coreutils' sync calls sync(2)) is refused naming itself as what to
// add, and runs once named alone.
TEST(SandboxRunCli, ASingleSyscallNoGroupListsMayBeNamedAlone) {
  auto without = sandboxRun({"--", "/bin/sync"});
  EXPECT_EQ(without.exitCode, 159) << without.output;
  EXPECT_NE(without.output.find("refused syscall sync("), std::string::npos) << without.output;
  EXPECT_NE(without.output.find("[in no group: add \"sync\" to [sandbox] syscalls by name"),
            std::string::npos)
      << without.output;
  auto result = sandboxRun({"--syscalls", "sync", "--", "/bin/sync"});
  EXPECT_EQ(result.exitCode, 0) << result.output;
}

class SandboxRunPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    mkdir(dir_.file("shared").c_str(), 0755);
    dir_.write("shared/note.txt", "visible to the unit\n");
    mkdir(dir_.file("policies").c_str(), 0755);
    dir_.write("policies/reader.toml", R"([unit]
name = "reader"
worker = "reader-worker"

[sandbox]
read_only_paths = ["${tmp}/shared"]
)");
  }

  RunResult run(std::vector<std::string> args) {
    std::vector<std::string> all = {"--define", "tmp=" + dir_.path()};
    all.insert(all.end(), args.begin(), args.end());
    return sandboxRun(all);
  }

  TempDir dir_;
};

TEST_F(SandboxRunPolicy, TheUnitsReadOnlyPathsAndEnvironmentAreThereAndNothingElse) {
  std::string note = dir_.file("shared/note.txt");
  auto withPolicy = run({"--policy", dir_.file("policies/reader.toml"), "--", "/bin/cat", note});
  EXPECT_EQ(withPolicy.exitCode, 0) << withPolicy.output;
  EXPECT_EQ(withPolicy.output, "visible to the unit\n");
  auto env = run({"--policy", dir_.file("policies"), "--unit", "reader", "--", "/usr/bin/env"});
  EXPECT_EQ(env.exitCode, 0) << env.output;
  EXPECT_EQ(env.output, "AIRLOCK_UNIT=reader\n");
  // Without the policy the default sandbox has no such path.
  auto without = sandboxRun({"--", "/bin/cat", note});
  EXPECT_NE(without.exitCode, 0) << without.output;
  EXPECT_EQ(without.output.find("visible to the unit"), std::string::npos);
}

TEST_F(SandboxRunPolicy, TheUnitsLimitsAreItsRlimits) {
  dir_.write("policies/reader.toml", R"([unit]
name = "reader"
worker = "reader-worker"

[limits]
memory_mib = 256
open_files = 32
threads = 8
file_size_mib = 2
cpu_seconds = 5
)");
  auto limits = run({"--policy", dir_.file("policies/reader.toml"), "--", "/bin/sh", "-c",
                     "ulimit -v; ulimit -n; ulimit -p; ulimit -f; ulimit -t"});
  EXPECT_EQ(limits.exitCode, 0) << limits.output;
  // KiB, count, count, 512-byte blocks, seconds.
  EXPECT_EQ(limits.output, "262144\n32\n8\n4096\n5\n");
}

TEST_F(SandboxRunPolicy, ABrokenPolicyOrAnAmbiguousUnitRunsNothing) {
  dir_.write("policies/other.toml", "[unit]\nname = \"other\"\nworker = \"w\"\n");
  auto ambiguous = run({"--policy", dir_.file("policies"), "--", "/bin/true"});
  EXPECT_EQ(ambiguous.exitCode, 2) << ambiguous.output;
  EXPECT_NE(ambiguous.output.find("has 2 units; say which with --unit NAME"), std::string::npos)
      << ambiguous.output;
  auto unknown = run({"--policy", dir_.file("policies"), "--unit", "nope", "--", "/bin/true"});
  EXPECT_EQ(unknown.exitCode, 2) << unknown.output;

  dir_.write("policies/other.toml", "[unit]\nname = \"other\"\nworker = \"w\"\nsandboxed = 1\n");
  auto broken = run({"--policy", dir_.file("policies"), "--unit", "reader", "--", "/bin/true"});
  EXPECT_EQ(broken.exitCode, 2) << broken.output;
  EXPECT_NE(broken.output.find(dir_.file("policies/other.toml") + ":4:1:"), std::string::npos)
      << broken.output;
  EXPECT_NE(broken.output.find("not running anything"), std::string::npos) << broken.output;
}

}  // namespace
}  // namespace airlock::testing
