#pragma once
// The noisy-neighbour figures: a quiet unit's call latency, first alone, then while another unit
// of the same airlockd is flooded — by its host callers, or by its own workers.

#include <kj/async-io.h>

#include <airlock/capnp/host.capnp.h>

#include <string>

#include "bench/broker_runner.h"
#include "bench/samples.h"

namespace airlock::bench {

enum class FloodSource {
  HOST_CALLERS,  // `flooders` client threads call the noisy unit's no-op back to back
  WORKERS,       // `flooders` calls to the noisy unit's broker-flood method, one per worker:
                 // each worker sends brokered fs.stat requests back to back (the unit floods)
};

struct NoisyNeighbour {
  Samples unloaded;          // the quiet unit's calls with nothing else running
  Samples flooded;           // the same calls during the flood
  double floodCallsPerSecond = 0;  // what the flood got through meanwhile: host calls served
                                   // (not `busy`), or brokered requests from the workers
};

// `count` sequential no-op calls on `quiet` (borrowed, on this thread's event loop), unloaded
// and then flooded. Each flooding thread has its own airlock::Client (its own event loop and
// connection) to `noisyUnit`.
NoisyNeighbour measureNoisyNeighbour(const BrokerRunner& broker, rpc::Unit::Client& quiet,
                                     kj::WaitScope& waitScope, const std::string& noisyUnit,
                                     FloodSource source, int flooders, int count);

}  // namespace airlock::bench
