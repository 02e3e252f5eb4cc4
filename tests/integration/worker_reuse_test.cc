// [unit] worker_reuse through a real airlockd and real sandboxed workers: what one call leaves in
// a worker's memory (the probe worker's `remember`) reaches a later call only as the key allows.
// Host-side evidence: the marker each call gets back, and the worker pid its call record names.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

constexpr char OTHER_CLIENT[] = "other";

// The probe unit, callable by TEST_CLIENT and OTHER_CLIENT; `reuse` empty: the key is absent.
std::string reusePolicy(const std::string& reuse, int instances) {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"
call_timeout_ms = 20000
instances = )" + std::to_string(instances) + "\n" +
         (reuse.empty() ? "" : "worker_reuse = \"" + reuse + "\"\n") + R"(
[[rule]]
id = "clients-call-probe"
allow = "call"
caller = ["tester", "other"]
method = ["remember"]
)";
}

class WorkerReuseTest : public ::testing::Test {
 protected:
  void start(const std::string& reuse, int instances) {
    BrokerOptions options;
    options.clients = {TEST_CLIENT, OTHER_CLIENT};
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", reusePolicy(reuse, instances)}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  // `client` leaves `marker` in the worker that serves it; answers what that worker held before.
  std::string remember(const std::string& client, const std::string& marker) {
    auto outcome = broker_->connect(client).unit("probe").call("remember", marker);
    EXPECT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
    return outcome.payload();
  }

  // The worker pid of each call record, in order.
  std::vector<pid_t> callWorkers() {
    std::vector<pid_t> pids;
    for (auto& record : broker_->auditRecords({{"event", "call"}})) {
      pids.push_back(record["worker_pid"].get<pid_t>());
    }
    return pids;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(WorkerReuseTest, PerCallerWorkerNeverReportsOneCallersMarkerToAnother) {
  start("per-caller", 2);
  EXPECT_EQ(remember(TEST_CLIENT, "tester-secret-1"), "nothing");
  // The other client's call is served by a worker the first one never reached.
  EXPECT_EQ(remember(OTHER_CLIENT, "other-secret-1"), "nothing");
  // Each caller keeps its own worker: its own marker comes back, never the other's.
  EXPECT_EQ(remember(TEST_CLIENT, "tester-secret-2"), "tester-secret-1");
  EXPECT_EQ(remember(OTHER_CLIENT, "other-secret-2"), "other-secret-1");
  auto pids = callWorkers();
  ASSERT_EQ(pids.size(), 4u);
  EXPECT_EQ(pids[0], pids[2]);
  EXPECT_EQ(pids[1], pids[3]);
  EXPECT_NE(pids[0], pids[1]);
}

TEST_F(WorkerReuseTest, PerCallerReplacesAWorkerBoundToAnotherCallerAndRecordsWhy) {
  start("per-caller", 1);  // one instance: the second caller cannot have a worker of its own
  EXPECT_EQ(remember(TEST_CLIENT, "tester-secret"), "nothing");
  EXPECT_EQ(remember(OTHER_CLIENT, "other-secret"), "nothing");
  EXPECT_EQ(remember(TEST_CLIENT, "tester-again"), "nothing");
  auto pids = callWorkers();
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_NE(pids[0], pids[1]);
  EXPECT_NE(pids[1], pids[2]);
  // The first worker's exit names the caller it was bound to and why it went.
  auto exit = broker_->waitForRecord({{"event", "worker.exit"}, {"worker_pid", pids[0]}});
  ASSERT_FALSE(exit.is_null()) << broker_->log();
  EXPECT_EQ(exit["args"]["bound_to"], "client:tester,uid:" + std::to_string(getuid()));
  EXPECT_NE(exit["reason"].get<std::string>().find("worker_reuse = \"per-caller\""),
            std::string::npos) << exit.dump();
  EXPECT_NE(exit["reason"].get<std::string>().find("for client:other"), std::string::npos)
      << exit.dump();
  // Replacing a worker on purpose is no failure: the unit is not parked, nothing counts.
  EXPECT_TRUE(broker_->auditRecords({{"event", "unit.parked"}}).empty());
}

TEST_F(WorkerReuseTest, NeverServesEachCallByAFreshWorkerAndRecordsWhyEachWent) {
  start("never", 1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(remember(TEST_CLIENT, "marker-" + std::to_string(i)), "nothing") << "call " << i;
  }
  auto pids = callWorkers();
  ASSERT_EQ(pids.size(), 4u);
  EXPECT_EQ(std::set<pid_t>(pids.begin(), pids.end()).size(), 4u) << "a worker served twice";
  for (pid_t pid : pids) {
    auto exit = broker_->waitForRecord({{"event", "worker.exit"}, {"worker_pid", pid}});
    ASSERT_FALSE(exit.is_null()) << "worker " << pid << " still runs\n" << broker_->log();
    EXPECT_EQ(exit["reason"],
              "retired by airlockd: served its one call (worker_reuse = \"never\")");
  }
}

// Today's behaviour, and the default: the marker survives from one caller to the next. This is
// what the two tests above would see if worker_reuse did nothing.
TEST_F(WorkerReuseTest, AnyLetsAMarkerSurviveFromOneCallerToAnother) {
  start("", 1);
  EXPECT_EQ(remember(TEST_CLIENT, "tester-secret"), "nothing");
  EXPECT_EQ(remember(OTHER_CLIENT, "other-secret"), "tester-secret");
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}}).empty());
}

// The key as the review tools show it: explain says which worker serves an allowed call, and the
// lint warns of a "per-caller" unit with one instance.
TEST(WorkerReuseReviewTest, ExplainSaysWhichWorkerServesACallAndCheckWarnsOfOneInstance) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.file("policies").c_str(), 0755), 0);
  dir.write("policies/probe.toml", reusePolicy("per-caller", 1));
  std::string policies = dir.file("policies");
  std::string uid = std::to_string(getuid());
  auto explainCall = [&]() {
    return runProgram({binDir() + "/airlock", "policy", "explain", "--policies", policies,
                       "--unit", "probe", "--op", "call", "--arg", "caller=tester", "--arg",
                       "uid=" + uid, "--arg", "method=remember"});
  };
  RunResult explained = explainCall();
  EXPECT_EQ(explained.exitCode, 0) << explained.output;
  EXPECT_NE(explained.output.find("  worker: worker_reuse = \"per-caller\" " + policies +
                                  "/probe.toml:7:16: served by a worker that serves only client "
                                  "tester (uid " + uid + ") for its whole life\n"),
            std::string::npos)
      << explained.output;
  RunResult checked = runProgram({binDir() + "/airlock", "policy", "check", policies});
  EXPECT_NE(checked.output.find("worker_reuse = \"per-caller\" with instances = 1"),
            std::string::npos)
      << checked.output;

  dir.write("policies/probe.toml", reusePolicy("", 1));
  RunResult plain = explainCall();
  EXPECT_EQ(plain.output.find("worker:"), std::string::npos) << plain.output;
}

}  // namespace
}  // namespace airlock::testing
