#include "bench/worker_reuse_measure.h"

#include <unistd.h>

#include <algorithm>

#include "bench/broker_runner.h"
#include "bench/rpc_measure.h"

namespace airlock::bench {

namespace {

// Between two calls: longer than a sandboxed worker takes to start on this machine, so that the
// "never" unit's replacement is ready when its next call arrives, and so that neither unit's call
// meets the other's replacement starting (a start holds airlockd's event loop until the child
// has exec'd: the back-to-back rows show what that costs).
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
  return {anySpaced, neverSpaced, anyB2b, neverB2b};
}

}  // namespace airlock::bench
