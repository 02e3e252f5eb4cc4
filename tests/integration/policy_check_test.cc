// `airlock policy check` as the security team runs it before deploying: the shipped policies pass,
// a broken directory fails with every problem at its file:line:col.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

TEST(PolicyCheckCli, TheShippedPoliciesPass) {
  auto result = runProgram({binDir() + "/airlock", "policy", "check", "--define",
                            "images_dir=/srv/images", "--define", "inbox_dir=/srv/inbox",
                            "--define", "output_dir=/srv/unpacked",
                            std::string(AIRLOCK_SOURCE_DIR) + "/policies"});
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("ok: 2 units"), std::string::npos) << result.output;
}

TEST(PolicyCheckCli, ABrokenDirectoryFailsWithEveryProblemAtItsLocation) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/a.toml", "[unit]\nname = \"a\"\nworker = \"w\"\ninstances = 0\n");
  dir.write("policies/b.toml", "[unit]\nname = \"b\"\nworker = \"w\"\n\n[[rule]]\nid = \"all\"\n"
                               "allow = \"fs.open\"\npath = \"/**\"\nmode = [\"read\"]\n");
  auto result = runProgram({binDir() + "/airlock", "policy", "check", dir.file("policies")});
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find(dir.file("policies/a.toml") +
                               ":4:13: [unit] instances: 0 is out of range 1..16"),
            std::string::npos) << result.output;
  EXPECT_NE(result.output.find(dir.file("policies/b.toml") + ":5:1: rule \"all\": grants the "
                                                             "whole file system"),
            std::string::npos) << result.output;
  EXPECT_NE(result.output.find("failed: 2 errors in " + dir.file("policies")), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace airlock::testing
