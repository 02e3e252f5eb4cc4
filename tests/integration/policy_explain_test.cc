// `airlock policy explain` against a real airlockd: for requests airlockd decided (its audit
// records), the explain binary, given the same policy directory and request, names the same
// decision and rule.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include <nlohmann/json.hpp>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string explainPolicy() {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]

[[rule]]
id = "data-private"
deny = "fs.open"
path = "${tmp}/data/private/**"
mode = ["read"]

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["read", "write", "echo"]

[[rule]]
id = "no-echo"
deny = "call"
caller = ["tester"]
method = ["echo"]
)";
}

// Runs `airlock policy explain --json` for the request an audit record describes.
nlohmann::json explainRecord(const BrokerProcess& broker, const nlohmann::json& record,
                             int& exitCode) {
  std::vector<std::string> argv = {binDir() + "/airlock", "policy", "explain", "--json",
                                   "--policies", broker.dir().file("policies"), "--unit", "probe"};
  std::string event = record["event"];
  auto arg = [&argv](const std::string& kv) {
    argv.push_back("--arg");
    argv.push_back(kv);
  };
  if (event == "fs.open") {
    argv.insert(argv.end(), {"--op", "fs.open"});
    arg("path=" + record["args"]["path"].get<std::string>());
    arg("mode=" + record["args"]["mode"].get<std::string>());
  } else {
    argv.insert(argv.end(), {"--op", "call"});
    arg(std::string("caller=") + TEST_CLIENT);
    arg("uid=" + std::to_string(getuid()));
    arg("method=" + record["args"]["method"].get<std::string>());
  }
  RunResult run = runProgram(argv);
  exitCode = run.exitCode;
  return nlohmann::json::parse(run.output, nullptr, false);
}

TEST(PolicyExplainTest, ExplainAgreesWithWhatARealAirlockdDecided) {
  BrokerProcess broker({{"probe.toml", explainPolicy()}});
  auto& dir = broker.dir();
  mkdir(dir.file("data").c_str(), 0755);
  mkdir(dir.file("data/private").c_str(), 0755);
  dir.write("data/hello.txt", "hello\n");
  dir.write("data/private/key", "k\n");
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();

  auto client = broker.connect();
  auto unit = client.unit("probe");
  unit.call("read", dir.file("data/hello.txt"));          // allow data-read
  unit.call("read", dir.file("data/private/key"));        // deny data-private
  unit.call("read", dir.file("data/../data/hello.txt"));  // refused: `..`
  unit.call("read", "/etc/passwd");                        // default-deny
  unit.call("write", dir.file("data/hello.txt") + "\nx");  // a read grant does not grant write
  unit.call("echo", "x");                                  // deny no-echo
  unit.call("status", "");                                 // default-deny

  std::vector<nlohmann::json> decided;
  for (auto& r : broker.auditRecords()) {
    if (r["event"] == "fs.open" || r["event"] == "call") decided.push_back(r);
  }
  ASSERT_GE(decided.size(), 11u) << broker.log();
  std::set<std::string> rulesSeen;
  for (auto& record : decided) {
    int exitCode = -1;
    nlohmann::json explained = explainRecord(broker, record, exitCode);
    ASSERT_TRUE(explained.is_object()) << record.dump();
    EXPECT_EQ(explained["decision"], record["decision"]) << record.dump() << "\n" << explained.dump();
    EXPECT_EQ(explained["rule"], record["rule"]) << record.dump() << "\n" << explained.dump();
    EXPECT_EQ(exitCode, record["decision"] == "allow" ? 0 : 1) << explained.dump();
    EXPECT_EQ(explained["policy_rev"], record["policy_rev"]) << record.dump();
    rulesSeen.insert(record["rule"].get<std::string>());
  }
  EXPECT_EQ(rulesSeen, (std::set<std::string>{"data-read", "data-private", "default-deny",
                                              "me-calls-probe", "no-echo"}));
}

TEST(PolicyExplainTest, EveryDecisionRecordNamesThePolicyRevisionBrokerStartAnnounced) {
  BrokerProcess broker({{"probe.toml", explainPolicy()}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  broker.connect().unit("probe").call("echo", "x");

  auto starts = broker.auditRecords({{"event", "broker.start"}});
  ASSERT_EQ(starts.size(), 1u);
  std::string revision = starts[0].value("policy_rev", "");
  EXPECT_EQ(revision.size(), 32u) << starts[0].dump();
  size_t decisions = 0;
  for (auto& record : broker.auditRecords()) {
    if (!record.contains("decision")) continue;
    ++decisions;
    EXPECT_EQ(record.value("policy_rev", ""), revision) << record.dump();
  }
  EXPECT_GE(decisions, 2u) << "auth and call";
}

TEST(PolicyExplainTest, TextOutputNamesTheRuleItsLineAndTheRulesThatLost) {
  TempDir dir;
  dir.write("probe.toml", explainPolicy());
  RunResult run = runProgram({binDir() + "/airlock", "policy", "explain", "--policies",
                              dir.path(), "--define", "tmp=" + dir.path(), "--unit", "probe", "--op",
                              "call", "--arg", "caller=tester", "--arg", "method=echo"});
  EXPECT_EQ(run.exitCode, 1) << run.output;
  EXPECT_NE(run.output.find("deny: call probe.echo by client tester"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("rule:   no-echo " + dir.file("probe.toml") + ":24"),
            std::string::npos) << run.output;
  EXPECT_NE(run.output.find("me-calls-probe " + dir.file("probe.toml") + ":18: allow"),
            std::string::npos) << run.output;

  RunResult usage = runProgram({binDir() + "/airlock", "policy", "explain", "--policies",
                                dir.path(), "--define", "tmp=" + dir.path(), "--unit", "probe",
                                "--op", "fs.open", "--arg", "path=/x"});
  EXPECT_EQ(usage.exitCode, 2) << usage.output;
}

// The unit's effective syscall allowlist, from the same table the filter is compiled from: the
// default groups with their argument filters, the unit's groups and single names, and nothing
// the policy did not ask for.
TEST(PolicyExplainTest, SyscallsListsTheUnitsEffectiveAllowlistWithGroupsAndFilters) {
  TempDir dir;
  dir.write("wide.toml", R"([unit]
name = "wide"
worker = "test-probe_worker"

[sandbox]
syscalls = ["fs-metadata", "sync"]
)");
  dir.write("plain.toml", "[unit]\nname = \"plain\"\nworker = \"test-probe_worker\"\n");
  auto explain = [&](const std::string& unit, bool json = false) {
    std::vector<std::string> argv = {binDir() + "/airlock", "policy", "explain", "--policies",
                                     dir.path(), "--unit", unit, "--syscalls"};
    if (json) argv.push_back("--json");
    return runProgram(argv);
  };
  RunResult wide = explain("wide");
  EXPECT_EQ(wide.exitCode, 0) << wide.output;
  for (const char* line :
       {"  read                 basic-io (default)           allow\n",
        "  clone                threads (default)            allow only with CLONE_THREAD",
        "  statfs               fs-metadata                  allow\n",
        "  sync                 named alone                  allow\n",
        "  fs-metadata: statfs: sizes and flags of the file system"}) {
    EXPECT_NE(wide.output.find(line), std::string::npos) << line << "\n" << wide.output;
  }
  RunResult plain = explain("plain");
  EXPECT_EQ(plain.exitCode, 0) << plain.output;
  EXPECT_EQ(plain.output.find("\n  statfs "), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find("\n  sync "), std::string::npos) << plain.output;

  RunResult json = explain("wide", true);
  auto parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed["unit"], "wide");
  bool sawSync = false;
  for (auto& entry : parsed["syscalls"]) sawSync |= entry["name"] == "sync" && entry["group"] == "";
  EXPECT_TRUE(sawSync) << json.output;

  RunResult both = runProgram({binDir() + "/airlock", "policy", "explain", "--policies",
                               dir.path(), "--unit", "wide", "--syscalls", "--op", "fs.open"});
  EXPECT_EQ(both.exitCode, 2) << both.output;
}

// What a profile was granted and which syscalls the broker answers are in the list too: it is
// what the filter does, not only what the groups say.
TEST(PolicyExplainTest, SyscallsListsWhatAProfileGrantsAndWhatTheBrokerAnswers) {
  TempDir dir;
  dir.write("profile.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["statfs", "ptrace"], "action": "SCMP_ACT_ALLOW"}]})");
  dir.write("run.toml", R"([unit]
name = "run"
program = "/bin/true"

[sandbox]
seccomp_profile = "profile.json"
)");
  auto explained = runProgram({binDir() + "/airlock", "policy", "explain", "--policies",
                               dir.path(), "--unit", "run", "--syscalls"});
  EXPECT_EQ(explained.exitCode, 0) << explained.output;
  for (const char* line :
       {"  statfs               profile profile.json $.syscalls[0] allow\n",
        "  openat               process-startup (default)    brokered: decided by the fs.* rules\n",
        "  mkdir                broker_syscalls              brokered: decided by the fs.* rules\n"}) {
    EXPECT_NE(explained.output.find(line), std::string::npos) << line << "\n" << explained.output;
  }
  EXPECT_EQ(explained.output.find("\n  ptrace "), std::string::npos) << explained.output;
}

}  // namespace
}  // namespace airlock::testing
