#include "bench/relay_floor.h"

#include <sys/socket.h>

#include <capnp/rpc-twoparty.h>
#include <kj/debug.h>

#include <algorithm>
#include <string>

#include "bench/bare_servers.h"
#include "bench/process_cpu.h"
#include "bench/rpc_measure.h"
#include "bench/sandboxed_relay.h"

namespace airlock::bench {

namespace {

constexpr int WARM_UP = 200;
constexpr int IN_FLIGHT = 16;
// Rounds of the throughput measurement: odd, for a median, and enough that one round spoilt by
// another engineer's compiler on the shared CPUs does not move it.
constexpr int RATE_ROUNDS = 7;
// Calls per path per round: ~0.2-0.5 s of each path at the rates of this machine, long enough
// that a round's start (filling the 16 lanes) and end (draining them) are a small share of it.
constexpr int ROUND_CALLS = 10000;

// The targets for airlockd's no-op call against the relay.
constexpr double LATENCY_TARGET = 1.10;     // brokered p50 <= 1.10x the relay's
constexpr double THROUGHPUT_TARGET = 0.95;  // brokered 16 in flight >= 0.95x the relay's

struct Path {
  const char* what;
  rpc::Unit::Client* unit;
  pid_t middle;  // the process between host and server whose CPU is reported, or 0
  Samples latency;
  std::vector<double> rates;
  long long middleCpuNanos = 0;
  long long calls = 0;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// One round of ROUND_CALLS calls with IN_FLIGHT outstanding on `path`, its middle process's CPU
// read around it.
void rateRound(Path& path, kj::WaitScope& waitScope) {
  ProcessCpu before = path.middle > 0 ? processCpuOf(path.middle) : ProcessCpu{};
  double seconds = measureCallsInFlight(*path.unit, waitScope, "noop", IN_FLIGHT, ROUND_CALLS);
  if (path.middle > 0) path.middleCpuNanos += processCpuOf(path.middle).cpuNanos - before.cpuNanos;
  path.calls += ROUND_CALLS;
  path.rates.push_back(ROUND_CALLS / seconds);
}

}  // namespace

FloorProcesses::SocketPair FloorProcesses::socketPair() {
  int fds[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

FloorProcesses::FloorProcesses(const std::string& binDir)
    : FloorProcesses(socketPair(), socketPair(), socketPair(), socketPair(), binDir) {}

// The relay gets `onward.mine`: its own connection to its server, as airlockd has its own to a
// worker. Each start* takes the child's fds and closes this process's copies.
FloorProcesses::FloorProcesses(SocketPair direct, SocketPair onward, SocketPair relay,
                               SocketPair workerRelay, const std::string& binDir)
    : directEnd_(kj::mv(direct.mine)),
      relayEnd_(kj::mv(relay.mine)),
      workerRelayEnd_(kj::mv(workerRelay.mine)),
      directServer_(startBareUnit(kj::mv(direct.theirs))),
      relayServer_(startBareUnit(kj::mv(onward.theirs))),
      relay_(startBareRelay(kj::mv(relay.theirs), kj::mv(onward.mine))),
      workerRelay_(startRelayToSandboxedWorker(kj::mv(workerRelay.theirs),
                                               benchWorkerSandbox(binDir))) {}

std::vector<Figure> relayFloorFigures(const FloorProcesses& floor, rpc::Unit::Client& brokered,
                                      pid_t airlockdPid, kj::AsyncIoContext& io, int n) {
  // Stock Cap'n Proto on airlock's stream for the host's side of all three paths (BrokerRunner's
  // too), as in the other bare rows: only what is behind the host's socket differs.
  auto directStream = airlockStream(io, floor.directFd());
  capnp::TwoPartyClient directClient(*directStream);
  auto direct = directClient.bootstrap().castAs<rpc::Unit>();
  auto relayStream = airlockStream(io, floor.relayFd());
  capnp::TwoPartyClient relayClient(*relayStream);
  auto relay = relayClient.bootstrap().castAs<rpc::Unit>();
  auto workerRelayStream = airlockStream(io, floor.workerRelayFd());
  capnp::TwoPartyClient workerRelayClient(*workerRelayStream);
  auto workerRelay = workerRelayClient.bootstrap().castAs<rpc::Unit>();

  Path paths[] = {{"direct", &direct, 0, {}, {}},
                  {"relay", &relay, floor.relayPid(), {}, {}},
                  {"relay to a sandboxed worker", &workerRelay, floor.workerRelayPid(), {}, {}},
                  {"airlockd", &brokered, airlockdPid, {}, {}}};
  constexpr int PATHS = 4;
  for (auto& path : paths) measureCalls(*path.unit, io.waitScope, "noop", WARM_UP);
  // One call to each path in turn, the first of the four rotating, so that neither a path's
  // position nor the machine's drift favours one.
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < PATHS; ++k) {
      Path& path = paths[(i + k) % PATHS];
      path.latency.append(measureCalls(*path.unit, io.waitScope, "noop", 1));
    }
  }
  for (int round = 0; round < RATE_ROUNDS; ++round) {
    for (int k = 0; k < PATHS; ++k) rateRound(paths[(round + k) % PATHS], io.waitScope);
  }

  auto& [directPath, relayPath, workerRelayPath, brokeredPath] = paths;
  std::string inFlight = ", " + std::to_string(IN_FLIGHT) + " in flight";
  auto directCall = latency("floor: direct bare capnp call", directPath.latency);
  auto relayCall = against(latency("floor: bare capnp relay call", relayPath.latency), directCall);
  auto brokeredCall = against(latency("floor: no-op call via airlockd", brokeredPath.latency,
                                      "p50 <= 1.10x relay"),
                              relayCall);
  brokeredCall.met = brokeredCall.ratio <= LATENCY_TARGET ? TargetMet::YES : TargetMet::NO;
  auto workerRelayCall = against(
      latency("floor: bare capnp relay to a sandboxed worker call", workerRelayPath.latency),
      relayCall);
  auto brokeredOverWorkerRelay = against(
      latency("floor: no-op call via airlockd, against the relay to a sandboxed worker",
              brokeredPath.latency),
      workerRelayCall);
  auto directRate = quantity("floor: direct bare capnp" + inFlight, "calls/s",
                             median(directPath.rates));
  auto relayRate = against(
      quantity("floor: bare capnp relay" + inFlight, "calls/s", median(relayPath.rates)),
      directRate);
  auto brokeredRate = against(quantity("floor: airlockd" + inFlight, "calls/s",
                                       median(brokeredPath.rates), ">= 0.95x relay"),
                              relayRate);
  brokeredRate.met = brokeredRate.ratio >= THROUGHPUT_TARGET ? TargetMet::YES : TargetMet::NO;
  auto workerRelayRate = against(quantity("floor: bare capnp relay to a sandboxed worker" + inFlight,
                                          "calls/s", median(workerRelayPath.rates)),
                                 relayRate);
  auto brokeredOverWorkerRelayRate = against(
      quantity("floor: airlockd" + inFlight + ", against the relay to a sandboxed worker",
               "calls/s", median(brokeredPath.rates)),
      workerRelayRate);
  auto cpuPerCall = [](const Path& path) { return path.middleCpuNanos / 1e3 / path.calls; };
  auto relayCpu = quantity("floor: relay's CPU per call" + inFlight, "us-cpu",
                           cpuPerCall(relayPath));
  auto workerRelayCpu = quantity("floor: relay-to-sandboxed-worker's CPU per call" + inFlight,
                                 "us-cpu", cpuPerCall(workerRelayPath));
  auto brokeredCpu = against(quantity("floor: airlockd's CPU per call" + inFlight, "us-cpu",
                                      cpuPerCall(brokeredPath)),
                             relayCpu);
  return {directCall,      relayCall,    brokeredCall,  workerRelayCall,
          brokeredOverWorkerRelay, directRate, relayRate, brokeredRate,
          workerRelayRate, brokeredOverWorkerRelayRate, relayCpu, workerRelayCpu, brokeredCpu};
}

}  // namespace airlock::bench
