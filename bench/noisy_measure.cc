#include "bench/noisy_measure.h"

#include <unistd.h>

#include <kj/debug.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/rpc_measure.h"
#include "sdk/host/client.h"

namespace airlock::bench {

namespace {

// One flooding thread's loop. Returns what it got through: host calls served (not `busy`), or
// the brokered requests its worker reports having made.
uint64_t flood(Client& client, const std::string& unitName, FloodSource source,
               const std::string& stopMarker, const std::atomic<bool>& stop,
               std::atomic<int>& started) {
  auto unit = client.unit(unitName);
  if (source == FloodSource::WORKERS) {
    ++started;
    // Returns once the measurement is over and the marker exists.
    auto outcome = unit.call("broker-flood", stopMarker);
    if (!outcome.ok()) {
      // Not thrown: this is a thread, and the runner must still stop its airlockd.
      fprintf(stderr, "broker-flood failed: %s\n", outcome.describe().c_str());
      return 0;
    }
    return std::stoull(outcome.payload());
  }
  const std::string payload(16, 'x');
  unit.call("noop", payload);
  ++started;
  uint64_t served = 0;  // not counting `busy`
  while (!stop) {
    if (unit.call("noop", payload).ok()) ++served;
  }
  return served;
}

}  // namespace

NoisyNeighbour measureNoisyNeighbour(const BrokerRunner& broker, rpc::Unit::Client& quiet,
                                     kj::WaitScope& waitScope, const std::string& noisyUnit,
                                     FloodSource source, int flooders, int count) {
  NoisyNeighbour result;
  measureCalls(quiet, waitScope, "noop", 200);  // warm-up
  result.unloaded = measureCalls(quiet, waitScope, "noop", count);

  const std::string stopMarker = broker.filesDir() + "/flood-stop";
  unlink(stopMarker.c_str());
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::atomic<uint64_t> floodTotal{0};
  // One handshake at a time: airlockd lets a uid have only 4 in flight (auth_backoff.h).
  std::mutex connecting;
  std::vector<std::thread> threads;
  for (int i = 0; i < flooders; ++i) {
    threads.emplace_back([&]() {
      std::unique_lock<std::mutex> lock(connecting);
      auto client = Client::connect(broker.socketPath(), broker.clientKeyFile(),
                                    broker.brokerPublicKeyFile());
      lock.unlock();
      floodTotal += flood(client, noisyUnit, source, stopMarker, stop, started);
    });
  }
  while (started < flooders) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // A broker-flood call is counted as started when sent; give the workers time to be at it.
  if (source == FloodSource::WORKERS) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto floodStart = std::chrono::steady_clock::now();
  result.flooded = measureCalls(quiet, waitScope, "noop", count);
  stop = true;
  std::ofstream(stopMarker) << "stop\n";
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - floodStart)
                       .count();
  if (source == FloodSource::WORKERS) seconds += 0.2;  // they flooded through the pause too
  result.floodCallsPerSecond = static_cast<double>(floodTotal.load()) / seconds;
  return result;
}

}  // namespace airlock::bench
