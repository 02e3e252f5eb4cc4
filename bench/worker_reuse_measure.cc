#include "bench/worker_reuse_measure.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/broker_runner.h"
#include "bench/rpc_measure.h"
#include "sdk/host/client.h"

namespace airlock::bench {

namespace {

// Between two calls: longer than a sandboxed worker takes to start on this machine, so that the
// "never" unit's replacement is ready when its next call arrives, and so that neither unit's call
// meets the other's replacement starting (it shares the CPUs; the last row shows what that
// costs).
constexpr int REFILL_GAP_MS = 200;
constexpr int MAX_SPACED_CALLS = 100;  // per unit: 200 x 200 ms, 40 s
constexpr int MAX_BACK_TO_BACK_CALLS = 300;
constexpr double TARGET_RATIO = 1.2;

// One call each to `a` and `b`, in turn (which goes first alternates), `count` times, with
// `gapMs` of quiet after each call.
void alternate(rpc::Unit::Client& a, rpc::Unit::Client& b, kj::WaitScope& waitScope, int count,
               int gapMs, Samples& aSamples, Samples& bSamples) {
  auto one = [&](rpc::Unit::Client& unit, Samples& samples) {
    samples.append(measureCalls(unit, waitScope, "noop", 1));
    usleep(static_cast<useconds_t>(gapMs) * 1000);
  };
  for (int i = 0; i < count; ++i) {
    bool aFirst = i % 2 == 0;
    one(aFirst ? a : b, aFirst ? aSamples : bSamples);
    one(aFirst ? b : a, aFirst ? bSamples : aSamples);
  }
}

// Calls `unitName` back to back on a connection of its own until `stop`; how many it made. Under
// "never" each of them ends with a replacement worker starting in airlockd.
uint64_t callUntil(const BrokerRunner& broker, const std::string& unitName,
                   const std::atomic<bool>& stop, std::atomic<bool>& started) {
  auto client = Client::connect(broker.socketPath(), broker.clientKeyFile(),
                                broker.brokerPublicKeyFile());
  auto unit = client.unit(unitName);
  uint64_t calls = 0;
  while (!stop) {
    auto outcome = unit.call("noop", "");
    if (!outcome.ok()) {
      // Not thrown: this is a thread, and the runner must still stop its airlockd.
      fprintf(stderr, "%s noop failed: %s\n", unitName.c_str(), outcome.describe().c_str());
      break;
    }
    ++calls;
    started = true;
  }
  started = true;
  return calls;
}

}  // namespace

std::vector<Figure> workerReuseFigures(const std::string& bin, kj::AsyncIoContext& io, int n) {
  // bench0 keeps the default ("any"); bench1 serves each call by a fresh worker.
  BrokerRunner broker(bin, 2, 1, "airlockd", RequestPace::UNLIMITED,
                      {{"bench1", "worker_reuse = \"never\""}});
  auto any = broker.connect(io, "bench0");
  auto never = broker.connect(io, "bench1");
  Samples warmAny, warmNever;
  alternate(any, never, io.waitScope, 5, REFILL_GAP_MS, warmAny, warmNever);

  Samples spacedAny, spacedNever;
  alternate(any, never, io.waitScope, std::min(n, MAX_SPACED_CALLS), REFILL_GAP_MS, spacedAny,
            spacedNever);
  std::string spaced = ", calls " + std::to_string(REFILL_GAP_MS) + " ms apart";
  auto anySpaced = latency("no-op call, worker_reuse \"any\"" + spaced, spacedAny);
  auto neverSpaced = against(latency("no-op call, worker_reuse \"never\"" + spaced, spacedNever,
                                     "p50 <= 1.2x \"any\""),
                             anySpaced);
  neverSpaced.met = neverSpaced.ratio <= TARGET_RATIO ? TargetMet::YES : TargetMet::NO;

  // One unit at a time: alternating, each "any" call would meet the "never" unit's replacement
  // starting.
  int backToBack = std::min(n, MAX_BACK_TO_BACK_CALLS);
  Samples b2bAny = measureCalls(any, io.waitScope, "noop", backToBack);
  Samples b2bNever = measureCalls(never, io.waitScope, "noop", backToBack);
  auto anyB2b = latency("no-op call, worker_reuse \"any\", back to back", b2bAny);
  auto neverB2b =
      against(latency("no-op call, worker_reuse \"never\", back to back", b2bNever), anyB2b);

  // The "any" unit's calls while the "never" unit is called back to back from another
  // connection, so that a replacement worker is starting in airlockd most of the time: what a
  // unit starting workers costs another unit's calls (a start that held the event loop until the
  // child exec'd made each of them wait for it).
  std::atomic<bool> stop{false}, started{false};
  std::atomic<uint64_t> neverCalls{0};
  std::thread churn([&]() { neverCalls = callUntil(broker, "bench1", stop, started); });
  while (!started) usleep(1000);
  Samples beside = measureCalls(any, io.waitScope, "noop", backToBack);
  stop = true;
  churn.join();
  auto anyBeside = against(
      latency("no-op call, worker_reuse \"any\", back to back, while the \"never\" unit is "
              "called back to back (" + std::to_string(neverCalls.load()) + " fresh workers)",
              beside),
      anyB2b);
  return {anySpaced, neverSpaced, anyB2b, neverB2b, anyBeside};
}

}  // namespace airlock::bench
