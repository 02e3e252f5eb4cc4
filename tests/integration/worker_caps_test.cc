// secrets.get and log through a real airlockd and the sandboxed probe worker: the grants, the
// refusals with their audit records, and the logs checked byte for byte for leaked values.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <airlock/tests/typed_probe.capnp.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "broker/caps/held_fds.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/probe_policy.h"

namespace airlock::testing {
namespace {

// Distinctive, with bytes that are not text, so a leak in any encoding-preserving form is found.
const std::string DB_PASSWORD = std::string("hunter2-correct-horse-\x01\xfe-7f3a9c", 31);
const std::string NOT_GRANTED_VALUE = "ungranted-value-5be1d0";

const char SECRETS_RULE[] = R"(
[[rule]]
id = "db-secrets"
allow = "secrets.get"
name = ["db-password", "missing-one"]
)";

class WorkerCapsTest : public ::testing::Test {
 protected:
  // Starts airlockd on `policy` with a --secrets directory holding db-password and not-granted.
  void start(const std::string& policy) {
    secrets_.write("db-password", DB_PASSWORD);
    secrets_.write("not-granted", NOT_GRANTED_VALUE);
    for (auto name : {"db-password", "not-granted"}) {
      ASSERT_EQ(chmod(secrets_.file(name).c_str(), 0600), 0);
    }
    BrokerOptions options;
    options.extraArgs = {"--secrets", secrets_.path()};
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", policy}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    auto client = broker_->connect();
    return client.unit("probe").call(method, payload);
  }

  TempDir secrets_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(WorkerCapsTest, AGrantedSecretReturnsItsExactBytesAndTheRecordHasOnlyAKeyedHash) {
  start(probeUnitPolicy(SECRETS_RULE));
  auto outcome = call("secret", "db-password");
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), DB_PASSWORD);
  ASSERT_TRUE(call("secret", "db-password").ok());

  auto gets = broker_->auditRecords({{"event", "secrets.get"}});
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0]["decision"], "allow");
  EXPECT_EQ(gets[0]["rule"], "db-secrets");
  EXPECT_EQ(gets[0]["args"]["name"], "db-password");
  EXPECT_EQ(gets[0]["result"], "value passed");
  EXPECT_TRUE(std::regex_match(gets[0]["args"]["value_hash"].get<std::string>(),
                               std::regex("blake2b-keyed:[0-9a-f]{64}")))
      << gets[0].dump();
  EXPECT_EQ(gets[0]["args"]["value_hash"], gets[1]["args"]["value_hash"])
      << "one key per broker run: the same value hashes alike";
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(gets[0]["call_id"], calls[0]["call_id"]);
}

// The answer to secrets.get, as it crosses: a sealed memfd, never the bytes in the message. So
// no Cap'n Proto buffer of the broker's (freed without being zeroed) holds the value, and the
// worker can neither change what it was given nor make the broker's copy grow.
TEST_F(WorkerCapsTest, ASecretCrossesAsASealedMemfdNotAsBytesInTheAnswer) {
  start(std::string(R"(
[unit]
name = "probe"
worker = "test-typed_worker"
interface = ")") + AIRLOCK_SOURCE_DIR + R"(/tests/integration/support/typed_probe.capnp:TypedProbe"

[[rule]]
id = "tester-asks"
allow = "call"
caller = ["tester"]
method = ["secretAnswer"]
)" + SECRETS_RULE);
  auto client = broker_->connect();
  auto request = client.unit("probe").typed<rpc::TypedProbe>().secretAnswerRequest();
  request.setName("db-password");
  auto answer = request.send().wait(client.waitScope());
  EXPECT_EQ(std::string(answer.getKind()), "file");
  int seals = answer.getSeals();
  for (int seal : {F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK, F_SEAL_SEAL}) {
    EXPECT_TRUE(seals & seal) << "seals " << seals << " lack " << seal;
  }
  auto bytes = answer.getBytes();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()), DB_PASSWORD);
  auto gets = broker_->auditRecords({{"event", "secrets.get"}});
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0]["result"], "value passed");
}

size_t openFdsOf(pid_t pid) {
  size_t count = 0;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

// A worker that keeps every File it is given, call after call, holds airlockd's descriptors: each
// stays open in the broker until the worker releases its capability. Without a bound one worker
// took 1,500 more of airlockd's fds per call, towards EMFILE for every unit and host. It may hold
// MAX_FDS_HELD_PER_WORKER; past that its requests fail (recorded, nothing opened) until it
// releases some.
TEST_F(WorkerCapsTest, AWorkerKeepingEveryFileItIsGivenHoldsAtMostItsShareOfTheBrokersFds) {
  start(std::string(R"(
[unit]
name = "probe"
worker = "test-typed_worker"
max_requests_per_second = 1000000
requests_burst = 100000
interface = ")") + AIRLOCK_SOURCE_DIR + R"(/tests/integration/support/typed_probe.capnp:TypedProbe"

[[rule]]
id = "tester-asks"
allow = "call"
caller = ["tester"]
method = ["holdFiles", "releaseFiles"]

[[rule]]
id = "reads-passwd"
allow = "fs.open"
path = "/etc/passwd"
mode = ["read"]
)");
  auto client = broker_->connect();
  auto probe = client.unit("probe").typed<rpc::TypedProbe>();
  auto hold = [&](uint32_t count) {
    auto request = probe.holdFilesRequest();
    request.setPath("/etc/passwd");
    request.setCount(count);
    auto answer = request.send().wait(client.waitScope());
    return std::make_pair(answer.getOpened(), std::string(answer.getRefusal()));
  };
  // After one call: the worker, its cgroup leaf and the leaf made ahead for its successor hold
  // their descriptors already, and `before` counts them.
  EXPECT_EQ(hold(0).first, 0u);
  size_t before = openFdsOf(broker_->pid());
  constexpr uint32_t MAX = broker::MAX_FDS_HELD_PER_WORKER;

  auto [opened, refusal] = hold(MAX + 40);
  EXPECT_EQ(opened, MAX);
  EXPECT_NE(refusal.find("already holds " + std::to_string(MAX) + " brokered descriptors"),
            std::string::npos) << refusal;
  EXPECT_EQ(hold(10).first, 0u) << "a later call: the worker still holds them all";
  EXPECT_LE(openFdsOf(broker_->pid()), before + MAX);

  probe.releaseFilesRequest().send().wait(client.waitScope());
  EXPECT_EQ(hold(10).first, 10u) << "released capabilities give their descriptors back";

  size_t full = 0;
  for (auto& record : broker_->auditRecords({{"event", "fs.open"}})) {
    std::string result = record["result"].get<std::string>();
    full += result.find("MAX_FDS_HELD_PER_WORKER") != std::string::npos;
  }
  EXPECT_EQ(full, 50u) << "each refused request has its record";
}

TEST_F(WorkerCapsTest, ANameThePolicyDoesNotListIsDeniedWithADenyRecord) {
  start(probeUnitPolicy(SECRETS_RULE));
  auto outcome = call("secret", "not-granted");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED: denied by rule default-deny"), std::string::npos)
      << outcome.message();
  EXPECT_EQ(outcome.message().find(NOT_GRANTED_VALUE), std::string::npos);
  auto gets = broker_->auditRecords({{"event", "secrets.get"}});
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0]["decision"], "deny");
  EXPECT_EQ(gets[0]["rule"], "default-deny");
  EXPECT_EQ(gets[0]["args"]["name"], "not-granted");
  EXPECT_FALSE(gets[0]["args"].contains("value_hash"));

  // Granted but absent from the store: allowed by the rule, failed by the store.
  auto missing = call("secret", "missing-one");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("FAILED: "), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("ENOENT"), std::string::npos) << missing.message();
}

TEST_F(WorkerCapsTest, NamesWithASlashOrDotDotAreRefusedBeforeAnyRule) {
  start(probeUnitPolicy(SECRETS_RULE));
  for (std::string name : {"../not-granted", "..", ".", "sub/db-password", "/etc/passwd", ""}) {
    auto outcome = call("secret", name);
    ASSERT_FALSE(outcome.ok()) << name;
    EXPECT_NE(outcome.message().find("DENIED"), std::string::npos) << outcome.message();
    auto last = broker_->auditRecords({{"event", "secrets.get"}}).back();
    EXPECT_EQ(last["decision"], "deny") << last.dump();
    EXPECT_EQ(last["rule"], "default-deny") << last.dump();
    EXPECT_NE(last["reason"].get<std::string>().find("refused secrets.get"), std::string::npos)
        << last.dump();
  }
}

TEST_F(WorkerCapsTest, TheValueAppearsNowhereInTheAuditLogOrTheBrokerLog) {
  start(probeUnitPolicy(SECRETS_RULE));
  ASSERT_TRUE(call("secret", "db-password").ok());
  ASSERT_FALSE(call("secret", "not-granted").ok());
  ASSERT_FALSE(call("secret", "../db-password").ok());
  ASSERT_EQ(broker_->stop(), 0);  // the closing records and checkpoint are written too
  std::string audit = readFile(broker_->auditPath());
  std::string log = broker_->log();
  ASSERT_NE(audit.find("\"secrets.get\""), std::string::npos);
  for (const std::string& value : {DB_PASSWORD, NOT_GRANTED_VALUE, std::string("hunter2")}) {
    EXPECT_EQ(audit.find(value), std::string::npos) << "audit log holds " << value;
    EXPECT_EQ(log.find(value), std::string::npos) << "broker log holds " << value;
  }
}

TEST_F(WorkerCapsTest, AUnitWithoutASecretsRuleGetsANullSecretsCapability) {
  start(probeUnitPolicy(""));
  auto outcome = call("secret", "db-password");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED);
  // The SDK throws only when the call's `secrets` field is null (sdk/worker/worker.cc).
  EXPECT_NE(outcome.message().find("grants no secrets"), std::string::npos) << outcome.message();
  EXPECT_TRUE(broker_->auditRecords({{"event", "secrets.get"}}).empty());
}

TEST_F(WorkerCapsTest, ALogLineReachesTheBrokerLogTaggedWithUnitAndPidAndCannotForgeALine) {
  start(probeUnitPolicy(""));
  auto outcome = call("log", "hello from the worker\nairlockd FORGED: line");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 1u);
  std::string tag = "[probe " + std::to_string(calls[0]["worker_pid"].get<int>()) + "] ";
  std::string log = broker_->log();
  EXPECT_NE(log.find(tag + "hello from the worker\\x0aairlockd FORGED: line"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("\nairlockd FORGED"), std::string::npos) << log;
  EXPECT_TRUE(broker_->auditRecords({{"event", "log"}}).empty()) << "log lines are not audited";

  ASSERT_TRUE(call("log", std::string(5000, 'x')).ok());
  EXPECT_NE(broker_->log().find(tag + std::string(4096, 'x') + " [cut 904 bytes]"),
            std::string::npos);
}

// Sum of N over the broker's "dropped N log lines" lines.
uint64_t droppedReported(const std::string& log) {
  static const std::regex DROPPED("\\[probe\\] dropped ([0-9]+) log lines");
  uint64_t total = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), DROPPED), end; it != end; ++it) {
    total += std::stoull((*it)[1]);
  }
  return total;
}

uint64_t count(const std::string& text, const std::string& needle) {
  uint64_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(WorkerCapsTest, ALogFloodIsRateLimitedAuditedOnceAndEveryDroppedLineIsCounted) {
  start(probeUnitPolicy(""));
  constexpr uint64_t LINES = 3000;
  auto outcome = call("log-flood", std::to_string(LINES));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();

  // Every line is either in the log or counted in a report; the last report follows within its
  // period, so wait for the sum rather than for a time.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string log;
  uint64_t written = 0, dropped = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    log = broker_->log();
    written = count(log, "] flood line ");
    dropped = droppedReported(log);
    if (written + dropped == LINES) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(written + dropped, LINES) << log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(written, LINES);
  auto limited = broker_->auditRecords({{"event", "log.rate_limited"}});
  ASSERT_FALSE(limited.empty());
  EXPECT_LE(limited.size(), count(log, "[probe] dropped ")) << "one record per engagement";
  EXPECT_EQ(limited[0]["unit"], "probe");
  EXPECT_EQ(limited[0]["args"]["lines_per_second"], 100);
  EXPECT_EQ(limited[0]["args"]["burst_lines"], 200);
}

}  // namespace
}  // namespace airlock::testing
