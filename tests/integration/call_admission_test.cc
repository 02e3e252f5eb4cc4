// One admission for every call to a unit: a host's `Unit.call`, its typed call and a unit's
// `invoke` get the same answer and the same record for the same cause (calls/call_admission.h).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <thread>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include <airlock/tests/typed_probe.capnp.h>

namespace airlock::testing {
namespace {

// "target" is called three ways: by the host, typed by the host, and invoked by "front".
std::map<std::string, std::string> policies(int callTimeoutMs = 10000) {
  std::string timeout = "call_timeout_ms = " + std::to_string(callTimeoutMs) + "\n";
  return {
      {"target.toml",
       "[unit]\nname = \"target\"\nworker = \"test-typed_worker\"\n" + timeout +
           "max_payload_bytes = 1024\ninterface = \"" AIRLOCK_SOURCE_DIR
           "/tests/integration/support/typed_probe.capnp:TypedProbe\"\n\n"
           "[[rule]]\nid = \"host-calls-target\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
           "method = [\"echo\"]\n\n"
           "[[rule]]\nid = \"front-calls-target\"\nallow = \"call\"\ncaller_unit = [\"front\"]\n"
           "method = [\"echo\"]\n"},
      {"front.toml",
       "[unit]\nname = \"front\"\nworker = \"test-probe_worker\"\n" + timeout +
           "\n[[rule]]\nid = \"tester-calls-front\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
           "method = [\"*\"]\n\n"
           "[[rule]]\nid = \"front-invokes-target\"\nallow = \"invoke\"\nunit = [\"target\"]\n"
           "method = [\"echo\"]\n"},
  };
}

class CallAdmissionTest : public ::testing::Test {
 protected:
  void start(int callTimeoutMs = 10000) { broker_ = startWithAdmin(policies(callTimeoutMs)); }

  // The `call` records of unit target, oldest first, as (caller, decision, rule, result).
  std::vector<std::vector<std::string>> targetCalls() {
    std::vector<std::vector<std::string>> out;
    for (auto& r : broker_->auditRecords({{"event", "call"}, {"unit", "target"}})) {
      out.push_back({r["caller"].get<std::string>(), r.value("decision", ""),
                     r.value("rule", ""), r.value("result", "")});
    }
    return out;
  }

  // The three ways, each answering with the error's text as the caller sees it.
  std::string hostCall(Client& client, const std::string& text) {
    auto outcome = client.unit("target").call("echo", text);
    return outcome.ok() ? "ok" : outcome.describe();
  }
  std::string typedCall(Client& client, const std::string& text) {
    auto probe = client.unit("target").typed<rpc::TypedProbe>();
    auto request = probe.echoRequest();
    request.setText(text);
    std::string failure = "ok";
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { request.send().wait(client.waitScope()); })) {
      failure = e->getDescription().cStr();
    }
    return failure;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CallAdmissionTest, AnOversizedPayloadIsTheSameBadRequestForHostTypedAndInvokedCalls) {
  start();
  auto client = broker_->connect();
  std::string big(2000, 'b');
  EXPECT_NE(hostCall(client, big).find("bad request"), std::string::npos);
  EXPECT_NE(typedCall(client, big).find("bad request"), std::string::npos);
  auto invoked = client.unit("front").call("invoke", "target echo " + big);
  ASSERT_TRUE(invoked.ok()) << invoked.describe();
  EXPECT_EQ(invoked.payload().rfind("failed:bad request: unit target: payload of 2000 bytes", 0),
            0u)
      << invoked.payload();

  auto calls = targetCalls();
  ASSERT_EQ(calls.size(), 3u);
  for (auto& call : calls) {
    SCOPED_TRACE(call[0]);
    EXPECT_EQ(call[1], "deny");
    EXPECT_EQ(call[2], "unit.max_payload_bytes");
    EXPECT_EQ(call[3], "bad request");
  }
}

TEST_F(CallAdmissionTest, WhileDrainingHostTypedAndInvokedCallsAreTheSameUnitUnavailable) {
  start();
  auto host = broker_->connect();  // opened before the drain: it stays open while it drains
  // front's worker sleeps, then invokes: by then airlockd drains.
  auto invoking = std::async(std::launch::async, [this]() {
    return broker_->connect().unit("front").call("sleep-invoke", "1500 target echo hi");
  });
  ASSERT_TRUE(broker_->waitForCallsInFlight("ops", 1)) << broker_->log();
  ASSERT_EQ(kill(broker_->pid(), SIGTERM), 0);
  // Draining from here until front's call is answered (its worker still sleeps).
  bool draining = false;
  for (int i = 0; i < 500 && !draining; ++i) {
    draining = broker_->log().find("draining 1 call(s) in flight") != std::string::npos;
    if (!draining) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(draining) << broker_->log();
  EXPECT_NE(hostCall(host, "hi").find("unit unavailable"), std::string::npos);
  EXPECT_NE(typedCall(host, "hi").find("unit unavailable"), std::string::npos);
  auto invoked = invoking.get();
  ASSERT_TRUE(invoked.ok()) << invoked.describe();
  EXPECT_EQ(invoked.payload().rfind("failed:unit unavailable: unit target: airlockd is stopping", 0),
            0u)
      << invoked.payload();
  EXPECT_EQ(broker_->waitForExit(), 0);

  auto calls = targetCalls();
  ASSERT_EQ(calls.size(), 3u);
  for (auto& call : calls) {
    SCOPED_TRACE(call[0]);
    EXPECT_EQ(call[1], "deny");
    EXPECT_EQ(call[2], "default-deny");
    EXPECT_EQ(call[3], "unit unavailable");
  }
}

}  // namespace
}  // namespace airlock::testing
