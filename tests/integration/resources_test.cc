// [resources] through a real airlockd and the kernel's own cgroup controllers: a worker that
// allocates past memory_max_mib is OOM-killed by the kernel, recorded as out-of-memory and
// replaced while another unit serves; a thread bomb stops at pids_max; a unit burning every CPU
// under cpu_max_percent leaves a quiet unit answered, and lifting the limit by reload lets it
// burn more; a limit the machine cannot enforce parks the unit unless it is accepted as
// best-effort. Runs on whichever hierarchy the machine gives airlockd (v1 or v2).

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "broker/resources/cgroup_files.h"
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

// True once `done` is, polled for at most 20 s: for what airlockd does after it answered.
bool eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The group airlockd `pid` made beneath this process's cgroup, in each hierarchy it uses (one
// under v2; under v1 one per controller mount).
std::vector<std::string> groupDirsOf(pid_t pid) {
  auto places = broker::resources::discoverCgroupPlaces();
  std::string name = "/airlockd-" + std::to_string(pid);
  std::set<std::string> dirs;
  if (!places.v2.empty() && pathExists(places.v2 + name)) dirs.insert(places.v2 + name);
  for (auto& [controller, dir] : places.v1) {
    if (pathExists(dir + name)) dirs.insert(dir + name);
  }
  return {dirs.begin(), dirs.end()};
}

// The directory of `unit`'s group ("<unit>.<n>") beneath an airlockd's group; "" if none.
std::string unitDirIn(const std::string& group, const std::string& unit) {
  for (auto& name : broker::resources::cgroupChildren(group)) {
    if (name.rfind(unit + ".", 0) == 0) return group + "/" + name;
  }
  return "";
}

std::set<pid_t> processesIn(const std::string& leaf) {
  std::istringstream lines(readFile(leaf + "/cgroup.procs"));
  std::set<pid_t> pids;
  pid_t pid;
  while (lines >> pid) pids.insert(pid);
  return pids;
}

// What the kernel holds as `unit`'s CPU weight, in the file's own unit (v1 cpu.shares, v2
// cpu.weight), and what a cgroup v1 or v2 weight `weight` is written as there.
struct CpuWeightFile {
  std::string path;
  bool v1 = true;
  uint64_t written(uint64_t weight) const {
    return v1 ? std::max<uint64_t>(2, weight * 1024 / 100) : weight;
  }
};
CpuWeightFile cpuWeightFileOf(pid_t airlockd, const std::string& unit) {
  auto places = broker::resources::discoverCgroupPlaces();
  std::string name = "/airlockd-" + std::to_string(airlockd);
  auto cpu = places.v1.find("cpu");
  if (cpu != places.v1.end() && pathExists(cpu->second + name)) {
    return {unitDirIn(cpu->second + name, unit) + "/cpu.shares", true};
  }
  return {unitDirIn(places.v2 + name, unit) + "/cpu.weight", false};
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
         {"quiet.toml", unitPolicy("quiet", "", "")},
         {"weighted.toml", unitPolicy("weighted", "",
                                      "[resources]\ncpu_max_percent = 5\ncpu_weight = 100\n")}});
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
  // Whether the kernel throttled the burner depends on what else this machine runs: in the idle
  // class, under other load, it may never reach its quota in any period. The weighted unit below
  // shows that throttling is reported.
  uint64_t cpuLimited = cpuOfCall("burn", 0);
  // At most half a CPU for 1.5 s, with a period's grace at either end.
  EXPECT_LE(cpuLimited, 950000u);
  // Under its cap, without a cpu_weight, it runs in the kernel's idle class, so that any other
  // unit's woken worker preempts it at once (cgroup_knobs.h runsInBackground): what keeps the
  // quiet unit's slowest calls near unloaded (PERFORMANCE.md). A kernel without the class gets
  // the share of the machine the cap allows (cpu_max_percent / CPUs), not the default weight.
  auto weightFile = cpuWeightFileOf(broker_->pid(), "burner");
  std::string idleFile = weightFile.path.substr(0, weightFile.path.rfind('/')) + "/cpu.idle";
  bool kernelHasIdleClass = pathExists(idleFile);
  if (kernelHasIdleClass) {
    EXPECT_EQ(readFile(idleFile), "1\n") << idleFile;
    EXPECT_EQ(unitStatus("burner")["resources"]["background"], true) << unitStatus("burner");
  } else {
    cpu_set_t cpus;
    ASSERT_EQ(sched_getaffinity(broker_->pid(), sizeof(cpus), &cpus), 0);
    uint64_t derived = std::clamp<uint64_t>(50 / static_cast<uint64_t>(CPU_COUNT(&cpus)), 1, 100);
    EXPECT_EQ(std::stoull(readFile(weightFile.path)), weightFile.written(derived))
        << weightFile.path;
  }

  broker_->dir().write("policies/burner.toml", unitPolicy("burner", "call_timeout_ms = 60000", ""));
  auto record = reload();
  ASSERT_EQ(record["result"], "applied") << record.dump();
  uint64_t throttledBefore = unitStatus("burner")["resources"]["throttled_periods"];
  auto free = call("burner", "burn", BURN);
  ASSERT_TRUE(free.ok()) << free.describe();
  EXPECT_EQ(std::stoull(readFile(weightFile.path)), weightFile.written(100)) << "the default again";
  if (kernelHasIdleClass) {
    EXPECT_EQ(readFile(idleFile), "0\n") << "out of the idle class";
    EXPECT_EQ(unitStatus("burner")["resources"]["background"], false) << unitStatus("burner");
  }
  // The same workers, no longer held back: the counter stands still, and they got more CPU.
  EXPECT_EQ(unitStatus("burner")["resources"]["throttled_periods"], throttledBefore);
  EXPECT_GT(cpuOfCall("burn", 1), cpuLimited);
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}, {"unit", "burner"}}).empty());

  // An explicit cpu_weight keeps a capped unit in the normal class, where it competes for its
  // share: 5 ms of every 100 ms period is reached in the first period it runs, whatever else the
  // machine does, so the kernel throttles it and airlock status says so.
  auto weighted = call("weighted", "burn", "400 2");
  ASSERT_TRUE(weighted.ok()) << weighted.describe();
  auto weightedStatus = unitStatus("weighted");
  EXPECT_GT(weightedStatus["resources"]["throttled_periods"].get<uint64_t>(), 0u) << weightedStatus;
  EXPECT_GT(weightedStatus["resources"]["throttled_us"].get<uint64_t>(), 0u) << weightedStatus;
  EXPECT_EQ(weightedStatus["resources"]["background"], false) << weightedStatus;
  // At most 5% of a CPU for 0.4 s (20 ms) plus the periods it straddles, against the 800 ms two
  // free threads would take.
  EXPECT_LE(cpuOfCall("burn", 2), 60000u);
  auto weightedFile = cpuWeightFileOf(broker_->pid(), "weighted");
  EXPECT_EQ(std::stoull(readFile(weightedFile.path)), weightedFile.written(100));
  if (kernelHasIdleClass) {
    std::string weightedIdle =
        weightedFile.path.substr(0, weightedFile.path.rfind('/')) + "/cpu.idle";
    EXPECT_EQ(readFile(weightedIdle), "0\n") << weightedIdle;
  }

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

// A live airlockd's groups are never taken for a dead one's, even when it runs under another
// name (started through a symlink): another airlockd starting beside it leaves them, and the leaf
// made ahead for its next worker is still there when that worker starts.
TEST_F(ResourcesTest, AnAirlockdStartingBesideALiveOneRunningUnderAnotherNameLeavesItsGroups) {
  SKIP_WITHOUT_CGROUPS();
  TempDir links;
  std::string renamed = links.file("broker-under-another-name");
  ASSERT_EQ(symlink((binDir() + "/airlockd").c_str(), renamed.c_str()), 0);
  BrokerOptions options;
  options.program = renamed;
  // Tunables of its own, so that it does not execute itself again under its file's real name
  // (broker/server/allocator_tunables.h) and keeps the link's.
  options.environment = {"GLIBC_TUNABLES=glibc.malloc.tcache_count=256"};
  BrokerProcess first({{"capped.toml", unitPolicy("capped", "", "[resources]\npids_max = 64\n")}},
                      {}, options);
  ASSERT_TRUE(first.waitUntilReady()) << first.log();
  ASSERT_EQ(readFile("/proc/" + std::to_string(first.pid()) + "/comm").rfind("airlockd", 0),
            std::string::npos)
      << "named after the link";
  ASSERT_TRUE(first.connect().unit("capped").call("echo", "x").ok());

  BrokerProcess second({{"quiet.toml", unitPolicy("quiet", "", "")}});
  ASSERT_TRUE(second.waitUntilReady()) << second.log();
  std::string firstGroup = "airlockd-" + std::to_string(first.pid());
  EXPECT_EQ(second.log().find(firstGroup + ": left by"), std::string::npos) << second.log();

  // The first airlockd's worker crashes; its replacement starts in the leaf made ahead.
  auto crashed = first.connect().unit("capped").call("crash", "");
  EXPECT_EQ(crashed.errorKind(), CallErrorKind::UNIT_CRASHED) << crashed.describe();
  auto after = first.connect().unit("capped").call("echo", "after");
  EXPECT_TRUE(after.ok()) << after.describe() << "\n" << first.log();
  EXPECT_EQ(groupDirsOf(first.pid()).size(), groupDirsOf(second.pid()).size());
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

// Each worker's leaf is made ahead of its start (while the previous worker starts), so that the
// start only places the child in it: the replacement of a worker that exited runs in the leaf
// that was the spare. A spare leaf goes with its unit.
TEST_F(ResourcesTest, AReplacementStartsInALeafMadeAheadAndTheSpareLeafGoesWithItsUnit) {
  SKIP_WITHOUT_CGROUPS();
  start({{"spare.toml", unitPolicy("spare", "", "[resources]\npids_max = 64\n")},
         {"other.toml", unitPolicy("other", "", "")}});
  ASSERT_TRUE(call("spare", "echo", "x").ok());
  auto groups = groupDirsOf(broker_->pid());
  ASSERT_FALSE(groups.empty()) << broker_->log();
  std::string unitDir = unitDirIn(groups.front(), "spare");
  ASSERT_FALSE(unitDir.empty()) << groups.front();
  pid_t first = unitStatus("spare")["pids"][0];

  // Two leaves: the worker's, and one made ahead for the next start, holding nobody.
  ASSERT_TRUE(eventually([&]() { return broker::resources::cgroupChildren(unitDir).size() == 2; }))
      << unitDir;
  std::string firstLeaf, spareLeaf;
  for (auto& name : broker::resources::cgroupChildren(unitDir)) {
    auto inside = processesIn(unitDir + "/" + name);
    if (inside == std::set<pid_t>{first}) firstLeaf = name;
    if (inside.empty()) spareLeaf = name;
  }
  ASSERT_FALSE(firstLeaf.empty()) << "worker pid " << first << " is in no leaf of " << unitDir;
  ASSERT_FALSE(spareLeaf.empty()) << "no empty leaf beside the worker's in " << unitDir;

  auto exited = call("spare", "exit");
  EXPECT_EQ(exited.errorKind(), CallErrorKind::UNIT_CRASHED) << exited.describe();
  ASSERT_TRUE(eventually([&]() {
    return broker_->auditRecords({{"event", "worker.spawn"}, {"unit", "spare"}}).size() == 2;
  })) << broker_->log();
  ASSERT_TRUE(call("spare", "echo", "y").ok());
  pid_t second = unitStatus("spare")["pids"][0];
  EXPECT_NE(second, first);
  EXPECT_EQ(processesIn(unitDir + "/" + spareLeaf), std::set<pid_t>{second});
  EXPECT_TRUE(eventually([&]() { return !pathExists(unitDir + "/" + firstLeaf); }))
      << "the exited worker's leaf stays";

  // The unit removed by a reload: its group, the spare leaf with it, is gone from every
  // hierarchy; the other unit serves on.
  ASSERT_EQ(unlink(broker_->dir().file("policies/spare.toml").c_str()), 0);
  ASSERT_EQ(reload()["result"], "applied");
  for (auto& group : groups) {
    EXPECT_TRUE(eventually([&]() { return unitDirIn(group, "spare").empty(); }))
        << unitDirIn(group, "spare") << " stays";
  }
  EXPECT_TRUE(call("other", "echo", "z").ok());
}

// An airlockd killed outright leaves its groups (its spare leaves among them); the next airlockd
// started in the same cgroup removes them, and makes its own.
TEST_F(ResourcesTest, TheGroupsOfAnAirlockdThatCrashedAreRemovedByTheNextStart) {
  SKIP_WITHOUT_CGROUPS();
  start({{"limited.toml", unitPolicy("limited", "", "[resources]\npids_max = 64\n")}});
  ASSERT_TRUE(call("limited", "echo", "x").ok());
  pid_t crashed = broker_->pid();
  pid_t worker = unitStatus("limited")["pids"][0];
  auto groups = groupDirsOf(crashed);
  ASSERT_FALSE(groups.empty());
  broker_->killHard();
  // Its worker dies with it (the sandbox's parent-death signal); its leaf can go once it has.
  ASSERT_TRUE(eventually([&]() { return !pathExists("/proc/" + std::to_string(worker)); }));
  // Not checked that they are still there now: any airlockd started in the same cgroup (another
  // test's, on a shared machine) removes them as this one's next start does.

  ASSERT_TRUE(broker_->restart()) << broker_->log();
  EXPECT_TRUE(call("limited", "echo", "y").ok());
  for (auto& group : groups) EXPECT_FALSE(pathExists(group)) << group << " stays";
  EXPECT_FALSE(groupDirsOf(broker_->pid()).empty());
}

// A [unit] program's run has a leaf of its own under the unit's group, with the unit's limits:
// dash doubling a string past memory_max_mib is killed by the kernel, and the caller and the
// call record say out of memory, as for a worker; the next run is unaffected.
TEST_F(ResourcesTest, AProgramRunPastMemoryMaxIsKilledByTheKernelAndTheCallerIsToldOutOfMemory) {
  SKIP_WITHOUT_CGROUPS();
  if (access("/bin/sh", X_OK) != 0) GTEST_SKIP() << "no /bin/sh";
  start({{"shell.toml",
          "[unit]\nname = \"shell\"\nprogram = \"/bin/sh\"\ncall_timeout_ms = 30000\n"
          "[limits]\nmemory_mib = 8192\n[resources]\nmemory_max_mib = 64\n"
          "[[rule]]\nid = \"tester-runs\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
          "method = [\"run\"]\n"}});
  auto client = broker_->connect();
  auto hog = client.unit("shell").run({"-c", "s=x; while :; do s=$s$s; done"});
  ASSERT_EQ(hog.call.errorKind(), CallErrorKind::UNIT_CRASHED) << hog.call.describe();
  EXPECT_EQ(hog.call.message().rfind("out of memory: program pid ", 0), 0u)
      << hog.call.message();

  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "shell"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["result"].get<std::string>().rfind("unit crashed: out of memory", 0), 0u)
      << calls[0].dump();
  EXPECT_EQ(calls[0]["args"]["cause"], "out-of-memory") << calls[0].dump();
  EXPECT_EQ(calls[0]["args"]["memory_max_mib"], 64) << calls[0].dump();
  uint64_t peak = calls[0]["args"]["memory_peak_bytes"];
  EXPECT_GE(peak, 32ull << 20) << calls[0].dump();
  EXPECT_LE(peak, 65ull << 20) << calls[0].dump();
  EXPECT_GT(calls[0].value("cpu_us", 0ull), 0u) << calls[0].dump();
  EXPECT_GE(unitStatus("shell")["resources"]["oom_kills"], 1) << unitStatus("shell");

  auto small = client.unit("shell").run({"-c", "echo fine"});
  ASSERT_TRUE(small.call.ok()) << small.call.describe();
  EXPECT_EQ(small.out, "fine\n");
}

}  // namespace
}  // namespace airlock::testing
