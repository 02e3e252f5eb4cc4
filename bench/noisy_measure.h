#pragma once
// The noisy-neighbour figure: a quiet unit's call latency, first alone, then while other client
// threads flood another unit of the same airlockd.

#include <kj/async-io.h>

#include <airlock/capnp/host.capnp.h>

#include <string>

#include "bench/broker_runner.h"
#include "bench/samples.h"

namespace airlock::bench {

struct NoisyNeighbour {
  Samples unloaded;          // the quiet unit's calls with nothing else running
  Samples flooded;           // the same calls while `flooders` threads hammer the noisy unit
  double floodCallsPerSecond = 0;  // what the flooders got through meanwhile
};

// `count` sequential no-op calls on `quiet` (borrowed, on this thread's event loop), unloaded
// and then flooded; each flooder is a thread with its own airlock::Client (its own event loop
// and connection) calling `noisyUnit` back to back until the flooded samples are taken.
NoisyNeighbour measureNoisyNeighbour(const BrokerRunner& broker, rpc::Unit::Client& quiet,
                                     kj::WaitScope& waitScope, const std::string& noisyUnit,
                                     int flooders, int count);

}  // namespace airlock::bench
