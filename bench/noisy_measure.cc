#include "bench/noisy_measure.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/rpc_measure.h"
#include "sdk/host/client.h"

namespace airlock::bench {

NoisyNeighbour measureNoisyNeighbour(const BrokerRunner& broker, rpc::Unit::Client& quiet,
                                     kj::WaitScope& waitScope, const std::string& noisyUnit,
                                     int flooders, int count) {
  NoisyNeighbour result;
  measureCalls(quiet, waitScope, "noop", 200);  // warm-up
  result.unloaded = measureCalls(quiet, waitScope, "noop", count);

  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::atomic<uint64_t> floodCalls{0};
  // One handshake at a time: airlockd lets a uid have only 4 in flight (auth_backoff.h).
  std::mutex connecting;
  std::vector<std::thread> threads;
  for (int i = 0; i < flooders; ++i) {
    threads.emplace_back([&]() {
      std::unique_lock<std::mutex> lock(connecting);
      auto client = Client::connect(broker.socketPath(), broker.clientKeyFile(),
                                    broker.brokerPublicKeyFile());
      lock.unlock();
      auto unit = client.unit(noisyUnit);
      const std::string payload(16, 'x');
      unit.call("noop", payload);
      ++started;
      uint64_t mine = 0;
      while (!stop) {
        unit.call("noop", payload);
        ++mine;
      }
      floodCalls += mine;
    });
  }
  while (started < flooders) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto floodStart = std::chrono::steady_clock::now();
  result.flooded = measureCalls(quiet, waitScope, "noop", count);
  stop = true;
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - floodStart)
                       .count();
  result.floodCallsPerSecond = static_cast<double>(floodCalls.load()) / seconds;
  return result;
}

}  // namespace airlock::bench
