// `airlock sandbox run` as the security team uses it: exit statuses passed through, and with
// --policy, exactly the sandbox the unit's worker gets.

#include <gtest/gtest.h>
#include <sys/stat.h>

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
