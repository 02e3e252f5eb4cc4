// Unit-to-unit calls (Units.invoke) through a real airlockd and real sandboxed probe workers:
// both sides' rules, the two records with one call id, the chain's bounds, a callee that crashes
// or never answers, and a host client that tries to pass for a unit.

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <string>
#include <vector>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/small_disk.h"

namespace airlock::testing {
namespace {

// A unit running the probe worker that the test client may call, plus `rules`.
std::string unit(const std::string& name, const std::string& rules, int timeoutMs = 30000) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"test-probe_worker\"\ncall_timeout_ms = " +
         std::to_string(timeoutMs) + "\n\n[[rule]]\nid = \"" + name +
         "-host\"\nallow = \"call\"\ncaller = [\"tester\"]\nmethod = [\"*\"]\n" + rules;
}

std::string invokeRule(const std::string& id, const std::string& callee,
                       const std::string& methods, const std::string& effect = "allow") {
  return "\n[[rule]]\nid = \"" + id + "\"\n" + effect + " = \"invoke\"\nunit = [\"" + callee +
         "\"]\nmethod = " + methods + "\n";
}

std::string callerUnitRule(const std::string& id, const std::string& caller,
                           const std::string& methods) {
  return "\n[[rule]]\nid = \"" + id + "\"\nallow = \"call\"\ncaller_unit = [\"" + caller +
         "\"]\nmethod = " + methods + "\n";
}

class InvokeTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies, BrokerOptions options = {}) {
    broker_ = std::make_unique<BrokerProcess>(policies, std::map<std::string, std::string>{},
                                              options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& unitName, const std::string& method,
                   const std::string& payload) {
    auto client = broker_->connect();
    return client.unit(unitName).call(method, payload);
  }

  std::vector<nlohmann::json> recordsOf(const std::string& callId, const std::string& event) {
    return broker_->auditRecords({{"event", event}, {"call_id", callId}});
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(InvokeTest, AnAllowedInvokeReturnsTheCalleesReplyAndBothSidesAreRecordedUnderOneCallId) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"))},
         {"back.toml", unit("back", callerUnitRule("front-may-echo", "front", "[\"echo\"]"))}});
  auto outcome = call("front", "invoke", "back echo hello from front");
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "ok:hello from front");

  auto invokes = broker_->auditRecords({{"event", "invoke"}});
  ASSERT_EQ(invokes.size(), 1u);
  const auto& invoke = invokes[0];
  EXPECT_EQ(invoke["unit"], "front");
  EXPECT_EQ(invoke["decision"], "allow");
  EXPECT_EQ(invoke["rule"], "front-invokes-back");
  EXPECT_EQ(invoke["args"]["unit"], "back");
  EXPECT_EQ(invoke["args"]["method"], "echo");
  EXPECT_EQ(invoke["result"], "ok");
  std::string callId = invoke["call_id"];

  auto callee = recordsOf(callId, "call");
  ASSERT_EQ(callee.size(), 1u) << "one record on the callee's side, with the caller's call id";
  EXPECT_EQ(callee[0]["unit"], "back");
  EXPECT_EQ(callee[0]["caller"], "unit:front");
  EXPECT_EQ(callee[0]["decision"], "allow");
  EXPECT_EQ(callee[0]["rule"], "front-may-echo");
  EXPECT_EQ(callee[0]["args"]["caller_unit"], "front");
  EXPECT_EQ(callee[0]["args"]["method"], "echo");
  EXPECT_EQ(callee[0]["result"], "ok");
  EXPECT_GT(callee[0]["worker_pid"].get<int64_t>(), 0);

  // The parent is the host's call of front, which the invoke's record names too.
  auto host = broker_->auditRecords({{"event", "call"}, {"unit", "front"}});
  ASSERT_EQ(host.size(), 1u);
  EXPECT_NE(host[0]["call_id"], callId);
  EXPECT_EQ(invoke["args"]["parent_call_id"], host[0]["call_id"]);
  EXPECT_EQ(callee[0]["args"]["parent_call_id"], host[0]["call_id"]);
  EXPECT_EQ(invoke["worker_pid"], host[0]["worker_pid"]);
}

TEST_F(InvokeTest, TheCalleeRunsWithItsOwnCapabilitiesScopedToTheNestedCall) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"read\"]"))},
         {"back.toml",
          unit("back", callerUnitRule("front-may-read", "front", "[\"read\"]") +
                           "\n[[rule]]\nid = \"back-data\"\nallow = \"fs.open\"\npath = "
                           "\"${tmp}/**\"\nmode = [\"read\"]\n")}});
  broker_->dir().write("note.txt", "back's note");
  auto outcome = call("front", "invoke", "back read " + broker_->dir().file("note.txt"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(), "ok:back's note");
  std::string callId = broker_->auditRecords({{"event", "invoke"}}).at(0)["call_id"];
  auto opens = broker_->auditRecords({{"event", "fs.open"}});
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["unit"], "back");
  EXPECT_EQ(opens[0]["rule"], "back-data");
  EXPECT_EQ(opens[0]["call_id"], callId);
  EXPECT_EQ(opens[0]["caller"], "unit:front");
}

TEST_F(InvokeTest, TheCallersInvokeRulesDecideFirstAndARefusalNeverReachesTheCallee) {
  start({{"front.toml",
          unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]") +
                            invokeRule("no-crash", "back", "[\"crash\"]", "deny"))},
         {"back.toml", unit("back", callerUnitRule("front-may-call", "front", "[\"*\"]"))}});
  auto listed = call("front", "invoke", "back crash");
  ASSERT_TRUE(listed.ok()) << listed.describe();
  EXPECT_EQ(listed.payload().rfind("denied:denied by rule no-crash: denied by rule \"no-crash\"", 0),
            0u)
      << listed.payload();
  auto unlisted = call("front", "invoke", "third echo x");
  ASSERT_TRUE(unlisted.ok()) << unlisted.describe();
  EXPECT_EQ(unlisted.payload(),
            "denied:denied by rule default-deny: no rule allows unit front to invoke third.echo");

  auto invokes = broker_->auditRecords({{"event", "invoke"}});
  ASSERT_EQ(invokes.size(), 2u);
  EXPECT_EQ(invokes[0]["decision"], "deny");
  EXPECT_EQ(invokes[0]["rule"], "no-crash");
  EXPECT_EQ(invokes[1]["decision"], "deny");
  EXPECT_EQ(invokes[1]["rule"], "default-deny");
  for (auto& invoke : invokes) {
    EXPECT_TRUE(recordsOf(invoke["call_id"], "call").empty()) << "the callee was never asked";
  }
  EXPECT_TRUE(broker_->auditRecords({{"event", "call"}, {"unit", "back"}}).empty());
}

TEST_F(InvokeTest, TheCalleesCallRulesMustListTheCallingUnit) {
  // back lets the host client call it, but names no unit in caller_unit.
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"))},
         {"back.toml", unit("back", "")}});
  auto outcome = call("front", "invoke", "back echo x");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(),
            "denied:unit back: denied by rule default-deny: no rule allows call of back.echo by "
            "unit front");
  auto invoke = broker_->auditRecords({{"event", "invoke"}}).at(0);
  EXPECT_EQ(invoke["decision"], "allow") << "front's own rule allowed it";
  EXPECT_EQ(invoke["rule"], "front-invokes-back");
  EXPECT_EQ(invoke["result"].get<std::string>().rfind("denied: unit back: denied by rule", 0), 0u)
      << invoke.dump();
  auto callee = recordsOf(invoke["call_id"], "call");
  ASSERT_EQ(callee.size(), 1u);
  EXPECT_EQ(callee[0]["unit"], "back");
  EXPECT_EQ(callee[0]["decision"], "deny");
  EXPECT_EQ(callee[0]["rule"], "default-deny");
  EXPECT_EQ(callee[0]["caller"], "unit:front");
}

TEST_F(InvokeTest, ACycleIsRefusedNamingTheChain) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]") +
                                          callerUnitRule("back-may-call", "back", "[\"*\"]"))},
         {"back.toml", unit("back", invokeRule("back-invokes-front", "front", "[\"*\"]") +
                                        callerUnitRule("front-may-call", "front", "[\"*\"]"))}});
  auto outcome = call("front", "invoke", "back invoke front echo x");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(),
            "ok:denied:denied by rule invoke.cycle: invoke of front.echo would close a cycle: the "
            "chain is front -> back -> front");
  auto refused = broker_->auditRecords({{"event", "invoke"}, {"unit", "back"}});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["decision"], "deny");
  EXPECT_EQ(refused[0]["rule"], "invoke.cycle");
  EXPECT_TRUE(recordsOf(refused[0]["call_id"], "call").empty());
}

TEST_F(InvokeTest, AUnitInvokingItselfIsACycle) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-itself", "front", "[\"*\"]") +
                                          callerUnitRule("itself", "front", "[\"*\"]"))}});
  auto outcome = call("front", "invoke", "front echo x");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(),
            "denied:denied by rule invoke.cycle: invoke of front.echo would close a cycle: the "
            "chain is front -> front");
}

TEST_F(InvokeTest, NestingDeeperThanTheBoundIsRefused) {
  // u1 -> u2 -> ... -> u6: each may invoke the next, which lists it as caller_unit.
  std::map<std::string, std::string> policies;
  for (int i = 1; i <= 6; ++i) {
    std::string name = "u" + std::to_string(i), next = "u" + std::to_string(i + 1);
    std::string rules = invokeRule(name + "-next", next, "[\"*\"]");
    if (i > 1) rules += callerUnitRule(name + "-prev", "u" + std::to_string(i - 1), "[\"*\"]");
    policies[name + ".toml"] = unit(name, rules);
  }
  start(policies);
  auto outcome = call("u1", "invoke", "u2 invoke u3 invoke u4 invoke u5 invoke u6 echo deep");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  // Four nested invokes happen; the fifth (u5 -> u6) is refused.
  EXPECT_EQ(outcome.payload(),
            "ok:ok:ok:ok:denied:denied by rule invoke.max_depth: invoke of u6 would nest deeper "
            "than 4 invokes: the chain is u1 -> u2 -> u3 -> u4 -> u5");
  EXPECT_EQ(broker_->auditRecords({{"event", "invoke"}, {"decision", "allow"}}).size(), 4u);
  auto refused = broker_->auditRecords({{"event", "invoke"}, {"rule", "invoke.max_depth"}});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["unit"], "u5");
}

TEST_F(InvokeTest, ACalleeThatCrashesOrHasNoSuchMethodOrUnitGivesTheCallerFailed) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]") +
                                          invokeRule("front-invokes-ghost", "ghost", "[\"*\"]"))},
         {"back.toml", unit("back", callerUnitRule("front-may-call", "front", "[\"*\"]"))}});
  auto crashed = call("front", "invoke", "back crash");
  ASSERT_TRUE(crashed.ok()) << "the host call still gets its one answer: "
                            << crashed.describe();
  EXPECT_EQ(crashed.payload().rfind("failed:unit crashed: worker pid ", 0), 0u)
      << crashed.payload();
  auto noMethod = call("front", "invoke", "back no-such-method");
  ASSERT_TRUE(noMethod.ok()) << noMethod.describe();
  EXPECT_EQ(noMethod.payload(), "failed:no such method: the worker exports no such method");
  auto noUnit = call("front", "invoke", "ghost echo x");
  ASSERT_TRUE(noUnit.ok()) << noUnit.describe();
  EXPECT_EQ(noUnit.payload(), "failed:no such unit: unit ghost: no policy defines unit \"ghost\"");

  auto invokes = broker_->auditRecords({{"event", "invoke"}});
  ASSERT_EQ(invokes.size(), 3u);
  for (auto& invoke : invokes) {
    auto callee = recordsOf(invoke["call_id"], "call");
    ASSERT_EQ(callee.size(), 1u) << invoke.dump();
    // A call the callee's side ran has the invoke's result; one it refused is recorded as a
    // host's refused call is (call_admission_test.cc): its kind, the why in `reason`.
    if (callee[0]["decision"] == "deny") {
      EXPECT_EQ(callee[0]["result"], "no such unit");
      EXPECT_EQ(callee[0]["reason"], "no policy defines unit \"ghost\"");
    } else {
      EXPECT_EQ(callee[0]["result"], invoke["result"]);
    }
  }
  EXPECT_EQ(invokes[0]["result"].get<std::string>().rfind("unit crashed: ", 0), 0u);
  EXPECT_EQ(recordsOf(invokes[2]["call_id"], "call")[0]["decision"], "deny");
  EXPECT_EQ(recordsOf(invokes[2]["call_id"], "call")[0]["unit"], "ghost");
  // And front's worker, which saw the failure as a value, still serves.
  EXPECT_TRUE(call("front", "echo", "still here").ok());
}

// A callee's flow limits count invokes as they count host calls. At one call a second (the
// least a policy can say), five invokes in a row cannot all find a token.
TEST_F(InvokeTest, ACalleeAtItsFlowLimitsAnswersAnInvokeBusyAndRecordsIt) {
  std::string back = unit("back", callerUnitRule("front-may-call", "front", "[\"*\"]"));
  back.replace(back.find("call_timeout_ms"), 0, "max_calls_per_second = 1\ncalls_burst = 1\n");
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"))},
         {"back.toml", back}});
  int busy = 0;
  for (int i = 0; i < 5; ++i) {
    auto outcome = call("front", "invoke", "back echo x");
    ASSERT_TRUE(outcome.ok()) << outcome.describe();
    if (outcome.payload() == "ok:x") continue;
    EXPECT_EQ(outcome.payload().rfind("failed:busy: unit back: unit back ", 0), 0u)
        << outcome.payload();
    ++busy;
  }
  EXPECT_GE(busy, 1);
  int recordedBusy = 0;
  for (auto& callee : broker_->auditRecords({{"event", "call"}, {"unit", "back"}})) {
    if (callee["rule"] != "unit.max_calls_per_second") continue;
    EXPECT_EQ(callee["decision"], "deny") << callee;
    ++recordedBusy;
  }
  EXPECT_EQ(recordedBusy, busy);
}

TEST_F(InvokeTest, ACalleeThatNeverAnswersTimesOutAsFailed) {
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"))},
         {"back.toml", unit("back", callerUnitRule("front-may-call", "front", "[\"*\"]"), 500)}});
  auto outcome = call("front", "invoke", "back hang");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(), "failed:timed out: no answer within call_timeout_ms 500");
  auto invoke = broker_->auditRecords({{"event", "invoke"}}).at(0);
  auto callee = recordsOf(invoke["call_id"], "call");
  ASSERT_EQ(callee.size(), 1u);
  EXPECT_EQ(callee[0]["result"], "timed out: no answer within call_timeout_ms 500");
}

TEST_F(InvokeTest, ANestedCallEndsByTheCallersDeadlineAndIsStillRecordedOnBothSides) {
  // front has 1 s; back would have a minute. The nested call may not outlive front's call, and
  // when front's call times out the invoke still gets both of its records.
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"), 1000)},
         {"back.toml", unit("back", callerUnitRule("front-may-call", "front", "[\"*\"]"))}});
  auto outcome = call("front", "invoke", "back hang");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::TIMED_OUT) << outcome.describe();
  auto invoke = broker_->waitForRecord({{"event", "invoke"}});
  ASSERT_FALSE(invoke.is_null()) << broker_->log();
  EXPECT_EQ(invoke["result"], "timed out: no answer before the calling unit's own deadline");
  auto callee = broker_->waitForRecord({{"event", "call"}, {"call_id", invoke["call_id"]}});
  ASSERT_FALSE(callee.is_null());
  EXPECT_EQ(callee["unit"], "back");
  EXPECT_EQ(callee["result"], invoke["result"]);
  // Both workers were replaced and serve again.
  EXPECT_TRUE(call("back", "echo", "x").ok());
  EXPECT_TRUE(call("front", "echo", "x").ok());
}

TEST_F(InvokeTest, AHostClientNamedLikeAUnitIsStillAClient) {
  BrokerOptions options;
  options.clients = {TEST_CLIENT, "front"};
  // The client "front" may call front (so it authenticates); back lists the unit front only.
  start({{"front.toml",
          unit("front", "\n[[rule]]\nid = \"client-front\"\nallow = \"call\"\ncaller = "
                        "[\"front\"]\nmethod = [\"echo\"]\n")},
         {"back.toml", unit("back", callerUnitRule("unit-front", "front", "[\"*\"]"))}},
        options);
  auto client = broker_->connect("front");
  auto outcome = client.unit("back").call("echo", "x");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::DENIED);
  EXPECT_EQ(outcome.ruleId(), "default-deny") << outcome.describe();
  auto record = broker_->auditRecords({{"event", "call"}, {"unit", "back"}}).at(0);
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["caller"].get<std::string>().rfind("client:front", 0), 0u) << record.dump();
}

// Record before acting, for an invoke: with the log's disk filled after the calling unit's call
// was admitted and before its worker invokes, the invoke cannot be recorded, so the callee's
// worker never receives it and the caller gets a failure.
TEST_F(InvokeTest, AnInvokeTheLogCannotRecordNeverReachesTheCallee) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  SmallDisk disk;
  if (!disk.mounted()) GTEST_SKIP() << "mount -t tmpfs failed: " << strerror(errno);
  BrokerOptions options;
  options.auditPath = disk.file("audit.jsonl");
  start({{"front.toml", unit("front", invokeRule("front-invokes-back", "back", "[\"*\"]"))},
         {"back.toml", unit("back", callerUnitRule("front-may-print", "front", "[\"print\"]"))}},
        options);
  // The callee prints its payload to airlockd's log: the evidence that it was reached.
  ASSERT_TRUE(call("back", "print", "the-callee-runs").ok()) << broker_->log();
  ASSERT_NE(broker_->log().find("the-callee-runs"), std::string::npos) << broker_->log();
  auto pending = std::async(std::launch::async, [&]() {
    return broker_->connect().unit("front").call("sleep-invoke",
                                                 "700 back print invoked-with-the-log-full");
  });
  ASSERT_FALSE(broker_->waitForRecord({{"event", "call.admitted"}, {"unit", "front"}}).is_null())
      << broker_->log();
  ASSERT_TRUE(disk.fillUntilTheLogFails(*broker_)) << "the log is full";
  auto outcome = pending.get();
  EXPECT_FALSE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload().find("ok:"), std::string::npos) << outcome.payload();
  EXPECT_EQ(broker_->log().find("invoked-with-the-log-full"), std::string::npos)
      << "an invoke the log could not record reached the callee's worker";
}

}  // namespace
}  // namespace airlock::testing
