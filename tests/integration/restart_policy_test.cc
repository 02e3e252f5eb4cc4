// Restart policy through a real airlockd: `restart`, and `crash_loop_limit` parking a unit whose
// workers keep failing, until a reload unparks it. Real workers crash and exit; the answers, the
// audit records and `airlock status` must all say the same thing.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// The probe unit with `settings` added to its [unit] table.
std::string probePolicy(const std::string& settings, int instances = 1) {
  return "[unit]\nname = \"probe\"\nworker = \"test-probe_worker\"\ninstances = " +
         std::to_string(instances) + "\n" + settings +
         "\n[[rule]]\nid = \"tester-calls-probe\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"*\"]\n";
}

class RestartPolicyTest : public ::testing::Test {
 protected:
  void start(const std::string& settings, int instances = 1) {
    BrokerOptions options;
    options.clients = {TEST_CLIENT, "ops"};
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", probePolicy(settings, instances)},
                                           {"broker.toml", "[broker]\nadmins = [\"ops\"]\n"}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method) {
    return broker_->connect().unit("probe").call(method, "ping");
  }

  nlohmann::json probeStatus() { return broker_->unitStatus("ops", "probe"); }

  void expectLogVerifies() {
    ASSERT_EQ(broker_->stop(), 0) << broker_->log();
    auto verified = broker_->verifyAuditLog();
    EXPECT_EQ(verified.exitCode, 0) << verified.output;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(RestartPolicyTest, ACrashLoopParksTheUnitCallsFailFastAndAReloadUnparksIt) {
  start("crash_loop_limit = 3\ncrash_loop_window_ms = 600000");
  // Two crashes: below the limit, the worker is replaced each time.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(call("crash").errorKind(), CallErrorKind::UNIT_CRASHED);
    EXPECT_TRUE(call("echo").ok());
  }
  EXPECT_EQ(probeStatus()["state"], "running");
  EXPECT_EQ(call("crash").errorKind(), CallErrorKind::UNIT_CRASHED);

  // The third parks it: calls are refused at once, naming the key and since when.
  auto refused = call("echo");
  ASSERT_EQ(refused.errorKind(), CallErrorKind::UNIT_UNAVAILABLE) << refused.describe();
  EXPECT_NE(refused.message().find("is parked since "), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("3 worker failures within 600000 ms reached "
                                   "crash_loop_limit 3 (" + broker_->dir().path() +
                                   "/policies/probe.toml:5:"),
            std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("SIGSEGV"), std::string::npos) << refused.message();

  auto parked = broker_->auditRecords({{"event", "unit.parked"}});
  ASSERT_EQ(parked.size(), 1u) << "one record per parking";
  EXPECT_EQ(parked[0]["unit"], "probe");
  EXPECT_EQ(parked[0]["rule"], "unit.crash_loop_limit");
  EXPECT_EQ(parked[0]["args"]["crashes"], 3);
  EXPECT_NE(parked[0]["args"]["last_exit"].get<std::string>().find("SIGSEGV"),
            std::string::npos) << parked[0];
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back()["decision"], "deny");
  EXPECT_EQ(calls.back()["rule"], "unit.crash_loop_limit");
  EXPECT_EQ(calls.back()["result"], "unit unavailable");

  auto status = probeStatus();
  EXPECT_EQ(status["state"], "parked");
  EXPECT_EQ(status["parked_rule"], "unit.crash_loop_limit");
  EXPECT_EQ(status["pids"], nlohmann::json::array({0})) << "no worker runs while parked";
  EXPECT_EQ(status["restarts"], 2);
  // Parking started no replacement.
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 3u);

  // A reload (the cause fixed outside the policy, say) unparks it.
  ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
  auto unparked = broker_->waitForRecord({{"event", "unit.unparked"}});
  ASSERT_FALSE(unparked.is_null()) << broker_->log();
  EXPECT_EQ(unparked["args"]["parked_rule"], "unit.crash_loop_limit");
  EXPECT_TRUE(call("echo").ok());
  EXPECT_EQ(probeStatus()["state"], "running");
  // The count starts again: one crash does not park it.
  EXPECT_EQ(call("crash").errorKind(), CallErrorKind::UNIT_CRASHED);
  EXPECT_TRUE(call("echo").ok());
  EXPECT_EQ(broker_->auditRecords({{"event", "unit.parked"}}).size(), 1u);
  expectLogVerifies();
}

TEST_F(RestartPolicyTest, NeverReplacesNoWorkerAndParksWhenTheLastIsGone) {
  start("restart = \"never\"", 2);
  EXPECT_EQ(call("exit").errorKind(), CallErrorKind::UNIT_CRASHED);
  // One instance is left and serves.
  EXPECT_TRUE(call("echo").ok());
  EXPECT_TRUE(call("echo").ok());
  EXPECT_EQ(probeStatus()["state"], "running");
  EXPECT_EQ(call("exit").errorKind(), CallErrorKind::UNIT_CRASHED);

  auto refused = call("echo");
  ASSERT_EQ(refused.errorKind(), CallErrorKind::UNIT_UNAVAILABLE) << refused.describe();
  EXPECT_NE(refused.message().find("restart = \"never\""), std::string::npos) << refused.message();
  auto parked = broker_->auditRecords({{"event", "unit.parked"}});
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0]["rule"], "unit.restart");
  EXPECT_EQ(parked[0]["args"]["last_exit"], "exited with status 3");
  EXPECT_EQ(parked[0]["args"]["crashes"], 2) << "both exits were failures";
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 2u) << "none replaced";
  auto status = probeStatus();
  EXPECT_EQ(status["state"], "parked");
  EXPECT_EQ(status["restarts"], 0);
  expectLogVerifies();
}

TEST_F(RestartPolicyTest, OnFailureReplacesACrashButNotACleanExit) {
  start("restart = \"on-failure\"");
  EXPECT_EQ(call("crash").errorKind(), CallErrorKind::UNIT_CRASHED);
  EXPECT_TRUE(call("echo").ok()) << "a crash is replaced";
  EXPECT_EQ(call("exit-clean").errorKind(), CallErrorKind::UNIT_CRASHED);
  auto refused = call("echo");
  ASSERT_EQ(refused.errorKind(), CallErrorKind::UNIT_UNAVAILABLE) << refused.describe();
  EXPECT_NE(refused.message().find("exited cleanly"), std::string::npos) << refused.message();
  auto parked = broker_->auditRecords({{"event", "unit.parked"}});
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0]["rule"], "unit.restart");
  EXPECT_EQ(parked[0]["args"]["last_exit"], "exited with status 0");
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 2u);
  expectLogVerifies();
}

}  // namespace
}  // namespace airlock::testing
