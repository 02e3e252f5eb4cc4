// airlock-bench-rpc: one of airlock-bench's per-call exchanges alone, for a fixed number of calls,
// so that what is counted from outside the processes (syscalls with strace, instructions with
// callgrind) divides into per-call figures that do not depend on the machine's load.
//
//   airlock-bench-rpc EXCHANGE --calls N [--in-flight K] [--pin] [--airlockd NAME]
//
// EXCHANGE is one of
//   bare         Unit.call no-op to a bare Cap'n Proto server over a socketpair (the baseline)
//   relay        the same call through a bare relay process to its bare server (the floor of a
//                mediated call: no policy, no audit)
//   relay-worker the same call through a bare relay process to a sandboxed airlock-bench-worker
//                of its own, in the bench unit's sandbox (the floor with airlockd's far end)
//   airlockd     Unit.call no-op through airlockd to a sandboxed airlock-bench-worker
//   bare-fs      Fs.open + fd pass from a bare Cap'n Proto server (the baseline)
//   airlockd-fs  brokered fs.open calls made by the worker (its open-loop method)
// Each exchange is warmed up with WARM_UP calls first. --in-flight (default 1) keeps K calls
// outstanding (no-op exchanges only). --airlockd runs another broker binary from this directory,
// e.g. a wrapper that starts airlockd under valgrind.
//
// Prints the pids of the processes taking part, the seconds and calls/s of the measured calls,
// and per call the CPU time and context switches of each process during them (all threads, from
// /proc/PID/task/*/schedstat and status).
// Counting a whole run includes start-up: take two runs with different N and divide the
// difference by the difference in calls (docs/PERFORMANCE.md shows the commands).

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kj/async-io.h>
#include <kj/debug.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bare_servers.h"
#include "bench/broker_runner.h"
#include "bench/child_process.h"
#include "bench/process_cpu.h"
#include "bench/rpc_measure.h"
#include "bench/sandboxed_relay.h"
#include "bench/self_dir.h"

namespace airlock::bench {
namespace {

constexpr int WARM_UP = 200;

struct Options {
  std::string exchange;
  int calls = 10000;
  int inFlight = 1;
  bool pin = false;
  std::string airlockd = "airlockd";
};

std::pair<kj::AutoCloseFd, kj::AutoCloseFd> socketPair() {
  int fds[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

struct Party {
  std::string role;
  pid_t pid;
  ProcessCpu before;
};

// Runs `measured` between two readings of every party's context switches and prints the result.
template <typename Measured>
void report(const Options& options, std::vector<Party> parties, Measured&& measured) {
  printf("exchange %s calls %d in_flight %d\n", options.exchange.c_str(), options.calls,
         options.inFlight);
  for (auto& party : parties) {
    printf("pid %s %d\n", party.role.c_str(), party.pid);
    party.before = processCpuOf(party.pid);
  }
  fflush(stdout);  // the pids, for attaching a profiler while the calls run
  double seconds = measured();
  printf("seconds %.3f calls_per_s %.0f\n", seconds, options.calls / seconds);
  for (auto& party : parties) {
    ProcessCpu after = processCpuOf(party.pid);
    printf("per_call %s cpu_us %.2f voluntary_switches %.2f involuntary_switches %.2f\n",
           party.role.c_str(), double(after.cpuNanos - party.before.cpuNanos) / 1e3 / options.calls,
           double(after.voluntary - party.before.voluntary) / options.calls,
           double(after.involuntary - party.before.involuntary) / options.calls);
  }
  fflush(stdout);
}

double callsSeconds(rpc::Unit::Client& unit, kj::WaitScope& waitScope, const Options& options) {
  if (options.inFlight > 1) {
    return measureCallsInFlight(unit, waitScope, "noop", options.inFlight, options.calls);
  }
  auto start = std::chrono::steady_clock::now();
  measureCalls(unit, waitScope, "noop", options.calls);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const Options& options) {
  std::string bin = selfDir();
  pid_t self = getpid();
  if (options.exchange == "bare" || options.exchange == "bare-fs") {
    auto [mine, theirs] = socketPair();
    bool fs = options.exchange == "bare-fs";
    auto server = fs ? startBareFs(kj::mv(theirs)) : startBareUnit(kj::mv(theirs));
    auto io = kj::setupAsyncIo();
    auto stream =
        fs ? io.lowLevelProvider->wrapUnixSocketFd(mine.get()) : airlockStream(io, mine.get());
    // As in airlock-bench: a capability stream only where the exchange passes an fd.
    auto client = fs ? kj::heap<capnp::TwoPartyClient>(*stream, 4)
                     : kj::heap<capnp::TwoPartyClient>(*stream);
    std::vector<Party> parties{{"host", self, {}}, {"server", server.pid(), {}}};
    if (fs) {
      auto bareFs = client->bootstrap().castAs<rpc::Fs>();
      std::string file = "/etc/hostname";  // any small readable file, like airlockd-fs's
      measureFdPass(bareFs, io.waitScope, file, WARM_UP);
      report(options, parties, [&]() {
        auto start = std::chrono::steady_clock::now();
        measureFdPass(bareFs, io.waitScope, file, options.calls);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      });
    } else {
      auto unit = client->bootstrap().castAs<rpc::Unit>();
      measureCalls(unit, io.waitScope, "noop", WARM_UP);
      report(options, parties, [&]() { return callsSeconds(unit, io.waitScope, options); });
    }
    return 0;
  }
  if (options.exchange == "relay") {
    auto [onwardMine, onwardTheirs] = socketPair();
    auto server = startBareUnit(kj::mv(onwardTheirs));
    auto [mine, theirs] = socketPair();
    auto relay = startBareRelay(kj::mv(theirs), kj::mv(onwardMine));
    auto io = kj::setupAsyncIo();
    auto stream = airlockStream(io, mine.get());
    capnp::TwoPartyClient client(*stream);
    auto unit = client.bootstrap().castAs<rpc::Unit>();
    measureCalls(unit, io.waitScope, "noop", WARM_UP);
    std::vector<Party> parties{
        {"host", self, {}}, {"relay", relay.pid(), {}}, {"server", server.pid(), {}}};
    report(options, parties, [&]() { return callsSeconds(unit, io.waitScope, options); });
    return 0;
  }
  if (options.exchange == "relay-worker") {
    auto [mine, theirs] = socketPair();
    auto relay = startRelayToSandboxedWorker(kj::mv(theirs), benchWorkerSandbox(bin));
    auto io = kj::setupAsyncIo();
    auto stream = airlockStream(io, mine.get());
    capnp::TwoPartyClient client(*stream);
    auto unit = client.bootstrap().castAs<rpc::Unit>();
    measureCalls(unit, io.waitScope, "noop", WARM_UP);
    std::vector<Party> parties{{"host", self, {}}, {"relay", relay.pid(), {}}};
    for (pid_t child : childrenOf(relay.pid())) parties.push_back({"worker", child, {}});
    report(options, parties, [&]() { return callsSeconds(unit, io.waitScope, options); });
    return 0;
  }
  KJ_REQUIRE(options.exchange == "airlockd" || options.exchange == "airlockd-fs",
             "unknown exchange", options.exchange);
  auto io = kj::setupAsyncIo();
  BrokerRunner broker(bin, 1, 1, options.airlockd);
  auto unit = broker.connect(io, "bench");
  measureCalls(unit, io.waitScope, "noop", WARM_UP);
  std::vector<Party> parties{{"host", self, {}}, {"airlockd", broker.pid(), {}}};
  for (pid_t child : childrenOf(broker.pid())) parties.push_back({"worker", child, {}});
  if (options.exchange == "airlockd") {
    report(options, parties, [&]() { return callsSeconds(unit, io.waitScope, options); });
    return 0;
  }
  std::string file = broker.filesDir() + "/small.txt";
  auto openLoop = [&](int count) {
    auto request = unit.callRequest();
    request.setMethod("open-loop");
    std::string payload = std::to_string(count) + " " + file;
    request.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()),
                                    payload.size()));
    auto response = request.send().wait(io.waitScope);
    KJ_REQUIRE(response.getResult().isOk(), response.getResult().getError().getMessage());
  };
  openLoop(WARM_UP);
  report(options, parties, [&]() {
    auto start = std::chrono::steady_clock::now();
    openLoop(options.calls);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  return 0;
}

}  // namespace
}  // namespace airlock::bench

int main(int argc, char** argv) {
  airlock::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--calls") && i + 1 < argc) {
      options.calls = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--in-flight") && i + 1 < argc) {
      options.inFlight = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--pin")) {
      options.pin = true;
    } else if (!strcmp(argv[i], "--airlockd") && i + 1 < argc) {
      options.airlockd = argv[++i];
    } else if (argv[i][0] != '-' && options.exchange.empty()) {
      options.exchange = argv[i];
    } else {
      options.exchange.clear();
      break;
    }
  }
  if (options.exchange.empty() || options.calls <= 0 || options.inFlight <= 0) {
    fprintf(stderr, "usage: airlock-bench-rpc bare|relay|relay-worker|airlockd|bare-fs|airlockd-fs "
                    "--calls N [--in-flight K] [--pin] [--airlockd NAME]\n");
    return 2;
  }
  if (options.pin && !airlock::bench::pinToFirstCpu("airlock-bench-rpc")) return 1;
  int status = 1;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
                status = airlock::bench::run(options);
              })) {
    fprintf(stderr, "airlock-bench-rpc: %s\n", exception->getDescription().cStr());
  }
  return status;
}
