// airlock-bench: the cost of brokered calls, each beside its baseline measured in the same run,
// on the same machine, with the same process layout. `airlock-bench --help` (HELP below) is its
// reference, verbatim in docs/cli.md.

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kj/async-io.h>
#include <kj/debug.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/audit_measure.h"
#include "bench/bare_servers.h"
#include "bench/broker_runner.h"
#include "bench/brokered_syscalls_measure.h"
#include "bench/child_process.h"
#include "bench/noisy_measure.h"
#include "bench/policy_measure.h"
#include "bench/process_cpu.h"
#include "bench/relay_floor.h"
#include "bench/rpc_measure.h"
#include "bench/seccomp_measure.h"
#include "bench/self_dir.h"
#include "bench/spawn_measure.h"
#include "bench/resources_measure.h"
#include "bench/worker_reuse_measure.h"

namespace airlock::bench {
namespace {

struct Options {
  std::string json;
  // On a small VM a wake-up across CPUs costs ~20 us, so latencies are given both ways.
  bool pin = false;
  int iterations = 3000;
  int auditRecords = 1000000;  // records in the log `audit verify` is timed on
  bool auditCostOnly = false;
  bool onlyNoisyNeighbour = false;
  bool onlyRelayFloor = false;
  bool onlyBrokeredSyscalls = false;
  bool onlySeccompProfile = false;
  bool onlyWorkerReuse = false;
  bool onlyResources = false;
  std::string seccompProfile = AIRLOCK_BENCH_SECCOMP_PROFILE;
};

constexpr char USAGE[] =
    "usage: airlock-bench [--json FILE] [--pin] [--iterations N] [--audit-records N]\n"
    "                     [--seccomp-profile FILE]\n"
    "                     [--audit-cost-only | --noisy-neighbour-only | --relay-floor-only |\n"
    "                      --seccomp-profile-only | --brokered-syscalls-only |\n"
    "                      --worker-reuse-only | --resources-only]\n";

constexpr char HELP[] =
    "\n"
    "Measures calls through a real airlockd (policy, audit, sandboxed workers), each beside its\n"
    "baseline measured in the same run, and prints one row per figure with its ratio to the\n"
    "baseline and the issue's target (docs/PERFORMANCE.md). It only reports: whatever the\n"
    "figures, a completed run exits 0.\n"
    "\n"
    "options:\n"
    "  --json FILE             also write the rows to FILE as JSON\n"
    "  --pin                   run this process and every process it starts (airlockd, workers,\n"
    "                          baselines) on CPU 0\n"
    "  --iterations N          sequential calls per latency figure (default 3000)\n"
    "  --audit-records N       records in the log `audit verify` is timed on (default 1000000)\n"
    "  --audit-cost-only       only what the audit adds to a brokered no-op call (alternating\n"
    "                          calls to airlockd and airlockd-unsafe-audit-off)\n"
    "  --noisy-neighbour-only  only a quiet unit's latency, alone and while another is flooded\n"
    "  --relay-floor-only      only the floor of a mediated call: the same no-op call direct to a\n"
    "                          bare Cap'n Proto server, through a bare relay process, through a\n"
    "                          bare relay to a sandboxed airlock-bench-worker, and through\n"
    "                          airlockd, interleaved; airlockd's p50 and 16-in-flight throughput\n"
    "                          as ratios to both relays'\n"
    "  --seccomp-profile-only  only what a seccomp profile costs a worker: the filter of the\n"
    "                          default groups and the one with what the profile is granted,\n"
    "                          each compiled, installed, and timed on getppid() in a loop\n"
    "  --seccomp-profile FILE  the profile for those rows (default: the ~360-syscall\n"
    "                          Docker-format test profile, tests/data/seccomp/docker-default.json)\n"
    "  --brokered-syscalls-only  only transparent brokering: a worker's own open(2) and stat(2)\n"
    "                          with broker_syscalls, against the same calls unsandboxed and the\n"
    "                          SDK's fs.open; python3 importing json, email and http.client under\n"
    "                          airlock run, against the same command unsandboxed\n"
    "  --worker-reuse-only     only what worker_reuse = \"never\" costs a no-op call against\n"
    "                          \"any\", two units of one airlockd: alternating, calls 200 ms\n"
    "                          apart (slower than a fresh worker starts), then back to back\n"
    "  --resources-only        only [resources]: a quiet unit's latency alone and while a\n"
    "                          neighbour burns every CPU (no limit, cpu_max_percent = 50,\n"
    "                          cpu_weight = 1), and a worker's start in a cgroup leaf against\n"
    "                          the same start without one\n"
    "  -h, --help              print this help\n"
    "\n"
    "exit status: 0 measured, 1 a measurement or --pin failed, 2 on a usage error.\n";

// The seccomp rows: children forked per filter and sample, each timing this many getppid() calls.
constexpr int SECCOMP_SAMPLES = 200;
constexpr int SECCOMP_CALLS = 20000;

// Client threads flooding the noisy unit: more than the 2 CPUs of the machines we measure on,
// so they would use every cycle the broker lets them.
constexpr int FLOODERS = 16;

std::pair<kj::AutoCloseFd, kj::AutoCloseFd> socketPair() {
  int fds[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

// What the report says after a judged row's target; nothing for the rows the bench does not judge.
const char* verdict(TargetMet met) {
  switch (met) {
    case TargetMet::YES: return ": met";
    case TargetMet::NO: return ": NOT met";
    case TargetMet::NOT_JUDGED: break;
  }
  return "";
}

void print(const std::vector<Figure>& figures) {
  printf("%-48s %10s %10s %12s  %-8s %s\n", "figure", "p50", "p99", "value", "ratio", "target");
  for (auto& f : figures) {
    if (f.unit == "us") {
      printf("%-48s %8.1fus %8.1fus %12s", f.name.c_str(), f.p50, f.p99, "");
    } else {
      printf("%-48s %10s %10s %9.1f %-3s", f.name.c_str(), "", "", f.value, f.unit.c_str());
    }
    if (!f.baseline.empty()) {
      printf("  %5.2fx   %s%s (vs %s)\n", f.ratio, f.target.c_str(), verdict(f.met),
             f.baseline.c_str());
    } else {
      printf("  %-8s %s%s\n", "", f.target.c_str(), verdict(f.met));
    }
  }
}

void writeJson(const std::string& path, const std::vector<Figure>& figures, bool pinned) {
  nlohmann::ordered_json out;
  out["pinned"] = pinned;
  out["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
  for (auto& f : figures) {
    nlohmann::ordered_json row;
    row["name"] = f.name;
    row["unit"] = f.unit;
    if (f.unit == "us") {
      row["p50"] = f.p50;
      row["p99"] = f.p99;
    } else {
      row["value"] = f.value;
    }
    if (!f.baseline.empty()) {
      row["baseline"] = f.baseline;
      row["ratio"] = f.ratio;
    }
    if (!f.target.empty()) row["target"] = f.target;
    if (f.met != TargetMet::NOT_JUDGED) row["met"] = f.met == TargetMet::YES;
    out["figures"].push_back(row);
  }
  std::ofstream(path) << out.dump(2) << "\n";
}

// What the audit (format, chain hash, write(2), group commit off the loop) adds to a brokered
// no-op call: the same calls to airlockd and to airlockd-unsafe-audit-off (bench/CMakeLists.txt),
// alternating one call each so that drift in the machine hits both alike.
std::vector<Figure> auditCostFigures(const std::string& bin, kj::AsyncIoContext& io, int n) {
  BrokerRunner audited(bin, 1, 1);
  BrokerRunner unaudited(bin, 1, 1, "airlockd-unsafe-audit-off");
  auto on = audited.connect(io, "bench");
  auto off = unaudited.connect(io, "bench");
  measureCalls(on, io.waitScope, "noop", 200);
  measureCalls(off, io.waitScope, "noop", 200);
  Samples withAudit, withoutAudit;
  ProcessCpu onBefore = processCpuOf(audited.pid()), offBefore = processCpuOf(unaudited.pid());
  for (int i = 0; i < n; ++i) {
    bool onFirst = i % 2 == 0;
    (onFirst ? withAudit : withoutAudit).append(measureCalls(onFirst ? on : off, io.waitScope, "noop", 1));
    (onFirst ? withoutAudit : withAudit).append(measureCalls(onFirst ? off : on, io.waitScope, "noop", 1));
  }
  auto offFigure = latency("no-op call via airlockd, audit off (unsafe)", withoutAudit);
  auto onFigure = against(latency("no-op call via airlockd, audit on (group)", withAudit), offFigure);
  Figure cost = quantity("audit cost per brokered call (on - off)", "us", 0, "< 3 us median");
  cost.p50 = onFigure.p50 - offFigure.p50;
  cost.p99 = onFigure.p99 - offFigure.p99;
  // The same difference in airlockd's own CPU (every thread, the group commit's included): what
  // the audit costs the broker, unmoved by how the two CPUs' time was shared out.
  auto cpuPerCall = [n](const ProcessCpu& before, pid_t pid) {
    return double(processCpuOf(pid).cpuNanos - before.cpuNanos) / 1e3 / n;
  };
  double onCpu = cpuPerCall(onBefore, audited.pid());
  double offCpu = cpuPerCall(offBefore, unaudited.pid());
  return {offFigure,
          onFigure,
          cost,
          quantity("airlockd CPU per no-op call, audit off (unsafe)", "us-cpu", offCpu),
          quantity("airlockd CPU per no-op call, audit on (group)", "us-cpu", onCpu),
          quantity("audit CPU per brokered call (on - off)", "us-cpu", onCpu - offCpu)};
}

// A quiet unit's latency alone and while another unit of the same broker (two units of two
// workers each) is flooded: by its own two workers sending brokered requests back to back (under
// the default request pace: the figure), then by FLOODERS host threads calling it, with and
// without a max_calls_per_second on it. The ratio is of the p99s.
void addNoisyNeighbour(const std::string& bin, kj::AsyncIoContext& io, int n,
                       std::vector<Figure>& figures) {
  struct Scenario {
    FloodSource source;
    int flooders;
    std::string floodedUnitSettings;  // [unit] lines for the flooded unit
    std::string what;
  };
  const std::string callers = "its callers (" + std::to_string(FLOODERS) + " host threads)";
  for (const auto& scenario :
       {Scenario{FloodSource::WORKERS, 2, "", "its own 2 workers (brokered fs.stat)"},
        Scenario{FloodSource::HOST_CALLERS, FLOODERS, "max_calls_per_second = 100",
                 callers + ", max_calls_per_second 100"},
        Scenario{FloodSource::HOST_CALLERS, FLOODERS, "max_calls_per_second = 1000",
                 callers + ", max_calls_per_second 1000"},
        Scenario{FloodSource::HOST_CALLERS, FLOODERS, "", callers + ", no flow limit"}}) {
    BrokerRunner broker(bin, 2, 2, "airlockd", RequestPace::POLICY_DEFAULT,
                        {{"bench1", scenario.floodedUnitSettings}});
    auto quiet = broker.connect(io, "bench0");
    auto measured = measureNoisyNeighbour(broker, quiet, io.waitScope, "bench1", scenario.source,
                                          scenario.flooders, n);
    auto unloaded = latency("quiet unit call, unloaded", measured.unloaded);
    figures.push_back(unloaded);
    auto flooded = latency("quiet unit call, neighbour flooded by " + scenario.what,
                           measured.flooded, "p99 <= 2x unloaded p99");
    flooded.baseline = unloaded.name;
    flooded.ratio = unloaded.p99 > 0 ? flooded.p99 / unloaded.p99 : 0;
    figures.push_back(flooded);
    figures.push_back(quantity(scenario.source == FloodSource::WORKERS
                                   ? "flooding workers' brokered requests meanwhile"
                                   : "flooded unit's calls served (not busy) meanwhile",
                               "/s", measured.floodCallsPerSecond));
  }
}

// Prints the rows of a run and writes them as JSON if asked; a completed run exits 0.
int report(const Options& options, const std::vector<Figure>& figures) {
  print(figures);
  if (!options.json.empty()) writeJson(options.json, figures, options.pin);
  return 0;
}

int run(const Options& options) {
  std::string bin = selfDir();
  int n = options.iterations;
  if (options.onlyRelayFloor) {
    FloorProcesses floor(bin);  // forked before this process's event loop exists
    auto io = kj::setupAsyncIo();
    BrokerRunner broker(bin, 1, 1);
    auto unit = broker.connect(io, "bench");
    return report(options, relayFloorFigures(floor, unit, broker.pid(), io, n));
  }
  if (options.onlySeccompProfile) {
    return report(options,
                  seccompProfileFigures(options.seccompProfile, SECCOMP_SAMPLES, SECCOMP_CALLS));
  }
  if (options.onlyBrokeredSyscalls || options.onlyWorkerReuse || options.onlyResources ||
      options.onlyNoisyNeighbour) {
    auto io = kj::setupAsyncIo();
    if (options.onlyBrokeredSyscalls) return report(options, brokeredSyscallFigures(bin, io, n));
    if (options.onlyWorkerReuse) return report(options, workerReuseFigures(bin, io, n));
    if (options.onlyResources) return report(options, resourcesFigures(bin, io, n));
    std::vector<Figure> figures;
    addNoisyNeighbour(bin, io, n, figures);
    return report(options, figures);
  }

  // Baseline servers are forked before this process starts its own event loop.
  auto [rawMine, rawTheirs] = socketPair();
  auto rawEcho = startRawEcho(kj::mv(rawTheirs));
  auto [unitMine, unitTheirs] = socketPair();
  auto bareUnitServer = startBareUnit(kj::mv(unitTheirs));
  auto [fsMine, fsTheirs] = socketPair();
  auto bareFsServer = startBareFs(kj::mv(fsTheirs));
  FloorProcesses floor(bin);

  auto io = kj::setupAsyncIo();
  std::vector<Figure> figures;
  if (options.auditCostOnly) return report(options, auditCostFigures(bin, io, n));

  auto raw = latency("raw socketpair 64 B round trip", measureRawRoundTrip(rawMine.get(), n));
  figures.push_back(raw);

  auto unitStream = airlockStream(io, unitMine.get());
  capnp::TwoPartyClient bareUnitClient(*unitStream);
  auto bareUnit = bareUnitClient.bootstrap().castAs<rpc::Unit>();
  measureCalls(bareUnit, io.waitScope, "noop", 200);  // warm-up
  auto bare = latency("bare capnp call, 16 B", measureCalls(bareUnit, io.waitScope, "noop", n));
  figures.push_back(bare);

  BrokerRunner broker(bin, 1, 1);
  auto unit = broker.connect(io, "bench");
  measureCalls(unit, io.waitScope, "noop", 200);
  auto hostCall = against(
      latency("host->unit no-op call via airlockd", measureCalls(unit, io.waitScope, "noop", n),
              "p50 <= 1.15x bare capnp; p99 <= 100 us"),
      bare);
  figures.push_back(hostCall);
  for (auto& figure : auditCostFigures(bin, io, n)) figures.push_back(figure);

  auto bareRate = quantity("bare capnp, 16 in flight", "calls/s",
                           measureCallsPerSecond(bareUnit, io, "noop", 16, 2 * kj::SECONDS));
  figures.push_back(bareRate);
  figures.push_back(against(
      quantity("airlockd, 16 in flight", "calls/s",
               measureCallsPerSecond(unit, io, "noop", 16, 2 * kj::SECONDS), ">= 0.85x bare"),
      bareRate));
  for (auto& figure : relayFloorFigures(floor, unit, broker.pid(), io, n)) figures.push_back(figure);

  std::string file = broker.filesDir() + "/small.txt";
  figures.push_back(latency("direct open+close", measureDirectOpen(file, n)));
  auto fsStream = io.lowLevelProvider->wrapUnixSocketFd(fsMine.get());
  capnp::TwoPartyClient bareFsClient(*fsStream, 4);
  auto bareFs = bareFsClient.bootstrap().castAs<rpc::Fs>();
  measureFdPass(bareFs, io.waitScope, file, 200);
  auto bareFd = latency("bare capnp open + fd pass", measureFdPass(bareFs, io.waitScope, file, n));
  figures.push_back(bareFd);
  figures.push_back(against(latency("worker fs.open via airlockd, fd usable",
                                    workerTimed(unit, io.waitScope, "open-loop",
                                                std::to_string(n) + " " + file),
                                    "<= 1.2x bare fd pass"),
                            bareFd));
  {
    // One unit calling another through the broker (Units.invoke), timed in the calling worker:
    // the invoke decided on both sides, audited twice, the callee's worker called.
    BrokerRunner invoking(
        bin, 2, 1, "airlockd", RequestPace::UNLIMITED,
        {{"bench0", "\n[[rule]]\nid = \"bench-invoke\"\nallow = \"invoke\"\nunit = [\"bench1\"]\n"
                    "method = [\"noop\"]\n"},
         {"bench1", "\n[[rule]]\nid = \"bench-callee\"\nallow = \"call\"\n"
                    "caller_unit = [\"bench0\"]\nmethod = [\"noop\"]\n"}});
    auto front = invoking.connect(io, "bench0");
    workerTimed(front, io.waitScope, "invoke-loop", "200 bench1");  // warm-up
    figures.push_back(against(latency("worker->unit invoke no-op via airlockd",
                                      workerTimed(front, io.waitScope, "invoke-loop",
                                                  std::to_string(n) + " bench1")),
                              hostCall));
  }

  figures.push_back(latency("policy decision, 10k rules", measureDecision(10000, 2000),
                            "< 1 us median"));
  {
    char pattern[] = "/tmp/airlock-bench-policy-XXXXXX";
    KJ_REQUIRE(mkdtemp(pattern) != nullptr, "mkdtemp");
    figures.push_back(quantity("policy load, 100 units x 1,000 rules (start-up and reload)", "s",
                               measurePolicyLoadSeconds(pattern, 100, 1000, 3), "< 1 s"));
    rmdir(pattern);
  }

  {
    char pattern[] = "/tmp/airlock-bench-audit-XXXXXX";
    KJ_REQUIRE(mkdtemp(pattern) != nullptr, "mkdtemp");
    std::string dir = pattern;
    auto append = measureAuditAppend(dir, 200000);
    auto plain = quantity("write-only JSON lines (no chain, no sync)", "rec/s", append.plainPerSecond);
    figures.push_back(plain);
    figures.push_back(against(quantity("audit append: chain, checkpoints, group commit", "rec/s",
                                       append.chainedPerSecond, ">= 50k durable rec/s"),
                              plain));
    figures.push_back(quantity("BLAKE2b-256 of a 300 B line", "us", 0));
    figures.back().p50 = figures.back().p99 = append.hashMicros;
    figures.push_back(quantity("audit verify, " + std::to_string(options.auditRecords) +
                                   " signed records",
                               "s", measureVerifySeconds(dir, options.auditRecords),
                               "< 2 s for 1M"));
    rmdir(dir.c_str());
  }

  // Restart after crash: the crash answer, then the next call answered by the replacement.
  Samples restart;
  for (int i = 0; i < 30; ++i) {
    auto crash = unit.callRequest();
    crash.setMethod("crash");
    crash.send().wait(io.waitScope);
    auto start = std::chrono::steady_clock::now();
    measureCalls(unit, io.waitScope, "noop", 1);
    restart.add(std::chrono::steady_clock::now() - start);
  }
  figures.push_back(latency("restart after crash to first served call", restart, "< 20 ms"));

  std::string worker = bin + "/airlock-bench-worker";
  int spawns = std::max(20, n / 100);
  auto forkExec = latency("fork+exec to first call",
                          measureSpawnToFirstCall(Launcher::FORK_EXEC, worker, spawns, io));
  figures.push_back(forkExec);
  auto bwrapSamples = measureSpawnToFirstCall(Launcher::BWRAP, worker, spawns, io);
  Figure bwrap = latency("bwrap --unshare-all to first call", bwrapSamples);
  if (bwrapSamples.count() > 0) figures.push_back(bwrap);
  auto sandboxed = latency("airlock sandbox spawn to first call",
                           measureSpawnToFirstCall(Launcher::AIRLOCK_SANDBOX, worker, spawns, io),
                           "<= 1.0x bwrap");
  figures.push_back(bwrapSamples.count() > 0 ? against(sandboxed, bwrap)
                                             : against(sandboxed, forkExec));

  figures.push_back(quantity("airlockd RSS, idle, 1 worker", "MiB", broker.rssKiB() / 1024.0));
  {
    BrokerRunner hundred(bin, 10, 10);
    for (int u = 0; u < 10; ++u) {
      auto many = hundred.connect(io, "bench" + std::to_string(u));
      measureCalls(many, io.waitScope, "noop", 10);  // each instance answers: all 100 are up
    }
    figures.push_back(quantity("airlockd RSS, 100 workers", "MiB", hundred.rssKiB() / 1024.0,
                               "< 32 MiB"));
  }
  addNoisyNeighbour(bin, io, n, figures);
  for (auto& figure : brokeredSyscallFigures(bin, io, n)) figures.push_back(figure);
  for (auto& figure : seccompProfileFigures(options.seccompProfile, SECCOMP_SAMPLES, SECCOMP_CALLS)) {
    figures.push_back(figure);
  }
  for (auto& figure : resourcesFigures(bin, io, n)) figures.push_back(figure);
  return report(options, figures);
}

}  // namespace
}  // namespace airlock::bench

int main(int argc, char** argv) {
  using airlock::bench::HELP;
  using airlock::bench::USAGE;
  airlock::bench::Options options;
  int onlyFlags = 0;  // the --*-only flags choose one part of the run; two make no sense
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("%s%s", USAGE, HELP);
      return 0;
    } else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
      options.json = argv[++i];
    } else if (!strcmp(argv[i], "--pin")) {
      options.pin = true;
    } else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
      options.iterations = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--audit-records") && i + 1 < argc) {
      options.auditRecords = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--audit-cost-only")) {
      options.auditCostOnly = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--noisy-neighbour-only")) {
      options.onlyNoisyNeighbour = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--relay-floor-only")) {
      options.onlyRelayFloor = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--brokered-syscalls-only")) {
      options.onlyBrokeredSyscalls = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--seccomp-profile-only")) {
      options.onlySeccompProfile = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--worker-reuse-only")) {
      options.onlyWorkerReuse = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--resources-only")) {
      options.onlyResources = true;
      ++onlyFlags;
    } else if (!strcmp(argv[i], "--seccomp-profile") && i + 1 < argc) {
      options.seccompProfile = argv[++i];
    } else {
      fprintf(stderr, "airlock-bench: unknown or incomplete option \"%s\"\n%s", argv[i], USAGE);
      return 2;
    }
  }
  if (onlyFlags > 1 || options.iterations <= 0) {
    fprintf(stderr, "airlock-bench: %s\n%s",
            onlyFlags > 1 ? "give at most one --*-only option" : "--iterations must be positive",
            USAGE);
    return 2;
  }
  if (options.pin && !airlock::bench::pinToFirstCpu("airlock-bench")) return 1;
  int status = 1;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() { status = airlock::bench::run(options); })) {
    fprintf(stderr, "airlock-bench: %s\n", exception->getDescription().cStr());
  }
  return status;
}
