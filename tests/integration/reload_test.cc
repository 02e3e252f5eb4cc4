// Policy reload through a real airlockd: SIGHUP swaps in a new policy set between calls, refuses
// a broken one whole, restarts only the units whose workers changed, drops no call under load,
// and audits each reload with who asked and the old and new revisions.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include <kj/common.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// The probe unit: `methods` is the TOML list of methods the test client may call; `extra` is
// appended (more rules, or other settings).
std::string probePolicy(const std::string& methods, int instances = 1,
                        const std::string& extra = "") {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"
instances = )" + std::to_string(instances) + R"(

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = )" + methods + "\n" + extra;
}

class ReloadTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies) {
    broker_ = std::make_unique<BrokerProcess>(policies);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  void writePolicy(const std::string& file, const std::string& text) {
    broker_->dir().write("policies/" + file, text);
  }

  // Sends SIGHUP and waits for the reload's audit record (the `count`-th one).
  nlohmann::json reload(size_t count = 1) {
    EXPECT_EQ(kill(broker_->pid(), SIGHUP), 0);
    for (int i = 0; i < 400; ++i) {
      auto reloads = broker_->auditRecords({{"event", "policy.reload"}});
      if (reloads.size() >= count) return reloads[count - 1];
      usleep(50 * 1000);
    }
    ADD_FAILURE() << "no policy.reload record\n" << broker_->log();
    return nullptr;
  }

  CallOutcome call(const std::string& unit, const std::string& method) {
    return broker_->connect().unit(unit).call(method, "ping");
  }

  std::string revisionOfLastCall() {
    auto calls = broker_->auditRecords({{"event", "call"}});
    return calls.empty() ? "" : calls.back()["policy_rev"].get<std::string>();
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(ReloadTest, SighupSwapsInNewRulesKeepsTheWorkersAndAuditsOldAndNewRevision) {
  start({{"probe.toml", probePolicy(R"(["echo"])")}});
  EXPECT_TRUE(call("probe", "echo").ok());
  auto refused = call("probe", "exit");
  ASSERT_EQ(refused.errorKind(), CallErrorKind::DENIED) << refused.describe();
  std::string before = revisionOfLastCall();

  writePolicy("probe.toml", probePolicy(R"(["echo", "sleep"])"));
  auto record = reload();
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["decision"], "allow") << record.dump();
  EXPECT_EQ(record["result"], "applied");
  EXPECT_EQ(record["caller"], "signal:SIGHUP,pid:" + std::to_string(getpid()));
  EXPECT_EQ(record["args"]["from"], before);
  std::string after = record["args"]["to"];
  EXPECT_NE(after, before);
  EXPECT_EQ(record["policy_rev"], after);
  EXPECT_EQ(record["args"]["units_changed"], nlohmann::json::array({"probe"}));
  EXPECT_TRUE(record["args"]["units_restarted"].empty());

  auto outcome = broker_->connect().unit("probe").call("sleep", "1");
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(revisionOfLastCall(), after);
  // Only the rules changed: the worker started at start-up is still the one serving.
  auto spawned = broker_->auditRecords({{"event", "worker.spawn"}});
  ASSERT_EQ(spawned.size(), 1u);
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}}).empty());
  // The sandbox it got is on record.
  EXPECT_EQ(spawned[0]["args"]["landlock"], "required");
  EXPECT_GE(spawned[0]["args"]["landlock_abi"].get<int>(), 1) << spawned[0].dump();
}

TEST_F(ReloadTest, ABrokenPolicySetIsRefusedWholeAndTheOneInForceStays) {
  start({{"probe.toml", probePolicy(R"(["echo"])")},
         {"second.toml", R"(
[unit]
name = "second"
worker = "test-probe_worker"
)"}});
  std::string before;
  ASSERT_TRUE(call("probe", "echo").ok());
  before = revisionOfLastCall();

  // One good file (which would allow more) and one broken one: neither takes effect.
  writePolicy("probe.toml", probePolicy(R"(["echo", "sleep"])"));
  writePolicy("second.toml", "[unit]\nname = \"second\"\nworker = 7\n");
  auto record = reload();
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(record["rule"], "policy.check");
  EXPECT_EQ(record["policy_rev"], before);
  ASSERT_FALSE(record["args"]["errors"].empty());
  std::string error = record["args"]["errors"][0];
  EXPECT_NE(error.find("second.toml:3:"), std::string::npos) << error;
  EXPECT_NE(broker_->log().find("second.toml:3:"), std::string::npos) << broker_->log();

  auto refused = call("probe", "sleep");
  EXPECT_EQ(refused.errorKind(), CallErrorKind::DENIED) << refused.describe();
  EXPECT_EQ(revisionOfLastCall(), before);
  EXPECT_TRUE(call("probe", "echo").ok());
}

TEST_F(ReloadTest, UnitsComeAndGoAndChangedWorkerSettingsRestartOnlyThatUnit) {
  start({{"probe.toml", probePolicy(R"(["*"])")}});
  ASSERT_TRUE(call("probe", "echo").ok());
  EXPECT_EQ(call("other", "echo").errorKind(), CallErrorKind::NO_SUCH_UNIT);

  writePolicy("other.toml", R"(
[unit]
name = "other"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-other"
allow = "call"
caller = ["tester"]
method = ["echo"]
)");
  auto added = reload(1);
  EXPECT_EQ(added["args"]["units_added"], nlohmann::json::array({"other"})) << added.dump();
  auto outcome = call("other", "echo");
  EXPECT_TRUE(outcome.ok()) << outcome.describe() << broker_->log();

  // Two instances instead of one: probe's workers are replaced, other's are not touched.
  writePolicy("probe.toml", probePolicy(R"(["*"])", 2));
  auto restarted = reload(2);
  EXPECT_EQ(restarted["args"]["units_restarted"], nlohmann::json::array({"probe"}))
      << restarted.dump();
  EXPECT_TRUE(call("probe", "echo").ok());
  EXPECT_NE(broker_->waitForRecord({{"event", "worker.exit"}, {"unit", "probe"}}), nullptr);
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}, {"unit", "other"}}).empty());
  // A start is recorded once its sandbox is set up, while airlockd goes on serving: the call
  // above needed only one of the two new workers. Wait for the other's record (20 s at most).
  nlohmann::json probeSpawns = {{"event", "worker.spawn"}, {"unit", "probe"}};
  for (int i = 0; i < 2000 && broker_->auditRecords(probeSpawns).size() < 3; ++i) usleep(10000);
  EXPECT_EQ(broker_->auditRecords(probeSpawns).size(), 3u);

  ASSERT_EQ(unlink(broker_->dir().file("policies/other.toml").c_str()), 0);
  auto removed = reload(3);
  EXPECT_EQ(removed["args"]["units_removed"], nlohmann::json::array({"other"}));
  EXPECT_EQ(call("other", "echo").errorKind(), CallErrorKind::NO_SUCH_UNIT);
  EXPECT_NE(broker_->waitForRecord({{"event", "worker.exit"}, {"unit", "other"}}), nullptr);
  EXPECT_TRUE(call("probe", "echo").ok());
}

// A new build installed over the same worker file (a new file renamed into place, as package
// managers do) restarts the unit on reload though its policy reads the same, so the running
// workers do not go on serving the old code.
TEST_F(ReloadTest, ANewBuildInstalledOverTheSameWorkerFileRestartsTheUnit) {
  TempDir builds;
  std::string worker = builds.file("probe-worker");
  auto install = [&]() {
    ASSERT_EQ(system(("cp " + binDir() + "/test-probe_worker " + worker + ".new && mv " +
                      worker + ".new " + worker).c_str()),
              0);
  };
  install();
  std::string policy = probePolicy(R"(["*"])");
  policy.replace(policy.find("\"test-probe_worker\""), 19, "\"" + worker + "\"");
  start({{"probe.toml", policy}});
  ASSERT_TRUE(call("probe", "echo").ok()) << broker_->log();
  auto before = broker_->auditRecords({{"event", "call"}}).back()["worker_pid"];
  auto unchanged = reload(1);
  EXPECT_EQ(unchanged["args"]["units_restarted"], nlohmann::json::array()) << unchanged.dump();
  install();
  auto restarted = reload(2);
  EXPECT_EQ(restarted["args"]["units_restarted"], nlohmann::json::array({"probe"}))
      << restarted.dump();
  ASSERT_TRUE(call("probe", "echo").ok()) << broker_->log();
  EXPECT_NE(broker_->auditRecords({{"event", "call"}}).back()["worker_pid"], before);
}

TEST_F(ReloadTest, ReloadsUnderLoadDropNoCallAndEveryRecordNamesTheRevisionThatDecidedIt) {
  // Two policy sets that both allow echo and differ in a rule id: flipping between them changes
  // the revision and nothing a caller can see.
  std::string setA = probePolicy(R"(["echo"])", 2);
  std::string setB = probePolicy(R"(["echo"])", 2,
                                 "\n[[rule]]\nid = \"unused-deny\"\ndeny = \"call\"\n"
                                 "caller = [\"tester\"]\nmethod = [\"exit\"]\n");
  start({{"probe.toml", setA}});

  constexpr int CALLERS = 2;
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::string> failures[CALLERS];
  std::vector<std::thread> callers;
  // However the test ends (an ASSERT returns early), the callers stop and are joined first.
  auto joinCallers = kj::defer([&]() {
    stop = true;
    for (auto& t : callers) {
      if (t.joinable()) t.join();
    }
  });
  for (int c = 0; c < CALLERS; ++c) {
    callers.emplace_back([&, c]() {
      auto client = broker_->connect();
      auto unit = client.unit("probe");
      while (!stop) {
        auto outcome = unit.call("echo", "ping");
        ++answered;
        if (!outcome.ok() || outcome.payload() != "ping") {
          ++failed;
          failures[c].push_back(outcome.describe());
        }
      }
    });
  }
  constexpr size_t RELOADS = 8;
  std::set<std::string> revisions;
  for (size_t i = 1; i <= RELOADS; ++i) {
    writePolicy("probe.toml", i % 2 ? setB : setA);
    auto record = reload(i);
    ASSERT_FALSE(record.is_null());
    EXPECT_EQ(record["result"], "applied") << record.dump();
    revisions.insert(record["args"]["from"].get<std::string>());
    revisions.insert(record["args"]["to"].get<std::string>());
    usleep(30 * 1000);  // let calls run under this revision
  }
  stop = true;
  for (auto& t : callers) t.join();
  for (auto& list : failures) {
    for (auto& f : list) ADD_FAILURE() << f;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(revisions.size(), 2u);

  // One record per answered call, each naming one of the two revisions, both of which decided
  // some calls.
  ASSERT_EQ(broker_->stop(), 0);
  auto calls = broker_->auditRecords({{"event", "call"}});
  EXPECT_EQ(calls.size(), static_cast<size_t>(answered.load()));
  std::set<std::string> seen;
  for (auto& record : calls) {
    ASSERT_EQ(record["decision"], "allow") << record.dump();
    seen.insert(record["policy_rev"].get<std::string>());
  }
  EXPECT_EQ(seen, revisions);
  // Rules only: nobody's workers were replaced.
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 2u);
  auto verified = runProgram({binDir() + "/airlock", "audit", "verify", broker_->auditPath(),
                              "--key", broker_->brokerPublicKey(), "--require-closed"});
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
}

// Admin operations: a broker whose policy directory names `ops` in [broker] admins.
class AdminTest : public ReloadTest {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.clients = {TEST_CLIENT, "ops"};
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", probePolicy(R"(["echo"])")},
                                           {"broker.toml", "[broker]\nadmins = [\"ops\"]\n"}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  RunResult airlock(const std::string& command, const std::string& client,
                    std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {binDir() + "/airlock", command,
                                     "--socket", broker_->socket(),
                                     "--key", broker_->clientKey(client),
                                     "--broker-key", broker_->brokerPublicKey()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runProgram(argv);
  }
};

TEST_F(AdminTest, AnAdminReloadsOverTheSocketAndTheRecordsNameThem) {
  writePolicy("probe.toml", probePolicy(R"(["echo", "sleep"])"));
  auto reloaded = airlock("reload", "ops");
  EXPECT_EQ(reloaded.exitCode, 0) << reloaded.output;
  EXPECT_NE(reloaded.output.find("rules changed probe"), std::string::npos) << reloaded.output;

  std::string ops = "client:ops,uid:" + std::to_string(getuid());
  auto reload = broker_->auditRecords({{"event", "policy.reload"}});
  ASSERT_EQ(reload.size(), 1u);
  EXPECT_EQ(reload[0]["caller"], ops);
  EXPECT_EQ(reload[0]["result"], "applied");
  auto admin = broker_->auditRecords({{"event", "admin"}, {"decision", "allow"}});
  ASSERT_FALSE(admin.empty());
  EXPECT_EQ(admin.back()["args"]["operation"], "reload");
  EXPECT_EQ(admin.back()["rule"], "broker.admins");
  auto slept = broker_->connect().unit("probe").call("sleep", "1");
  EXPECT_TRUE(slept.ok()) << slept.describe();
  // Admission: no call rule names ops, [broker] admins does.
  auto auth = broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}});
  ASSERT_FALSE(auth.empty());
  EXPECT_EQ(auth.front()["rule"], "broker.admins");
}

TEST_F(AdminTest, AnAdminReloadOfABrokenSetFailsWithEveryErrorAndChangesNothing) {
  writePolicy("probe.toml", "[unit]\nname = \"probe\"\nworker = \"test-probe_worker\"\nbogus = 1\n");
  auto reloaded = airlock("reload", "ops");
  EXPECT_EQ(reloaded.exitCode, 1) << reloaded.output;
  EXPECT_NE(reloaded.output.find("probe.toml:4:1: [unit]: unknown key \"bogus\""), std::string::npos)
      << reloaded.output;
  EXPECT_NE(reloaded.output.find("reload refused"), std::string::npos) << reloaded.output;
  EXPECT_TRUE(call("probe", "echo").ok());
}

TEST_F(AdminTest, AClientNotListedAsAdminIsRefusedAndAudited) {
  auto refused = airlock("reload", TEST_CLIENT);
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_NE(refused.output.find("not listed in [broker] admins"), std::string::npos)
      << refused.output;
  auto status = airlock("status", TEST_CLIENT);
  EXPECT_EQ(status.exitCode, 2) << status.output;
  auto drain = airlock("drain", TEST_CLIENT);
  EXPECT_EQ(drain.exitCode, 2) << drain.output;
  auto denied = broker_->auditRecords({{"event", "admin"}, {"decision", "deny"}});
  EXPECT_EQ(denied.size(), 3u);
  EXPECT_TRUE(call("probe", "echo").ok()) << "a refused drain stops nothing";
  EXPECT_TRUE(broker_->auditRecords({{"event", "policy.reload"}}).empty());
}

TEST_F(AdminTest, AnAdminDrainLetsTheCallInFlightFinishThenStopsTheBroker) {
  writePolicy("probe.toml", probePolicy(R"(["echo", "sleep"])"));
  ASSERT_EQ(airlock("reload", "ops").exitCode, 0);
  std::string slow;
  std::thread caller([&]() {
    slow = broker_->connect().unit("probe").call("sleep", "600").describe();
  });
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    running = broker_->log().find("sleeping 600") != std::string::npos;
    if (!running) usleep(10 * 1000);
  }
  ASSERT_TRUE(running) << broker_->log();
  auto drained = airlock("drain", "ops");
  EXPECT_EQ(drained.exitCode, 0) << drained.output;
  EXPECT_NE(drained.output.find("draining: 1 call(s) in flight"), std::string::npos)
      << drained.output;
  caller.join();
  EXPECT_EQ(slow, "ok") << "the call in flight finishes";
  auto stopped = broker_->waitForRecord({{"event", "broker.stop"}});
  ASSERT_FALSE(stopped.is_null()) << broker_->log();
  EXPECT_EQ(stopped["reason"], "drain asked by client:ops,uid:" + std::to_string(getuid()));
  EXPECT_EQ(broker_->stop(), 0);
  auto verified = runProgram({binDir() + "/airlock", "audit", "verify", broker_->auditPath(),
                              "--key", broker_->brokerPublicKey(), "--require-closed"});
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
}

TEST_F(AdminTest, StatusShowsTheRevisionUnitsAndTheirWorkers) {
  ASSERT_TRUE(call("probe", "echo").ok());
  auto shown = airlock("status", "ops", {"--json"});
  ASSERT_EQ(shown.exitCode, 0) << shown.output;
  auto status = nlohmann::json::parse(shown.output);
  auto start = broker_->auditRecords({{"event", "broker.start"}});
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(status["revision"], start[0]["policy_rev"]);
  EXPECT_EQ(status["draining"], false);
  ASSERT_EQ(status["units"].size(), 1u);
  auto& unit = status["units"][0];
  EXPECT_EQ(unit["name"], "probe");
  auto spawned = broker_->auditRecords({{"event", "worker.spawn"}});
  ASSERT_EQ(spawned.size(), 1u);
  EXPECT_EQ(unit["pids"], nlohmann::json::array({spawned[0]["worker_pid"]}));
  EXPECT_EQ(unit["restarts"], 0);
  EXPECT_EQ(unit["calls_in_flight"], 0);

  // The worker crashes and is replaced: status follows.
  EXPECT_EQ(call("probe", "crash").errorKind(), CallErrorKind::DENIED);
  writePolicy("probe.toml", probePolicy(R"(["echo", "crash"])"));
  ASSERT_EQ(airlock("reload", "ops").exitCode, 0);
  EXPECT_EQ(call("probe", "crash").errorKind(), CallErrorKind::UNIT_CRASHED);
  auto table = airlock("status", "ops");
  ASSERT_EQ(table.exitCode, 0) << table.output;
  EXPECT_NE(table.output.find("probe"), std::string::npos) << table.output;
  auto after = nlohmann::json::parse(airlock("status", "ops", {"--json"}).output);
  EXPECT_EQ(after["units"][0]["restarts"], 1);
  EXPECT_NE(after["revision"], status["revision"]);
}

}  // namespace
}  // namespace airlock::testing
