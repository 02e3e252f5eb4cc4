// `airlock policy diff` as the security team runs it: two policy directories in, what a reload
// would change out, with diff(1)'s exit statuses.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

const char* const UNIT = R"([unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls"
allow = "call"
caller = ["tester"]
method = ["echo"]
)";

// A temporary directory with the two policy directories, old/ and new/.
struct TwoSets : TempDir {
  TwoSets() {
    mkdir(file("old").c_str(), 0755);
    mkdir(file("new").c_str(), 0755);
  }
};

RunResult diff(const TempDir& dir) {
  return runProgram({binDir() + "/airlock", "policy", "diff", dir.file("old"), dir.file("new")});
}

TEST(PolicyDiffCli, ShowsEachRuleChangeAndExitsOneWhenTheSetsDiffer) {
  TwoSets dir;
  dir.write("old/probe.toml", UNIT);
  dir.write("new/probe.toml", std::string(UNIT) + R"(
[[rule]]
id = "read-data"
allow = "fs.open"
path = "/srv/data/**"
mode = ["read"]
)");
  dir.write("new/broker.toml", "[broker]\nadmins = [\"ops\"]\n");
  auto result = diff(dir);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("unit probe: changed (its workers carry on)"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("  + rule \"read-data\": allow fs.open path=/srv/data/** "
                               "mode=read  (" + dir.file("new/probe.toml") + ":11:1)"),
            std::string::npos) << result.output;
  EXPECT_NE(result.output.find("[broker] admins: + ops"), std::string::npos) << result.output;
}

TEST(PolicyDiffCli, TheSameSetExitsZeroAndABrokenOneExitsTwoWithItsErrors) {
  TwoSets dir;
  dir.write("old/probe.toml", UNIT);
  dir.write("new/probe.toml", "# only a comment differs\n" + std::string(UNIT));
  auto same = diff(dir);
  EXPECT_EQ(same.exitCode, 0) << same.output;
  EXPECT_NE(same.output.find("no change"), std::string::npos) << same.output;

  dir.write("new/probe.toml", "[unit]\nname = \"probe\"\nworker = \"w\"\ncolour = 1\n");
  auto broken = diff(dir);
  EXPECT_EQ(broken.exitCode, 2) << broken.output;
  EXPECT_NE(broken.output.find(dir.file("new/probe.toml") + ":4:1: [unit]: unknown key"),
            std::string::npos) << broken.output;
}

}  // namespace
}  // namespace airlock::testing
