// Per-unit flow limits through a real airlockd: several host connections flood one unit while
// its calls are held in flight; every call beyond max_calls_in_flight (or beyond the rate) is
// answered at once with `busy`, every call gets exactly one answer and one audit record, the log
// verifies, and a quiet unit's calls all succeed meanwhile. And the other direction: a unit whose
// worker floods the broker with requests is made to wait at max_requests_per_second.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <airlock/tests/typed_probe.capnp.h>
#include <kj/common.h>
#include <kj/debug.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string unitPolicy(const std::string& name, const std::string& settings) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"test-probe_worker\"\n" + settings +
         "\n[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"*\"]\n";
}

// The typed probe (programs/typed_worker.cc) as unit "typed", callable by the tester, with a
// fs.stat rule so its calls carry a fs capability.
std::string typedUnitPolicy(const std::string& settings) {
  return std::string("[unit]\nname = \"typed\"\nworker = \"test-typed_worker\"\n") + settings +
         "interface = \"" + AIRLOCK_SOURCE_DIR +
         "/tests/integration/support/typed_probe.capnp:TypedProbe\"\n"
         "[[rule]]\nid = \"tester-floods\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"statFlood\", \"hold\"]\n"
         "[[rule]]\nid = \"stats-nothing-much\"\nallow = \"fs.stat\"\npath = \"${tmp}/files/**\"\n";
}

std::string kindOf(const CallOutcome& outcome) {
  return outcome.ok() ? "ok" : callErrorKindName(outcome.errorKind());
}

class FlowLimitsTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies) {
    broker_ = startWithAdmin(policies);
  }

  nlohmann::json unitStatus(const std::string& name) { return broker_->unitStatus("ops", name); }

  // The `call` records by unit and kind ("ok", "busy", ...), as the callers count answers.
  std::map<std::pair<std::string, std::string>, int> recordedKinds() {
    std::map<std::pair<std::string, std::string>, int> out;
    for (auto& record : broker_->auditRecords({{"event", "call"}})) {
      std::string result = record["result"].get<std::string>();
      ++out[{record["unit"].get<std::string>(), result.substr(0, result.find(':'))}];
    }
    return out;
  }

  void expectLogVerifies() {
    ASSERT_EQ(broker_->stop(), 0) << broker_->log();
    auto verified = broker_->verifyAuditLog();
    EXPECT_EQ(verified.exitCode, 0) << verified.output;
  }

  // One handshake at a time: airlockd lets a uid have only 4 in flight (auth_backoff.h).
  Client connect() {
    std::lock_guard<std::mutex> guard(connectLock_);
    return broker_->connect();
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::mutex connectLock_;
};

TEST_F(FlowLimitsTest, AFloodBeyondMaxCallsInFlightIsAnsweredBusyWhileAQuietUnitServes) {
  start({{"flooded.toml",
           unitPolicy("flooded", "max_calls_in_flight = 2\ncall_timeout_ms = 600000")},
         {"quiet.toml", unitPolicy("quiet", "instances = 2")}});
  std::mutex lock;
  std::map<std::pair<std::string, std::string>, int> answered;
  auto count = [&](const std::string& unit, const CallOutcome& outcome) {
    std::lock_guard<std::mutex> guard(lock);
    ++answered[{unit, kindOf(outcome)}];
  };

  // Two calls held in flight (one running, one queued behind it: one instance) until the worker
  // is killed below; the hold is a sleep far longer than the test.
  std::vector<std::thread> holders;
  // If the test stops early, stopping airlockd answers the held calls, so they can be joined.
  KJ_DEFER({
    if (!holders.empty() && holders[0].joinable()) broker_->killHard();
    for (auto& t : holders) {
      if (t.joinable()) t.join();
    }
  });
  for (int i = 0; i < 2; ++i) {
    holders.emplace_back([&]() {
      auto client = connect();
      count("flooded", client.unit("flooded").call("sleep", "600000"));
    });
  }
  nlohmann::json status;
  for (int i = 0; i < 1000; ++i) {
    status = unitStatus("flooded");
    if (status["calls_in_flight"] == 2) break;
    usleep(20 * 1000);
  }
  ASSERT_EQ(status["calls_in_flight"], 2) << status;

  // The flood: several connections, each call refused at once; the quiet unit meanwhile.
  constexpr int CONNECTIONS = 4, CALLS_EACH = 25;
  std::vector<std::thread> flood;
  for (int c = 0; c < CONNECTIONS; ++c) {
    flood.emplace_back([&]() {
      auto client = connect();
      for (int i = 0; i < CALLS_EACH; ++i) {
        auto outcome = client.unit("flooded").call("echo", "x");
        count("flooded", outcome);
        if (outcome.errorKind() == CallErrorKind::BUSY) {
          EXPECT_EQ(outcome.ruleId(), "unit.max_calls_in_flight");
        }
      }
    });
  }
  std::thread quiet([&]() {
    auto client = connect();
    for (int i = 0; i < CALLS_EACH; ++i) {
      auto outcome = client.unit("quiet").call("echo", "q" + std::to_string(i));
      count("quiet", outcome);
      EXPECT_TRUE(outcome.ok()) << outcome.describe();
    }
  });
  for (auto& t : flood) t.join();
  quiet.join();
  {
    std::lock_guard<std::mutex> guard(lock);
    EXPECT_EQ((answered[{"flooded", "busy"}]), CONNECTIONS * CALLS_EACH)
        << "every call beyond the two held is refused";
    EXPECT_EQ((answered[{"quiet", "ok"}]), CALLS_EACH);
  }

  // Release the holds: the worker dies, both held calls are answered (unit crashed).
  auto spawned = broker_->auditRecords({{"event", "worker.spawn"}, {"unit", "flooded"}});
  ASSERT_EQ(spawned.size(), 1u);
  ASSERT_EQ(kill(spawned[0]["worker_pid"].get<pid_t>(), SIGKILL), 0);
  for (auto& t : holders) t.join();
  // Room again: a call is served.
  auto after = broker_->connect().unit("flooded").call("echo", "after");
  EXPECT_TRUE(after.ok()) << after.describe();
  count("flooded", after);

  // Exactly one record per answer, of the same kind; each busy one names the key and its place.
  EXPECT_EQ(recordedKinds(), answered);
  std::string where = broker_->dir().path() + "/policies/flooded.toml:4:";
  for (auto& record : broker_->auditRecords({{"event", "call"}, {"unit", "flooded"}})) {
    if (record["result"] != "busy") continue;
    EXPECT_EQ(record["decision"], "deny");
    EXPECT_EQ(record["rule"], "unit.max_calls_in_flight");
    EXPECT_NE(record["reason"].get<std::string>().find(where), std::string::npos) << record;
  }
  expectLogVerifies();
}

TEST_F(FlowLimitsTest, CallsOverTheRateAreAnsweredBusyAndNoMoreThanTheBucketIsAdmitted) {
  constexpr int RATE = 1, BURST = 2, CALLS = 12;
  start({{"rated.toml", unitPolicy("rated", "max_calls_per_second = 1\ncalls_burst = 2")}});
  auto started = std::chrono::steady_clock::now();
  std::map<std::string, int> kinds;
  auto client = broker_->connect();
  for (int i = 0; i < CALLS; ++i) {
    auto outcome = client.unit("rated").call("echo", "r");
    ++kinds[kindOf(outcome)];
    if (!outcome.ok()) {
      EXPECT_EQ(outcome.errorKind(), CallErrorKind::BUSY) << outcome.describe();
      EXPECT_EQ(outcome.ruleId(), "unit.max_calls_per_second");
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                       .count();
  EXPECT_EQ(kinds["ok"] + kinds["busy"], CALLS);
  // What a token bucket admits in `elapsed` seconds, whatever the machine's speed.
  EXPECT_LE(kinds["ok"], BURST + RATE * (static_cast<int>(elapsed) + 1));
  if (elapsed < CALLS - BURST - 1) {
    EXPECT_GT(kinds["busy"], 0) << "the bucket cannot have refilled for every call";
  }
  auto recorded = recordedKinds();
  EXPECT_EQ((recorded[{"rated", "ok"}]), kinds["ok"]);
  EXPECT_EQ((recorded[{"rated", "busy"}]), kinds["busy"]);
  for (auto& record : broker_->auditRecords({{"event", "call"}, {"result", "busy"}})) {
    EXPECT_EQ(record["rule"], "unit.max_calls_per_second");
    EXPECT_NE(record["reason"].get<std::string>().find("rated.toml:4:"), std::string::npos)
        << record;
  }
  expectLogVerifies();
}

// A connection told `busy` is not read for BUSY_READ_PAUSE (give or take half), so a client that
// retries at once gets at most one answer per half-pause: a lower bound only, which no machine's
// slowness can break. Every retry is still answered and recorded.
TEST_F(FlowLimitsTest, AConnectionToldBusyIsReadAgainOnlyAfterAPause) {
  constexpr int RETRIES = 20;
  start({{"rated.toml", unitPolicy("rated", "max_calls_per_second = 1\ncalls_burst = 1")}});
  auto client = broker_->connect();
  auto unit = client.unit("rated");
  ASSERT_TRUE(unit.call("echo", "first").ok());
  auto started = std::chrono::steady_clock::now();
  int busy = 0;
  for (int i = 0; i < RETRIES; ++i) {
    if (unit.call("echo", "again").errorKind() == CallErrorKind::BUSY) ++busy;
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_GE(busy, RETRIES - 2) << "the bucket refills once a second";
  EXPECT_GE(elapsed, (busy - 1) * std::chrono::milliseconds(5))
      << "each retry after a busy answer waited out the connection's pause";
  EXPECT_EQ((recordedKinds()[{"rated", "busy"}]), busy);
}

// The pace is a lower bound on when each request may run, so this holds on any machine: at one
// request a second with no burst beyond the first, a call making three requests needs two
// seconds, and its 1.5 s deadline ends it first. Unpaced, the same call takes milliseconds.
TEST_F(FlowLimitsTest, AWorkerOverMaxRequestsPerSecondWaitsItsTurnAndACallEndingStopsTheRest) {
  start({{"paced.toml", unitPolicy("paced", "max_requests_per_second = 1\nrequests_burst = 1\n"
                                            "call_timeout_ms = 1500")},
         {"quiet.toml", unitPolicy("quiet", "")}});
  std::thread flooding([&]() {
    auto outcome = connect().unit("paced").call("log-flood", "3");
    EXPECT_EQ(outcome.errorKind(), CallErrorKind::TIMED_OUT) << outcome.describe();
  });
  // Meanwhile the quiet unit answers at once: the waiting requests hold nothing of the broker.
  nlohmann::json status;
  for (int i = 0; i < 500; ++i) {
    status = unitStatus("paced");
    if (status["requests_delayed"].get<uint64_t>() > 0) break;
    usleep(10 * 1000);
  }
  EXPECT_GE(status["requests_delayed"].get<uint64_t>(), 1u) << status;
  EXPECT_EQ(status["max_requests_per_second"], 1);
  EXPECT_EQ(status["requests_burst"], 1);
  auto quiet = connect().unit("quiet").call("echo", "still here");
  EXPECT_TRUE(quiet.ok()) << quiet.describe();
  flooding.join();

  // The third line's turn came after the deadline: the worker was killed first, so it was never
  // logged; the first was logged at once.
  std::string log = broker_->log();
  EXPECT_NE(log.find("] flood line 0"), std::string::npos) << log;
  EXPECT_EQ(log.find("] flood line 2"), std::string::npos) << log;
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "paced"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["result"].get<std::string>().rfind("timed out", 0), 0u) << calls[0];
  expectLogVerifies();
}

// A worker that sends hundreds of brokered requests at once while its unit is paced to one a
// second: the broker reads requests from that worker's channel only until 64 KiB of them wait
// unanswered (the channel's Cap'n Proto flow limit), so the rest stay in the worker, not in the
// broker. Each request is ~1.1 KiB; without the limit all 400 would be read and made to wait.
TEST_F(FlowLimitsTest, AWorkerPipeliningPastItsChannelsFlowLimitIsNoLongerRead) {
  start({{"typed.toml", typedUnitPolicy("max_requests_per_second = 1\nrequests_burst = 1\n"
                                         "call_timeout_ms = 2000\n")}});
  constexpr uint32_t REQUESTS = 400, PATH_BYTES = 1000;
  {
    auto client = connect();
    auto request = client.unit("typed").typed<rpc::TypedProbe>().statFloodRequest();
    request.setCount(REQUESTS);
    request.setPathBytes(PATH_BYTES);
    std::string failure;
    KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
                  request.send().wait(client.waitScope());
                })) {
      failure = exception->getDescription().cStr();
    }
    EXPECT_NE(failure.find("timed out"), std::string::npos) << failure;
  }
  // The limit in requests: 64 KiB over the size of one, plus the one that crossed it.
  uint64_t delayed = unitStatus("typed")["requests_delayed"].get<uint64_t>();
  std::cerr << "requests read and made to wait: " << delayed << " of " << REQUESTS << "\n";
  EXPECT_GT(delayed, 10u) << "the requests did not reach the pacer at all";
  EXPECT_LE(delayed, (64u << 10) / PATH_BYTES + 1) << "read past the flow limit";
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "typed"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["result"].get<std::string>().rfind("timed out", 0), 0u) << calls[0];
  expectLogVerifies();
}

// A host that pipelines calls faster than they are answered: airlockd reads a host connection
// only until 16 MiB of its calls are unanswered (the connection's Cap'n Proto flow limit), so the
// rest wait in the host. Each call carries 64 KiB and the worker holds it until its deadline;
// without the limit all 600 would be read (and held) at once. Every call still gets one answer
// and one record once the held ones time out and reading resumes.
TEST_F(FlowLimitsTest, AHostPipeliningPastItsConnectionsFlowLimitIsNoLongerRead) {
  start({{"typed.toml", typedUnitPolicy("call_timeout_ms = 2000\n")}});
  constexpr int CALLS = 600;
  constexpr size_t PAYLOAD_BYTES = 64 << 10;
  auto client = connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  int answered = 0;  // each held call ends timed out (or with its worker killed by a timeout)
  auto calls = kj::heapArrayBuilder<kj::Promise<void>>(CALLS);
  for (int i = 0; i < CALLS; ++i) {
    auto request = probe.holdRequest();
    request.initPayload(PAYLOAD_BYTES);
    calls.add(request.send().then([&answered](auto&&) { ++answered; },
                                  [&answered](kj::Exception&&) { ++answered; }));
  }
  // Turn the client's loop so that its writes go out as fast as airlockd reads them, for less
  // than the calls' deadline, noting the most calls airlockd held at once.
  uint64_t peak = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 20; ++i) {
      client.waitScope().poll();
      usleep(1000);
    }
    peak = std::max(peak, unitStatus("typed")["calls_in_flight"].get<uint64_t>());
  }
  std::cerr << "calls read and held at once: " << peak << " of " << CALLS << "\n";
  EXPECT_GT(peak, 10u) << "the calls did not reach the unit at all";
  EXPECT_LE(peak, (16u << 20) / PAYLOAD_BYTES + 1) << "read past the flow limit";

  kj::joinPromises(calls.finish()).wait(client.waitScope());
  EXPECT_EQ(answered, CALLS);
  EXPECT_EQ(broker_->auditRecords({{"event", "call"}, {"unit", "typed"}}).size(),
            static_cast<size_t>(CALLS));
  expectLogVerifies();
}

}  // namespace
}  // namespace airlock::testing
