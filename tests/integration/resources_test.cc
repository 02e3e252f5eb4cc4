// [resources] through a real airlockd and the kernel's own cgroup controllers: a worker that
// allocates past memory_max_mib is OOM-killed by the kernel, recorded as out-of-memory and
// replaced while another unit serves; a thread bomb stops at pids_max; a unit burning every CPU
// under cpu_max_percent leaves a quiet unit answered, and lifting the limit by reload lets it
// burn more; a limit the machine cannot enforce parks the unit unless it is accepted as
// best-effort. Runs on whichever hierarchy the machine gives airlockd (v1 or v2).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "broker/resources/cgroup_mounts.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// Why the machine cannot run these tests, or "" if it can: airlockd needs the memory, cpu and
// pids controllers in one hierarchy it can reach.
std::string missingControllers() {
  auto places = broker::resources::discoverCgroupPlaces();
  std::string missing;
  for (const char* controller : {"memory", "cpu", "pids"}) {
    if (!places.v2Controllers.count(controller) && !places.v1.count(controller)) {
      missing += std::string(missing.empty() ? "" : ", ") + controller;
    }
  }
  return missing;
}

#define SKIP_WITHOUT_CGROUPS()                                                           \
  do {                                                                                   \
    std::string missing = missingControllers();                                          \
    if (!missing.empty()) {                                                              \
      GTEST_SKIP() << "no usable cgroup controller on this machine: " << missing         \
                   << " is neither in cgroup v2's cgroup.controllers nor mounted as v1"; \
    }                                                                                    \
  } while (false)

std::string unitPolicy(const std::string& name, const std::string& unitKeys,
                       const std::string& tables) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"test-probe_worker\"\n" + unitKeys + "\n" +
         tables +
         "\n[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"*\"]\n";
}

class ResourcesTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies) {
    broker_ = startWithAdmin(policies);
  }
  CallOutcome call(const std::string& unit, const std::string& method,
                   const std::string& payload = "") {
    return broker_->connect().unit(unit).call(method, payload);
  }
  nlohmann::json unitStatus(const std::string& name) { return broker_->unitStatus("ops", name); }
  nlohmann::json reload() {  // SIGHUP, then the first policy.reload record
    EXPECT_EQ(kill(broker_->pid(), SIGHUP), 0);
    return broker_->waitForRecord({{"event", "policy.reload"}});
  }
  // The `call` records of `method`, oldest first.
  std::vector<nlohmann::json> callRecords(const std::string& method) {
    std::vector<nlohmann::json> out;
    for (auto& record : broker_->auditRecords({{"event", "call"}})) {
      if (record["args"].value("method", "") == method) out.push_back(record);
    }
    return out;
  }
  // The CPU time the `call` record of the `n`-th call of `method` (from 0) carries.
  uint64_t cpuOfCall(const std::string& method, size_t n) {
    auto records = callRecords(method);
    EXPECT_GT(records.size(), n);
    if (records.size() <= n) return 0;
    EXPECT_TRUE(records[n].contains("cpu_us")) << records[n].dump();
    return records[n].value("cpu_us", 0ull);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(ResourcesTest, AWorkerPastMemoryMaxIsKilledByTheKernelRecordedAndReplacedWhileAnotherUnitServes) {
  SKIP_WITHOUT_CGROUPS();
  // The address-space rlimit far above the cgroup limit: the kernel's OOM killer must act first.
  start({{"hog.toml", unitPolicy("hog", "", "[limits]\nmemory_mib = 8192\n"
                                            "[resources]\nmemory_max_mib = 64\n")},
         {"quiet.toml", unitPolicy("quiet", "", "")}});
  ASSERT_TRUE(call("hog", "echo", "warm").ok());
  auto quietBefore = unitStatus("quiet")["pids"];

  auto outcome = call("hog", "touch-memory");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_EQ(outcome.message().rfind("out of memory: worker pid ", 0), 0u) << outcome.message();

  auto exits = broker_->auditRecords({{"event", "worker.exit"}, {"unit", "hog"}});
  ASSERT_EQ(exits.size(), 1u) << broker_->log();
  EXPECT_EQ(exits[0]["reason"], "out-of-memory") << exits[0].dump();
  uint64_t peak = exits[0]["args"]["memory_peak_bytes"];
  EXPECT_GE(peak, 48ull << 20) << exits[0].dump();  // it got near the limit...
  // ...and not past it, but for the pages the kernel charges while it reclaims and kills.
  EXPECT_LE(peak, 65ull << 20) << exits[0].dump();
  auto calls = callRecords("touch-memory");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["result"].get<std::string>().rfind("unit crashed: out of memory", 0), 0u)
      << calls[0].dump();

  // Replaced; the other unit never noticed: same worker, no exit, still answering.
  auto again = call("hog", "echo", "again");
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}, {"unit", "hog"}}).size(), 2u);
  EXPECT_TRUE(call("quiet", "echo", "still").ok());
  EXPECT_EQ(unitStatus("quiet")["pids"], quietBefore);
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}, {"unit", "quiet"}}).empty());
  EXPECT_GE(unitStatus("hog")["resources"]["oom_kills"], 1) << unitStatus("hog");
}

TEST_F(ResourcesTest, AThreadBombStopsAtPidsMaxAndTheWorkerStillServes) {
  SKIP_WITHOUT_CGROUPS();
  // The threads rlimit far above pids_max: the cgroup is what stops the bomb.
  start({{"bomb.toml", unitPolicy("bomb", "", "[limits]\nthreads = 2048\n"
                                              "[resources]\npids_max = 16\n")}});
  auto outcome = call("bomb", "threads", "500");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  ASSERT_EQ(outcome.payload().rfind("started ", 0), 0u) << outcome.payload();
  int started = std::stoi(outcome.payload().substr(8));
  EXPECT_GT(started, 0);
  EXPECT_LT(started, 16) << "the worker's own threads count too";
  auto alive = call("bomb", "echo", "alive");
  EXPECT_TRUE(alive.ok()) << alive.describe() << "\n" << broker_->log();
}

TEST_F(ResourcesTest, ACpuBurnerUnderCpuMaxLeavesAQuietUnitAnsweredAndAReloadLiftingItLetsItBurn) {
  SKIP_WITHOUT_CGROUPS();
  std::string limited = "[resources]\ncpu_max_percent = 50\n";
  start({{"burner.toml", unitPolicy("burner", "call_timeout_ms = 60000", limited)},
         {"quiet.toml", unitPolicy("quiet", "", "")}});
  constexpr char BURN[] = "1500 4";  // four threads for 1.5 s: every CPU this machine has

  std::atomic<bool> burning = true;
  std::thread burner([&]() {
    auto outcome = call("burner", "burn", BURN);
    EXPECT_TRUE(outcome.ok()) << outcome.describe();
    burning = false;
  });
  int quietCalls = 0;
  while (burning) {
    auto outcome = call("quiet", "echo", "q");
    EXPECT_TRUE(outcome.ok()) << outcome.describe();
    ++quietCalls;
  }
  burner.join();
  EXPECT_GT(quietCalls, 0);
  uint64_t throttled = unitStatus("burner")["resources"]["throttled_periods"];
  EXPECT_GT(throttled, 0u) << unitStatus("burner");
  uint64_t cpuLimited = cpuOfCall("burn", 0);
  // At most half a CPU for 1.5 s, with a period's grace at either end.
  EXPECT_LE(cpuLimited, 950000u);

  broker_->dir().write("policies/burner.toml", unitPolicy("burner", "call_timeout_ms = 60000", ""));
  auto record = reload();
  ASSERT_EQ(record["result"], "applied") << record.dump();
  uint64_t throttledBefore = unitStatus("burner")["resources"]["throttled_periods"];
  auto free = call("burner", "burn", BURN);
  ASSERT_TRUE(free.ok()) << free.describe();
  // The same workers, no longer held back: the counter stands still, and they got more CPU.
  EXPECT_EQ(unitStatus("burner")["resources"]["throttled_periods"], throttledBefore);
  EXPECT_GT(cpuOfCall("burn", 1), cpuLimited);
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}, {"unit", "burner"}}).empty());

  // What each caller cost each unit, summed from the call records.
  uint64_t burnerCpu = 0;
  for (auto& record : broker_->auditRecords({{"event", "call"}, {"unit", "burner"}})) {
    burnerCpu += record.value("cpu_us", 0ull);
  }
  auto stats = runProgram({binDir() + "/airlock", "audit", "stats", broker_->auditPath(), "--json"});
  ASSERT_EQ(stats.exitCode, 0) << stats.output;
  auto costs = nlohmann::json::parse(stats.output)["cpu_by_unit_and_caller"];
  std::map<std::string, nlohmann::json> byUnit;
  for (auto& cost : costs) byUnit[cost["unit"]] = cost;
  EXPECT_EQ(byUnit["burner"]["cpu_us"], burnerCpu) << costs;
  EXPECT_EQ(byUnit["burner"]["calls"], 2) << costs;
  EXPECT_EQ(byUnit["quiet"]["calls"], quietCalls) << costs;
  EXPECT_EQ(byUnit["burner"]["caller"].get<std::string>().rfind("client:tester", 0), 0u) << costs;
}

// blkio.weight needs an I/O scheduler that honours it (BFQ); where the machine has none, the
// io_weight limit is one it cannot enforce.
bool ioWeightEnforceable() {
  auto places = broker::resources::discoverCgroupPlaces();
  if (places.v2Controllers.count("io")) return true;
  auto blkio = places.v1.find("blkio");
  return blkio != places.v1.end() && access((blkio->second + "/blkio.weight").c_str(), F_OK) == 0;
}

TEST_F(ResourcesTest, ALimitTheMachineCannotEnforceParksTheUnitNamingTheControllerUnlessBestEffort) {
  SKIP_WITHOUT_CGROUPS();
  if (ioWeightEnforceable()) GTEST_SKIP() << "this machine enforces io_weight";
  start({{"strict.toml", unitPolicy("strict", "", "[resources]\nio_weight = 200\n")},
         {"lenient.toml",
          unitPolicy("lenient", "",
                     "[sandbox]\nresources = \"best-effort\"\njustification = \"I/O is not what "
                     "this unit competes for\"\n[resources]\nio_weight = 200\n")}});
  auto strict = unitStatus("strict");
  EXPECT_EQ(strict["state"], "parked") << strict;
  EXPECT_EQ(strict["parked_rule"], "unit.resources");
  std::string reason = strict["parked_reason"];
  EXPECT_NE(reason.find("io_weight = 200"), std::string::npos) << reason;
  EXPECT_NE(reason.find("controller"), std::string::npos) << reason;
  auto refused = call("strict", "echo", "x");
  EXPECT_EQ(refused.errorKind(), CallErrorKind::UNIT_UNAVAILABLE) << refused.describe();

  EXPECT_TRUE(call("lenient", "echo", "x").ok());
  auto weakened = broker_->auditRecords({{"event", "unit.resources"}, {"unit", "lenient"}});
  ASSERT_EQ(weakened.size(), 1u);
  EXPECT_EQ(weakened[0]["result"], "running weakened");
  EXPECT_NE(weakened[0]["reason"].get<std::string>().find("io_weight"), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing
