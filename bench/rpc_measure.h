#pragma once
// The client side of the latency and throughput measurements, shared by the brokered and the bare
// runs so both send exactly the same requests.

#include <kj/async-io.h>

#include <airlock/capnp/host.capnp.h>
#include <airlock/capnp/worker.capnp.h>

#include <string>

#include "bench/samples.h"

namespace airlock::bench {

// `count` sequential Unit.call(method, 16-byte payload) round trips.
Samples measureCalls(rpc::Unit::Client& unit, kj::WaitScope& waitScope, const std::string& method,
                     int count);

// Calls completed per second with `inFlight` calls outstanding at all times, over `duration`.
double measureCallsPerSecond(rpc::Unit::Client& unit, kj::AsyncIoContext& io,
                             const std::string& method, int inFlight, kj::Duration duration);

// Seconds to complete `count` calls with up to `inFlight` outstanding at all times: the same
// exchange as measureCallsPerSecond, but a fixed amount of work, so that counts taken from
// outside (syscalls, instructions, context switches) divide into per-call figures.
double measureCallsInFlight(rpc::Unit::Client& unit, kj::WaitScope& waitScope,
                            const std::string& method, int inFlight, int count);

// `count` sequential Fs.open(path) round trips, each receiving and closing the fd.
Samples measureFdPass(rpc::Fs::Client& fs, kj::WaitScope& waitScope, const std::string& path,
                      int count);

// Calls `method` of the unit with `payload` and reads its answer as the worker's own timings:
// little-endian int64 nanoseconds, one per operation it timed.
Samples workerTimed(rpc::Unit::Client& unit, kj::WaitScope& waitScope, const std::string& method,
                    const std::string& payload);

// `count` open(2)+close(2) of `path`.
Samples measureDirectOpen(const std::string& path, int count);

// `count` 64-byte write+read round trips on a socket whose peer echoes.
Samples measureRawRoundTrip(int socket, int count);

}  // namespace airlock::bench
