// `airlock policy check` as the security team runs it before deploying: the shipped policies pass,
// a broken directory fails with every problem at its file:line:col.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

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

// A policy written for `airlock run` names no worker: checked without --workers it is valid with
// a warning saying who can use it; with --workers, as airlockd loads it, it is an error.
TEST(PolicyCheckCli, APolicyForAirlockRunPassesWithAWarningAndFailsForAirlockd) {
  TempDir dir;
  dir.write("run.toml", "[unit]\nname = \"r\"\n\n[[rule]]\nid = \"read\"\nallow = \"fs.open\"\n"
                        "path = \"/srv/**\"\nmode = [\"read\"]\n");
  auto lint = runProgram({binDir() + "/airlock", "policy", "check", dir.file("run.toml")});
  EXPECT_EQ(lint.exitCode, 0) << lint.output;
  EXPECT_NE(lint.output.find("only `airlock run` and `airlock sandbox run` can use this unit; "
                             "airlockd refuses to load it"),
            std::string::npos) << lint.output;
  auto strict = runProgram({binDir() + "/airlock", "policy", "check", "--workers", binDir(),
                            dir.file("run.toml")});
  EXPECT_EQ(strict.exitCode, 1) << strict.output;
}

// A unit with the ~360-syscall Docker-format test profile: policy check lists each syscall it
// asked for that stays refused, with the reason, and the policy is still valid.
TEST(PolicyCheckCli, ListsWhatASeccompProfileAskedForAndDidNotGet) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  std::ifstream in(std::string(AIRLOCK_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json");
  std::stringstream profile;
  profile << in.rdbuf();
  dir.write("policies/docker.json", profile.str());
  dir.write("policies/a.toml", "[unit]\nname = \"a\"\nworker = \"w\"\n[sandbox]\n"
                               "seccomp_profile = \"docker.json\"\n");
  auto result = runProgram({binDir() + "/airlock", "policy", "check", dir.file("policies")});
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("ok: 1 units, 0 rules in " + dir.file("policies")),
            std::string::npos) << result.output;
  EXPECT_NE(result.output.find("unit \"a\": seccomp_profile \"docker.json\" grants "),
            std::string::npos) << result.output;
  // statfs, sysinfo, chdir, fchdir, socketpair, and the six extended-attribute reads (answered
  // EOPNOTSUPP by group xattrs-unsupported).
  EXPECT_NE(result.output.find("(11 beyond the default groups); "), std::string::npos)
      << result.output;
  for (const char* line :
       {"  refused ptrace (docker.json $.syscalls[1]): never granted: inspects and controls other "
        "processes\n",
        "  refused socket (docker.json $.syscalls[2]): never granted: v1 workers get sockets only "
        "from the broker\n",
        "  refused personality (docker.json $.syscalls[3]): never granted: ",
        "  refused chown (docker.json $.syscalls[0]): never granted: changes a host file's owner",
        "  refused sync (docker.json $.syscalls[0]): in no group of airlock's syscall table",
        "  refused _llseek (docker.json $.syscalls[0]): not an x86-64 syscall\n"}) {
    EXPECT_NE(result.output.find(line), std::string::npos) << line << "\n" << result.output;
  }
  // Granted, or never asked for by a worker (it has no CAP_SYS_ADMIN): not listed.
  EXPECT_EQ(result.output.find("refused statfs "), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("refused mount "), std::string::npos) << result.output;
}

}  // namespace
}  // namespace airlock::testing
