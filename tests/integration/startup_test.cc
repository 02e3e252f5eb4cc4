// airlockd refuses to start on missing or malformed policies, naming the file and line.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

TEST(AirlockdStartup, AMissingPolicyDirectoryStopsItWithAClearMessage) {
  TempDir dir;
  auto result = runProgram({binDir() + "/airlockd", "--policies", dir.file("nope"), "--socket",
                            dir.file("s"), "--audit", dir.file("a")});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find(dir.file("nope")), std::string::npos) << result.output;
}

TEST(AirlockdStartup, AMalformedPolicyStopsItNamingFileAndLine) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/broken.toml",
            "[unit]\nname = \"broken\"\nworker = \"test-probe_worker\"\n\n[[rule]]\nid = \"r\"\n"
            "allow = \"fs.open\"\npath = \"/srv/**\"\nmode = [\"exec\"]\n");
  auto result = runProgram({binDir() + "/airlockd", "--policies", dir.file("policies"),
                            "--socket", dir.file("s"), "--audit", dir.file("a"), "--workers",
                            binDir()});
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("broken.toml:9"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("exec"), std::string::npos) << result.output;
}

TEST(AirlockdStartup, ATomlSyntaxErrorNamesFileAndLine) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/syntax.toml", "[unit]\nname = \"x\"\nworker = = 3\n");
  auto result = runProgram({binDir() + "/airlockd", "--policies", dir.file("policies"),
                            "--socket", dir.file("s"), "--audit", dir.file("a")});
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("syntax.toml:3"), std::string::npos) << result.output;
}

TEST(AirlockdStartup, HelpDescribesTheRealOptions) {
  auto result = runProgram({binDir() + "/airlockd", "--help"});
  EXPECT_EQ(result.exitCode, 0);
  for (auto option : {"--policies", "--socket", "--audit", "--workers", "--define"}) {
    EXPECT_NE(result.output.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace airlock::testing
