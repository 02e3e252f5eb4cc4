// Workers that never finish starting, and calls still waiting when airlockd stops: every call
// gets an answer and a record, and a stop leaves a log the verifier accepts, whatever the worker
// does.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string unitPolicy(const std::string& name, const std::string& worker, int timeoutMs) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"" + worker + "\"\ncall_timeout_ms = " +
         std::to_string(timeoutMs) +
         "\n\n[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"*\"]\n";
}

class StuckWorkerTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies) {
    broker_ = startWithAdmin(policies);
  }

  // A call on its own connection, answered on another thread.
  std::future<CallOutcome> callLater(const std::string& unit, const std::string& method,
                                     const std::string& payload) {
    return std::async(std::launch::async, [this, unit, method, payload]() {
      return broker_->connect().unit(unit).call(method, payload);
    });
  }

  // The outcome, or a failure (and airlockd killed, so the call returns) if none came within
  // 60 s: a guard against hanging the suite, not a timing assertion.
  CallOutcome answerOf(std::future<CallOutcome>& call) {
    if (call.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "the call was never answered\n" << broker_->log();
      broker_->killHard();
    }
    return call.get();
  }

  // Everything after the last call record up to the end: broker.stop is recorded after every
  // call, and the log verifies (nothing after its closing checkpoint, chain intact).
  void expectCleanStopAfterEveryCall() {
    auto records = broker_->auditRecords();
    int lastCall = -1, stop = -1;
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i]["event"] == "call") lastCall = static_cast<int>(i);
      if (records[i]["event"] == "broker.stop") stop = static_cast<int>(i);
    }
    ASSERT_GE(stop, 0) << "broker.stop recorded\n" << broker_->log();
    EXPECT_LT(lastCall, stop) << "every call recorded before broker.stop";
    auto verified = broker_->verifyAuditLog();
    EXPECT_EQ(verified.exitCode, 0) << verified.output;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(StuckWorkerTest, ACallToAWorkerThatNeverAnswersHelloTimesOutAndTheWorkerIsReplaced) {
  start({{"silent.toml", unitPolicy("silent", "test-silent_worker", 400)}});
  auto call = callLater("silent", "anything", "");
  CallOutcome outcome = answerOf(call);
  // Whichever of the two deadlines (the call's, the worker's hello) is seen first, the caller is
  // told the call did not run, and why.
  EXPECT_TRUE(outcome.errorKind() == CallErrorKind::TIMED_OUT ||
              outcome.errorKind() == CallErrorKind::UNIT_UNAVAILABLE)
      << outcome.describe();
  bool named = outcome.message().find("no worker of unit silent became ready") !=
                   std::string::npos ||
               outcome.message().find("did not answer hello") != std::string::npos;
  EXPECT_TRUE(named) << outcome.describe();
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "silent"}});
  ASSERT_EQ(calls.size(), 1u) << "one record for the call";
  EXPECT_NE(calls[0]["result"].get<std::string>().find(outcome.message()), std::string::npos)
      << calls[0].dump();

  // The worker that never became ready is killed, its exit recorded with why, and replaced.
  auto killed = broker_->waitForRecord({{"event", "worker.exit"}, {"unit", "silent"}});
  ASSERT_FALSE(killed.is_null()) << broker_->log();
  EXPECT_EQ(killed["reason"], "killed by airlockd: did not answer hello within call_timeout_ms 400")
      << killed.dump();
  for (int i = 0; i < 2000 && broker_->auditRecords({{"event", "worker.spawn"}}).size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 2u) << "replaced";
}

TEST_F(StuckWorkerTest, SigtermWhileACallWaitsOnAWorkerThatNeverStartsStopsCleanly) {
  start({{"silent.toml", unitPolicy("silent", "test-silent_worker", 3000)}});
  auto call = callLater("silent", "anything", "");
  ASSERT_TRUE(broker_->waitForCallsInFlight("ops", 1)) << broker_->log();
  ASSERT_EQ(kill(broker_->pid(), SIGTERM), 0);
  CallOutcome outcome = answerOf(call);
  EXPECT_FALSE(outcome.ok());
  EXPECT_NE(outcome.errorKind(), CallErrorKind::DISCONNECTED)
      << "the call is answered, not dropped: " << outcome.describe();
  EXPECT_EQ(broker_->waitForExit(), 0) << broker_->log();
  EXPECT_EQ(broker_->auditRecords({{"event", "call"}, {"unit", "silent"}}).size(), 1u);
  expectCleanStopAfterEveryCall();
}

TEST_F(StuckWorkerTest, PastTheDrainDeadlineACallInFlightIsAnsweredAndRecordedBeforeTheStop) {
  // The call starts under a 60 s timeout; a reload then shortens it to 100 ms, so the drain
  // deadline (the longest timeout in force plus 1 s) passes long before the call's own.
  start({{"probe.toml", unitPolicy("probe", "test-probe_worker", 60000)}});
  auto call = callLater("probe", "hang", "");
  ASSERT_TRUE(broker_->waitForCallsInFlight("ops", 1)) << broker_->log();
  broker_->dir().write("policies/probe.toml", unitPolicy("probe", "test-probe_worker", 100));
  ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
  ASSERT_FALSE(broker_->waitForRecord({{"event", "policy.reload"}, {"decision", "allow"}})
                   .is_null())
      << broker_->log();
  ASSERT_EQ(kill(broker_->pid(), SIGTERM), 0);
  CallOutcome outcome = answerOf(call);
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::UNIT_UNAVAILABLE) << outcome.describe();
  EXPECT_NE(outcome.message().find("airlockd is stopping"), std::string::npos)
      << outcome.describe();
  EXPECT_EQ(broker_->waitForExit(), 0) << broker_->log();
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "probe"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_NE(calls[0]["result"].get<std::string>().find("airlockd is stopping"), std::string::npos)
      << calls[0].dump();
  expectCleanStopAfterEveryCall();
}

}  // namespace
}  // namespace airlock::testing
