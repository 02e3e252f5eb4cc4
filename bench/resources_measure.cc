#include "bench/resources_measure.h"

#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/broker_runner.h"
#include "bench/rpc_measure.h"
#include "bench/spawn_measure.h"
#include "broker/resources/resource_groups.h"
#include "sdk/host/client.h"

namespace airlock::bench {

namespace {

// The neighbour burns with more threads than the machine has cores, in calls of BURN_CALL_MS so
// that it stops soon after the quiet calls are measured.
constexpr int BURNER_THREADS = 4;
constexpr int BURN_CALL_MS = 100;
constexpr double CPU_TARGET_RATIO = 1.5;    // quiet p99 with the limit, against unloaded
constexpr double SPAWN_TARGET_RATIO = 1.1;  // start-up in a leaf, against without one
constexpr int SPAWN_ROUNDS = 5;             // alternating, so drift hits both alike
constexpr int SPAWNS_PER_ROUND = 20;
// What a unit with [resources] typically sets, for the start-up rows.
constexpr char TYPICAL_RESOURCES[] = "\n[resources]\nmemory_max_mib = 512\npids_max = 64";
constexpr uint64_t TYPICAL_MEMORY_MAX_MIB = 512;
constexpr uint64_t TYPICAL_PIDS_MAX = 64;

// The neighbours: bench0 is the quiet unit; each other unit burns under one setting.
struct Neighbour {
  const char* unit;
  const char* settings;  // TOML after the unit's [unit] keys
  const char* label;
};
const Neighbour NEIGHBOURS[] = {
    {"bench1", "", "no limit"},
    {"bench2", "\n[resources]\ncpu_max_percent = 50", "cpu_max_percent = 50"},
    {"bench3", "\n[resources]\ncpu_weight = 1", "cpu_weight = 1"},
    // The cap at the default weight: what cpu_max_percent alone gave before a weight was derived
    // from it (cgroup_knobs.h), and a cap with a weight lower than the derived one.
    {"bench4", "\n[resources]\ncpu_max_percent = 50\ncpu_weight = 100",
     "cpu_max_percent = 50, cpu_weight = 100"},
    {"bench5", "\n[resources]\ncpu_max_percent = 50\ncpu_weight = 10",
     "cpu_max_percent = 50, cpu_weight = 10"},
};
// The rows are measured in turn, a slice of each per round, so that the machine's drift (other
// work on it) is spread over all of them alike.
constexpr int CPU_ROUNDS = 5;

// `count` quiet calls while `burner`'s workers burn BURNER_THREADS CPUs, back to back, from a
// thread of its own with its own connection.
Samples quietWhileBurning(const BrokerRunner& broker, rpc::Unit::Client& quiet,
                          kj::WaitScope& waitScope, const std::string& burner, int count) {
  std::atomic<bool> stop{false};
  std::atomic<bool> burning{false};
  std::thread thread([&]() {
    auto client = Client::connect(broker.socketPath(), broker.clientKeyFile(),
                                  broker.brokerPublicKeyFile());
    auto unit = client.unit(burner);
    const std::string payload =
        std::to_string(BURN_CALL_MS) + " " + std::to_string(BURNER_THREADS);
    while (!stop) {
      burning = true;
      auto outcome = unit.call("burn", payload);
      if (!outcome.ok()) {
        // Not thrown: this is a thread, and the runner must still stop its airlockd.
        fprintf(stderr, "burn on %s failed: %s\n", burner.c_str(), outcome.describe().c_str());
        return;
      }
    }
  });
  while (!burning) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The first burn call is counted when sent; let its threads be running first.
  std::this_thread::sleep_for(std::chrono::milliseconds(BURN_CALL_MS / 2));
  auto samples = measureCalls(quiet, waitScope, "noop", count);
  stop = true;
  thread.join();
  return samples;
}

std::vector<Figure> cpuNeighbourFigures(const std::string& bin, kj::AsyncIoContext& io, int n) {
  std::map<std::string, std::string> settings;
  for (auto& neighbour : NEIGHBOURS) settings[neighbour.unit] = neighbour.settings;
  BrokerRunner broker(bin, 1 + static_cast<int>(std::size(NEIGHBOURS)), 1, "airlockd",
                      RequestPace::UNLIMITED, settings);
  auto quiet = broker.connect(io, "bench0");
  measureCalls(quiet, io.waitScope, "noop", 200);  // warm-up
  Samples alone;
  std::vector<Samples> beside(std::size(NEIGHBOURS));
  int slice = std::max(1, n / CPU_ROUNDS);
  for (int round = 0; round < CPU_ROUNDS; ++round) {
    alone.append(measureCalls(quiet, io.waitScope, "noop", slice));
    for (size_t i = 0; i < std::size(NEIGHBOURS); ++i) {
      beside[i].append(quietWhileBurning(broker, quiet, io.waitScope, NEIGHBOURS[i].unit, slice));
    }
  }
  auto unloaded = latency("quiet unit's no-op call, unloaded", alone);
  std::vector<Figure> figures = {unloaded};
  for (size_t i = 0; i < std::size(NEIGHBOURS); ++i) {
    const Neighbour& neighbour = NEIGHBOURS[i];
    const Samples& samples = beside[i];
    bool judged = std::string(neighbour.label) != "no limit";
    auto figure = latency("quiet unit's no-op call, neighbour burning " +
                              std::to_string(BURNER_THREADS) + " threads, " + neighbour.label,
                          samples, judged ? "p99 <= 1.5x unloaded" : "");
    figure = against(figure, unloaded);
    // This target is on the tail: the ratio of p99s, not against()'s p50 ratio.
    figure.ratio = figure.p99 / unloaded.p99;
    if (judged) figure.met = figure.ratio <= CPU_TARGET_RATIO ? TargetMet::YES : TargetMet::NO;
    figures.push_back(figure);
  }
  return figures;
}

// kj::Own into a shared_ptr: the leaf's directories go when the last reference does.
std::shared_ptr<void> placedIn(kj::Own<broker::resources::WorkerLeaf> leaf,
                               sandbox::SandboxSpec& spec) {
  leaf->place(spec.cgroup);
  return std::shared_ptr<void>(leaf.get(), [owned = kj::mv(leaf)](void*) mutable {
    owned = nullptr;
  });
}

// The sandbox launcher alone: no cgroup; a leaf made on the start's path (mkdir in every
// hierarchy, then the placement); a leaf made ahead of it, as airlockd's pool does (made after
// the previous worker's hello, outside the timed span: the start only places the child).
std::vector<Figure> spawnInLeafFigures(const std::string& bin, kj::AsyncIoContext& io,
                                       broker::resources::UnitGroup& unitGroup) {
  std::string worker = bin + "/airlock-bench-worker";
  PlaceWorker madeAtStart = [&](sandbox::SandboxSpec& spec) {
    return placedIn(unitGroup.newLeaf(), spec);
  };
  kj::Own<broker::resources::WorkerLeaf> spare;
  PlaceWorker madeAhead = [&](sandbox::SandboxSpec& spec) {
    if (spare.get() == nullptr) spare = unitGroup.newLeaf();  // the first start of a round
    return placedIn(kj::mv(spare), spec);
  };
  auto makeSpare = [&]() { spare = unitGroup.newLeaf(); };
  const auto sandboxed = Launcher::AIRLOCK_SANDBOX;
  Samples plain, atStart, ahead;
  measureSpawnToFirstCall(sandboxed, worker, 3, io);  // warm-up
  for (int round = 0; round < SPAWN_ROUNDS; ++round) {
    plain.append(measureSpawnToFirstCall(sandboxed, worker, SPAWNS_PER_ROUND, io));
    atStart.append(measureSpawnToFirstCall(sandboxed, worker, SPAWNS_PER_ROUND, io, madeAtStart));
    ahead.append(
        measureSpawnToFirstCall(sandboxed, worker, SPAWNS_PER_ROUND, io, madeAhead, makeSpare));
    spare = nullptr;
  }
  auto without = latency("sandbox start to first call, no cgroup", plain);
  auto madeNow = against(latency("sandbox start to first call, leaf made at the start", atStart),
                         without);
  auto madeBefore = against(latency("sandbox start to first call, leaf made ahead (the pool's "
                                    "way)", ahead, "p50 <= 1.1x without"),
                            without);
  madeBefore.met = madeBefore.ratio <= SPAWN_TARGET_RATIO ? TargetMet::YES : TargetMet::NO;
  return {without, madeNow, madeBefore};
}

// The whole start in airlockd's pool: two units of one worker under worker_reuse = "never",
// one with a typical [resources]; calls back to back, so each waits for its fresh worker's
// start (the previous call's release asks for it) and answers its first call. Rounds alternate
// between the units, so that one unit's start never overlaps the other's.
std::vector<Figure> poolStartFigures(const std::string& bin, kj::AsyncIoContext& io) {
  std::string never = "worker_reuse = \"never\"";
  BrokerRunner broker(bin, 2, 1, "airlockd", RequestPace::UNLIMITED,
                      {{"bench0", never}, {"bench1", never + TYPICAL_RESOURCES}});
  auto plainUnit = broker.connect(io, "bench0");
  auto leafUnit = broker.connect(io, "bench1");
  measureCalls(plainUnit, io.waitScope, "noop", 5);  // warm-up
  measureCalls(leafUnit, io.waitScope, "noop", 5);
  Samples plain, placed;
  for (int round = 0; round < SPAWN_ROUNDS; ++round) {
    plain.append(measureCalls(plainUnit, io.waitScope, "noop", SPAWNS_PER_ROUND));
    placed.append(measureCalls(leafUnit, io.waitScope, "noop", SPAWNS_PER_ROUND));
  }
  std::string what = "no-op call, each by a fresh worker started for it (worker_reuse "
                     "\"never\", back to back)";
  auto without = latency(what + ", no [resources]", plain);
  auto with = against(latency(what + ", in a cgroup leaf (memory_max_mib = 512, pids_max = 64)",
                              placed, "p50 <= 1.1x without"),
                      without);
  with.met = with.ratio <= SPAWN_TARGET_RATIO ? TargetMet::YES : TargetMet::NO;
  return {without, with};
}

}  // namespace

std::vector<Figure> resourcesFigures(const std::string& bin, kj::AsyncIoContext& io, int n) {
  auto figures = cpuNeighbourFigures(bin, io, n);
  // The bench's own groups, made as airlockd makes its own: beneath this process's cgroup.
  kj::Maybe<kj::Own<broker::resources::ResourceGroups>> groups;
  std::string why;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
                groups = broker::resources::openResourceGroups(
                    broker::resources::discoverCgroupPlaces(), getpid());
              })) {
    why = exception->getDescription().cStr();
  }
  KJ_IF_MAYBE(opened, groups) {
    auto unitGroup = (*opened)->unitGroup("spawn-bench");
    policy::UnitResources typical;
    typical.values[static_cast<size_t>(policy::ResourceKey::MEMORY_MAX_MIB)] =
        TYPICAL_MEMORY_MAX_MIB;
    typical.values[static_cast<size_t>(policy::ResourceKey::PIDS_MAX)] = TYPICAL_PIDS_MAX;
    auto unenforced = unitGroup->apply(typical);
    for (auto& line : unenforced) fprintf(stderr, "resources: not in force: %s\n", line.c_str());
    for (auto& figure : spawnInLeafFigures(bin, io, *unitGroup)) figures.push_back(figure);
    for (auto& figure : poolStartFigures(bin, io)) figures.push_back(figure);
  } else {
    fprintf(stderr, "resources: no cgroup rows: %s\n", why.c_str());
  }
  return figures;
}

}  // namespace airlock::bench
