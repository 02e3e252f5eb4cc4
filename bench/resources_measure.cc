#include "bench/resources_measure.h"

#include <unistd.h>

#include <kj/debug.h>

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
};

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
  BrokerRunner broker(bin, 4, 1, "airlockd", RequestPace::UNLIMITED, settings);
  auto quiet = broker.connect(io, "bench0");
  measureCalls(quiet, io.waitScope, "noop", 200);  // warm-up
  auto unloaded = latency("quiet unit's no-op call, unloaded",
                          measureCalls(quiet, io.waitScope, "noop", n));
  std::vector<Figure> figures = {unloaded};
  for (auto& neighbour : NEIGHBOURS) {
    auto samples = quietWhileBurning(broker, quiet, io.waitScope, neighbour.unit, n);
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

std::vector<Figure> spawnInLeafFigures(const std::string& bin, kj::AsyncIoContext& io,
                                       broker::resources::UnitGroup& unitGroup) {
  std::string worker = bin + "/airlock-bench-worker";
  PlaceWorker inLeaf = [&](sandbox::SandboxSpec& spec) -> std::shared_ptr<void> {
    auto leaf = unitGroup.newLeaf();
    leaf->place(spec.cgroup);
    // kj::Own into a shared_ptr: the leaf's directories go when the last reference does.
    return std::shared_ptr<void>(leaf.get(), [owned = kj::mv(leaf)](void*) mutable {
      owned = nullptr;
    });
  };
  Samples plain, placed;
  measureSpawnToFirstCall(Launcher::AIRLOCK_SANDBOX, worker, 3, io);  // warm-up
  for (int round = 0; round < SPAWN_ROUNDS; ++round) {
    plain.append(measureSpawnToFirstCall(Launcher::AIRLOCK_SANDBOX, worker, SPAWNS_PER_ROUND, io));
    placed.append(
        measureSpawnToFirstCall(Launcher::AIRLOCK_SANDBOX, worker, SPAWNS_PER_ROUND, io, inLeaf));
  }
  auto without = latency("worker start to first call, no cgroup", plain);
  auto with = against(latency("worker start to first call, in a cgroup leaf of its own", placed,
                              "p50 <= 1.1x without"),
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
    policy::UnitResources typical;  // what a unit with [resources] typically sets
    typical.values[static_cast<size_t>(policy::ResourceKey::MEMORY_MAX_MIB)] = 512;
    typical.values[static_cast<size_t>(policy::ResourceKey::PIDS_MAX)] = 64;
    auto unenforced = unitGroup->apply(typical);
    for (auto& line : unenforced) fprintf(stderr, "resources: not in force: %s\n", line.c_str());
    for (auto& figure : spawnInLeafFigures(bin, io, *unitGroup)) figures.push_back(figure);
  } else {
    fprintf(stderr, "resources: no cgroup rows: %s\n", why.c_str());
  }
  return figures;
}

}  // namespace airlock::bench
