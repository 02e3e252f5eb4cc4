#pragma once
// The floor of a mediated call (issue 15): the same no-op Unit.call made straight to a bare
// Cap'n Proto server, through a bare relay process (bench/bare_servers.h), through a bare relay
// to airlockd's own sandboxed worker (bench/sandboxed_relay.h), and through airlockd, in the same
// run, with airlockd's figures given as ratios to both relays'.

#include <sys/types.h>

#include <kj/async-io.h>
#include <kj/io.h>

#include <airlock/capnp/host.capnp.h>

#include <string>
#include <vector>

#include "bench/child_process.h"
#include "bench/samples.h"

namespace airlock::bench {

// The bare paths' processes: a bare Unit server for the direct call, a bare relay in front of a
// bare Unit server of its own, and a bare relay in front of a sandboxed airlock-bench-worker (from
// `binDir`) of its own, each on a socketpair whose other end this object keeps.
class FloorProcesses {
 public:
  // Forks all four (the worker is the last relay's child). Call before this process starts a kj
  // event loop (ChildProcess's rule).
  explicit FloorProcesses(const std::string& binDir);

  int directFd() const { return directEnd_.get(); }  // connected to the direct server
  int relayFd() const { return relayEnd_.get(); }    // connected to the relay
  pid_t relayPid() const { return relay_.pid(); }
  int workerRelayFd() const { return workerRelayEnd_.get(); }  // to the sandboxed worker's relay
  pid_t workerRelayPid() const { return workerRelay_.pid(); }

 private:
  struct SocketPair {
    kj::AutoCloseFd mine, theirs;
  };
  static SocketPair socketPair();
  FloorProcesses(SocketPair direct, SocketPair onward, SocketPair relay, SocketPair workerRelay,
                 const std::string& binDir);

  kj::AutoCloseFd directEnd_, relayEnd_, workerRelayEnd_;
  // Declared (so forked) in this order: each server exists before anything calls it.
  ChildProcess directServer_, relayServer_, relay_, workerRelay_;
};

// Measures, interleaved so that the machine's drift hits the four paths alike:
// - `n` sequential calls on each path, one call to each in turn (p50 / p99);
// - throughput with 16 calls in flight, in rounds of a fixed number of calls per path, the paths'
//   order rotating each round (the median round);
// - the relays' and airlockd's own CPU per call over those rounds (every thread, from /proc).
// `brokered` is a connected no-op unit of the airlockd whose pid is `airlockdPid`. Returns the
// rows, airlockd's judged against the targets (p50 <= 1.10x relay, 16 in flight >= 0.95x
// relay) and given again as ratios to the relay to a sandboxed worker (not judged): the bench
// reports them, nothing asserts them.
std::vector<Figure> relayFloorFigures(const FloorProcesses& floor, rpc::Unit::Client& brokered,
                                      pid_t airlockdPid, kj::AsyncIoContext& io, int n);

}  // namespace airlock::bench
