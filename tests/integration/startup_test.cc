// airlockd refuses to start on missing or malformed policies, naming the file and line.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <sstream>
#include <string>

#include "broker/server/allocator_tunables.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// --key and --client-keys, which airlockd requires, made in `dir`.
std::vector<std::string> keyArgs(const TempDir& dir) {
  auto made = runProgram({binDir() + "/airlock", "keygen", "--out", dir.file("broker")});
  EXPECT_EQ(made.exitCode, 0) << made.output;
  mkdir(dir.file("clients").c_str(), 0755);
  return {"--key", dir.file("broker.key"), "--client-keys", dir.file("clients")};
}

std::vector<std::string> withKeys(std::vector<std::string> argv, const TempDir& dir) {
  auto keys = keyArgs(dir);
  argv.insert(argv.end(), keys.begin(), keys.end());
  return argv;
}

TEST(AirlockdStartup, AMissingPolicyDirectoryStopsItWithAClearMessage) {
  TempDir dir;
  auto result = runProgram(withKeys({binDir() + "/airlockd", "--policies", dir.file("nope"),
                                     "--socket", dir.file("s"), "--audit", dir.file("a")},
                                    dir));
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find(dir.file("nope")), std::string::npos) << result.output;
}

TEST(AirlockdStartup, AMalformedPolicyStopsItNamingFileAndLine) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/broken.toml",
            "[unit]\nname = \"broken\"\nworker = \"test-probe_worker\"\n\n[[rule]]\nid = \"r\"\n"
            "allow = \"fs.open\"\npath = \"/srv/**\"\nmode = [\"exec\"]\n");
  auto result = runProgram(withKeys({binDir() + "/airlockd", "--policies", dir.file("policies"),
                                     "--socket", dir.file("s"), "--audit", dir.file("a"),
                                     "--workers", binDir()},
                                    dir));
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("broken.toml:9"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("exec"), std::string::npos) << result.output;
}

TEST(AirlockdStartup, ATomlSyntaxErrorNamesFileAndLine) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/syntax.toml", "[unit]\nname = \"x\"\nworker = = 3\n");
  auto result = runProgram(withKeys({binDir() + "/airlockd", "--policies", dir.file("policies"),
                                     "--socket", dir.file("s"), "--audit", dir.file("a")},
                                    dir));
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("syntax.toml:3"), std::string::npos) << result.output;
}

TEST(AirlockdStartup, HelpDescribesTheRealOptions) {
  auto result = runProgram({binDir() + "/airlockd", "--help"});
  EXPECT_EQ(result.exitCode, 0);
  for (auto option : {"--policies", "--socket", "--audit", "--workers", "--define", "--key",
                      "--client-keys"}) {
    EXPECT_NE(result.output.find(option), std::string::npos) << option;
  }
}

TEST(AirlockdStartup, WithoutTheBrokerKeyOrClientKeysItRefusesToStartSayingWhy) {
  TempDir dir;
  auto keys = keyArgs(dir);
  std::vector<std::string> base = {binDir() + "/airlockd", "--policies", dir.file("p"),
                                   "--socket", dir.file("s"), "--audit", dir.file("a")};
  auto noKey = base;
  noKey.insert(noKey.end(), {"--client-keys", dir.file("clients")});
  auto result = runProgram(noKey);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_NE(result.output.find("--key is required: hosts authenticate the broker by it"),
            std::string::npos) << result.output;

  auto noClients = base;
  noClients.insert(noClients.end(), {"--key", dir.file("broker.key")});
  result = runProgram(noClients);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_NE(result.output.find("--client-keys is required"), std::string::npos) << result.output;
}

TEST(AirlockdStartup, AClientSecretKeyInTheClientKeysDirectoryStopsIt) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/p.toml", "[unit]\nname = \"p\"\nworker = \"test-probe_worker\"\n");
  auto argv = withKeys({binDir() + "/airlockd", "--policies", dir.file("policies"), "--socket",
                        dir.file("s"), "--audit", dir.file("a"), "--workers", binDir()},
                       dir);
  auto made = runProgram({binDir() + "/airlock", "keygen", "--client", "web", "--out",
                          dir.file("clients")});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto result = runProgram(argv);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find(dir.file("clients/web.key") + ": a private key in the client keys "
                               "directory"),
            std::string::npos) << result.output;
}

TEST(AirlockdStartup, ASecretsFileOthersCanReadStopsItNamingTheFile) {
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/p.toml", "[unit]\nname = \"p\"\nworker = \"test-probe_worker\"\n");
  mkdir(dir.file("secrets").c_str(), 0700);
  dir.write("secrets/db-password", "pw");
  ASSERT_EQ(chmod(dir.file("secrets/db-password").c_str(), 0600), 0);
  dir.write("secrets/api-token", "token");
  ASSERT_EQ(chmod(dir.file("secrets/api-token").c_str(), 0644), 0);
  auto result = runProgram(withKeys({binDir() + "/airlockd", "--policies", dir.file("policies"),
                                     "--socket", dir.file("s"), "--audit", dir.file("a"),
                                     "--workers", binDir(), "--secrets", dir.file("secrets")},
                                    dir));
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("--secrets " + dir.file("secrets/api-token") + ": mode 0644"),
            std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("db-password"), std::string::npos) << result.output;
}

// The variables a process was started with (its last exec), from /proc.
std::map<std::string, std::string> environmentOf(pid_t pid) {
  std::istringstream entries(readFile("/proc/" + std::to_string(pid) + "/environ"));
  std::map<std::string, std::string> variables;
  std::string entry;
  while (std::getline(entries, entry, '\0')) {
    auto equals = entry.find('=');
    if (equals != std::string::npos) variables[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return variables;
}

// airlockd runs with a larger glibc per-thread cache (broker/server/allocator_tunables.h), set by
// executing itself again with GLIBC_TUNABLES; its workers are not given the variable.
TEST(AirlockdStartup, ItRunsWithItsAllocatorTunablesAndItsWorkersDoNot) {
  if (getenv("GLIBC_TUNABLES") != nullptr) GTEST_SKIP() << "GLIBC_TUNABLES is set for the tests";
  auto broker = startWithAdmin(
      {{"p.toml", "[unit]\nname = \"p\"\nworker = \"test-probe_worker\"\n[[rule]]\n"
                  "id = \"calls\"\nallow = \"call\"\ncaller = [\"tester\"]\nmethod = [\"*\"]\n"}});
  auto environment = environmentOf(broker->pid());
  ASSERT_FALSE(environment.empty()) << "cannot read airlockd's environment";
  if (broker::allocatorTunablesApplyToThisBuild()) {
    EXPECT_EQ(environment["GLIBC_TUNABLES"], broker::AIRLOCKD_ALLOCATOR_TUNABLES);
  } else {
    EXPECT_EQ(environment.count("GLIBC_TUNABLES"), 0u) << "a sanitized airlockd keeps its own";
  }
  EXPECT_EQ(broker->log().find("default allocator cache"), std::string::npos) << broker->log();
  // Still named airlockd after executing itself again: other airlockds tell a live one's cgroups
  // from stale ones by the name, and operators find it by the name.
  EXPECT_EQ(readFile("/proc/" + std::to_string(broker->pid()) + "/comm"), "airlockd\n");
  auto outcome = broker->connect().unit("p").call("echo", "x");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  auto pids = broker->unitStatus(TEST_ADMIN, "p")["pids"];
  ASSERT_EQ(pids.size(), 1u) << pids;
  auto workerEnvironment = environmentOf(pids[0].get<pid_t>());
  EXPECT_FALSE(workerEnvironment.empty());
  EXPECT_EQ(workerEnvironment.count("GLIBC_TUNABLES"), 0u);
}

// An operator's own GLIBC_TUNABLES stands: airlockd neither replaces it nor executes itself again.
TEST(AirlockdStartup, AnOperatorsGlibcTunablesStand) {
  BrokerOptions options;
  options.environment = {"GLIBC_TUNABLES=glibc.malloc.tcache_count=7"};
  BrokerProcess broker({{"p.toml", "[unit]\nname = \"p\"\nworker = \"test-probe_worker\"\n"}}, {},
                       options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  EXPECT_EQ(environmentOf(broker.pid())["GLIBC_TUNABLES"], "glibc.malloc.tcache_count=7");
}

}  // namespace
}  // namespace airlock::testing
