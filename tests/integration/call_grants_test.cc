// Call-scoped grants through a real airlockd and real sandboxed workers: a document unit whose
// only fs rule is `granted_only`, two users' files in one directory, and calls that hand over
// one of them. Host-side evidence: each call's answer; broker-side: the audit records.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <airlock/tests/typed_probe.capnp.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

const char DOCS_POLICY[] = R"(
[unit]
name = "docs"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-docs"
allow = "call"
caller = ["tester"]
method = ["read", "write", "write-through-read"]

[[rule]]
id = "tester-grants-docs"
allow = "grant"
caller = ["tester"]
path = "${tmp}/docs/*"
mode = ["read"]

[[rule]]
id = "docs-only-as-granted"
allow = "fs.open"
path = "${tmp}/docs/**"
mode = ["read", "write", "create", "truncate"]
granted_only = true
)";

const char TYPED_POLICY[] = R"(
[unit]
name = "typed"
worker = "test-typed_worker"
interface = ")" AIRLOCK_SOURCE_DIR R"(/tests/integration/support/typed_probe.capnp:TypedProbe"

[[rule]]
id = "tester-calls-typed"
allow = "call"
caller = ["tester"]
method = ["readFile", "keepFs", "readWithKeptFs"]

[[rule]]
id = "tester-grants-typed"
allow = "grant"
caller = ["tester"]
path = "${tmp}/docs/*"
mode = ["read"]

[[rule]]
id = "typed-only-as-granted"
allow = "fs.open"
path = "${tmp}/docs/**"
mode = ["read"]
granted_only = true
)";

class CallGrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{
        {"docs.toml", DOCS_POLICY}, {"typed.toml", TYPED_POLICY}});
    ASSERT_EQ(mkdir(broker_->dir().file("docs").c_str(), 0755), 0);
    broker_->dir().write("docs/alice.xml", "<doc>alice's</doc>");
    broker_->dir().write("docs/bob.xml", "<doc>bob's</doc>");
    ASSERT_TRUE(broker_->restart()) << broker_->log();  // the granted root opens at load
    alice_ = broker_->dir().file("docs/alice.xml");
    bob_ = broker_->dir().file("docs/bob.xml");
  }

  CallOutcome call(const std::string& method, const std::string& payload,
                   const std::vector<Grant>& grants) {
    return broker_->connect().unit("docs").call(method, payload, grants);
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::string alice_, bob_;
};

TEST_F(CallGrantsTest, AWorkerReadsTheFileItsCallWasGrantedAndNotTheNeighbourInTheSameDirectory) {
  std::vector<Grant> aliceOnly{{alice_, {GrantMode::READ}}};
  auto read = call("read", alice_, aliceOnly);
  ASSERT_TRUE(read.ok()) << read.describe() << "\n" << broker_->log();
  EXPECT_EQ(read.payload(), "<doc>alice's</doc>");
  // The allowed open names the grant (its rule and index) as its deciding rule.
  auto allowed = broker_->auditRecords({{"event", "fs.open"}, {"decision", "allow"}});
  ASSERT_EQ(allowed.size(), 1u) << broker_->log();
  EXPECT_EQ(allowed[0]["rule"], "tester-grants-docs#0");
  EXPECT_NE(allowed[0]["reason"].get<std::string>().find("docs-only-as-granted"),
            std::string::npos) << allowed[0].dump();

  // The same call, the same grant: bob's file, one directory entry away, is refused and audited.
  auto neighbour = call("read", bob_, aliceOnly);
  EXPECT_FALSE(neighbour.ok());
  EXPECT_NE(neighbour.message().find("denied by rule default-deny"), std::string::npos)
      << neighbour.describe();
  auto denied = broker_->auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  ASSERT_EQ(denied.size(), 1u) << broker_->log();
  EXPECT_EQ(denied[0]["args"]["path"], bob_);
  EXPECT_EQ(denied[0]["rule"], "default-deny");

  // Without a grant the unit reaches nothing at all, alice's file included.
  EXPECT_FALSE(call("read", alice_, {}).ok());

  // Each call record lists what the call was handed.
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0]["args"]["grants"][0]["path"], alice_);
  EXPECT_EQ(calls[0]["args"]["grants"][0]["mode"], "read");
  EXPECT_EQ(calls[1]["args"]["grants"][0]["path"], alice_);
  EXPECT_FALSE(calls[2]["args"].contains("grants"));
  // The denied open belongs to the second call.
  EXPECT_EQ(denied[0]["call_id"], calls[1]["call_id"]);
}

TEST_F(CallGrantsTest, AirlockCallHandsGrantsFromTheShell) {
  auto call = [this](const std::string& grant, const std::string& path) {
    return runProgram({binDir() + "/airlock", "call", "--socket", broker_->socket(), "--key",
                       broker_->clientKey(), "--broker-key", broker_->brokerPublicKey(),
                       "--grant", grant, "docs", "read", path});
  };
  auto granted = call(alice_ + ":r", alice_);
  EXPECT_EQ(granted.exitCode, 0) << granted.output;
  EXPECT_EQ(granted.output, "<doc>alice's</doc>");
  auto neighbour = call(alice_ + ":read", bob_);
  EXPECT_EQ(neighbour.exitCode, 1) << neighbour.output;
  auto refused = call(bob_ + ":read,write", bob_);
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_NE(refused.output.find("denied by rule default-deny: grant #0"), std::string::npos)
      << refused.output;
  auto malformed = call(bob_ + ":rx", bob_);
  EXPECT_EQ(malformed.exitCode, 2) << malformed.output;
  EXPECT_NE(malformed.output.find("unknown mode \"rx\""), std::string::npos) << malformed.output;
  // An option left without its value is named, not read as UNIT, METHOD or the payload.
  auto dangling = runProgram({binDir() + "/airlock", "call", "--socket", broker_->socket(), "--key",
                              broker_->clientKey(), "--broker-key", broker_->brokerPublicKey(),
                              "docs", "read", "--grant"});
  EXPECT_EQ(dangling.exitCode, 2) << dangling.output;
  EXPECT_NE(dangling.output.find("airlock call: --grant needs a value"), std::string::npos)
      << dangling.output;
}

TEST_F(CallGrantsTest, AGrantTheCallerMayNotMakeRefusesTheCallBeforeAnyWorkerSeesIt) {
  // Write is not among the modes tester may grant; /etc/passwd not among the paths.
  for (const Grant& grant : {Grant{alice_, {GrantMode::READ, GrantMode::WRITE}},
                             Grant{"/etc/passwd", {GrantMode::READ}}}) {
    auto outcome = call("read", grant.path, {{alice_, {GrantMode::READ}}, grant});
    EXPECT_EQ(outcome.errorKind(), CallErrorKind::DENIED) << outcome.describe();
    EXPECT_EQ(outcome.ruleId(), "default-deny");
    EXPECT_NE(outcome.message().find("grant #1 " + grant.path), std::string::npos)
        << outcome.message();
  }
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 2u);
  for (auto& record : calls) {
    EXPECT_EQ(record["decision"], "deny");
    EXPECT_EQ(record["args"]["grants"].size(), 2u) << record.dump();
  }
  // No worker saw either call: nothing admitted, nothing opened.
  EXPECT_TRUE(broker_->auditRecords({{"event", "call.admitted"}}).empty());
  EXPECT_TRUE(broker_->auditRecords({{"event", "fs.open"}}).empty());
}

TEST_F(CallGrantsTest, AReadGrantNeitherAllowsAWriteOpenNorHandsAWritableDescriptor) {
  std::vector<Grant> aliceRead{{alice_, {GrantMode::READ}}};
  auto write = call("write", alice_ + "\noverwritten", aliceRead);
  EXPECT_FALSE(write.ok());
  EXPECT_NE(write.message().find("denied"), std::string::npos) << write.describe();
  auto through = call("write-through-read", alice_, aliceRead);
  ASSERT_TRUE(through.ok()) << through.describe();
  EXPECT_EQ(through.payload(), "errno EBADF");
  EXPECT_EQ(readFile(alice_), "<doc>alice's</doc>");
}

TEST_F(CallGrantsTest, TypedCallsCarryTheirGrantsAndAKeptCapabilityIsRefusedAfterItsCall) {
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>({{alice_, {GrantMode::READ}}});
  auto read = probe.readFileRequest();
  read.setPath(alice_);
  auto response = read.send().wait(client.waitScope());  // owns what its readers point into
  auto bytes = response.getBytes();
  EXPECT_EQ(std::string(bytes.asChars().begin(), bytes.size()), "<doc>alice's</doc>");

  // The worker keeps the fs capability of a call holding the grant; a later call (holding the
  // same grant) uses the kept one: refused as expired, never decided, nothing opened.
  probe.keepFsRequest().send().wait(client.waitScope());
  auto kept = probe.readWithKeptFsRequest();
  kept.setPath(alice_);
  auto keptResponse = kept.send().wait(client.waitScope());
  auto answer = keptResponse.getAnswer();
  EXPECT_NE(std::string(answer.cStr()).find("refused: Fs.open on a capability whose call"),
            std::string::npos) << answer.cStr();
  auto expired = broker_->auditRecords({{"event", "capability.expired"}});
  ASSERT_EQ(expired.size(), 1u) << broker_->log();
  EXPECT_EQ(expired[0]["args"]["method"], "Fs.open");
  EXPECT_EQ(broker_->auditRecords({{"event", "fs.open"}, {"decision", "allow"}}).size(), 1u);
}

}  // namespace
}  // namespace airlock::testing
