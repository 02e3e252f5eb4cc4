// airlockd: the broker. Loads the unit policies, starts each unit's sandboxed workers, serves
// host applications on a Unix socket and writes the audit log.

#include <grp.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/debug.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "audit/anchor_failure_watch.h"
#include "audit/audit_log.h"
#include "audit/audit_timers.h"
#include "broker/caps/fs_roots.h"
#include "broker/caps/log.h"
#include "broker/caps/secret_hash.h"
#include "broker/caps/secret_store.h"
#include "broker/caps/secrets.h"
#include "broker/host/auth_backoff.h"
#include "broker/host/seen_nonces.h"
#include "broker/reload/directory_watch.h"
#include "broker/metrics/broker_metrics.h"
#include "broker/metrics/metrics_endpoint.h"
#include "broker/metrics/metrics_server.h"
#include "broker/reload/reloader.h"
#include "broker/server/allocator_tunables.h"
#include "broker/server/host_listener.h"
#include "broker/server/service_manager.h"
#include "broker/state/policy_set.h"
#include "broker/resources/resource_groups.h"
#include "broker/state/routing.h"
#include "broker/supervisor/unit_pool.h"
#include "sandbox/landlock.h"
#ifdef AIRLOCK_UNSAFE_BENCH_AUDIT_OFF
#include "audit/unsafe_audit_off.h"
#endif

namespace {

// Shutdown: how often a draining broker looks at its in-flight count, and how long past the
// longest call timeout it waits for the last answers.
constexpr int64_t DRAIN_POLL_MS = 5;
constexpr int64_t DRAIN_MARGIN_MS = 1000;
// Past the drain deadline the calls still in flight are answered at once (Routing::callsCutOff);
// their answers and records take a few turns of the loop. Bounded all the same: what is not done
// by then is logged, and its connection closed before the closing checkpoint.
constexpr int64_t CUT_OFF_GRACE_MS = 1000;

const char USAGE[] = R"(usage: airlockd --policies DIR --socket PATH --audit FILE --key FILE --client-keys DIR [options]

Runs the airlock broker: loads every *.toml unit policy in DIR, starts each unit's workers in the
sandbox, serves host applications on the Unix socket PATH, and appends one JSON record per
decision to the audit log FILE. Every host connection authenticates first: a mutual Ed25519
challenge-response between the client's key (its NAME.pub in --client-keys) and the broker's
--key, whose public half clients pin (see SECURITY.md, "Host authentication").

options:
  --policies DIR         directory of unit policy files (*.toml)               (required)
  --socket PATH          Unix socket for host applications; mode 0600          (required)
  --audit FILE           audit log (JSON Lines), created 0600 or appended to   (required)
  --workers DIR          where relative `worker = "..."` names are found (default:
                         )" AIRLOCK_WORKERS_FROM_BINDIR R"( from airlockd's directory, i.e.
                         PREFIX/lib/airlock/workers for PREFIX/bin/airlockd)
  --define NAME=VALUE    value for ${NAME} in policy paths (repeatable)
  --socket-group GROUP   make the socket 0660 with this group (a name, or a number as in a
                         container without the group in /etc/group) instead of 0600
  --key FILE             the broker's Ed25519 private key (from `airlock keygen --out
                         PREFIX`): its identity in the host handshake (clients pin
                         PREFIX.pub) and the signer of audit checkpoints. Mode 0600, owned
                         by airlockd's user                                    (required)
  --client-keys DIR      the host clients: one NAME.pub per client (from `airlock keygen
                         --client NAME`); NAME is what policies call `caller`. Read at
                         start-up and on reload: to revoke a key, remove its file and
                         reload; its open sessions are refused from then on   (required)
  --secrets DIR          the secret store for secrets.get: one file per secret, named as
                         policies name it (`name = [...]`), each mode 0600 and owned by
                         airlockd's user; any other file stops start-up. Without it every
                         secrets.get fails
  --checkpoint-every N   write a signed checkpoint after every N records     (default 1000)
  --checkpoint-ms T      ... and within T ms of any record not yet covered   (default 1000)
  --anchor FILE          also append every checkpoint to FILE (keep a copy off this host);
                         needs --key
  --anchor-command CMD   also hand every checkpoint to `/bin/sh -c CMD` on its stdin, one
                         run per batch of checkpoints, off the event loop, killed after
                         10 s; e.g. "ssh logs@vault 'cat >> anchor.jsonl'". A failed run
                         is an anchor.failed record; its checkpoints go to the next run
  --sync MODE            group: fdatasync the log at most --sync-window-ms after a record
                         (group commit); always: fdatasync each record before its answer
                         leaves                                              (default group)
  --sync-window-ms T     group commit window                                 (default 5)
  --audit-rotate-bytes N before a record would take the audit log past N bytes, close it
                         (closing checkpoint), rename it FILE.<first seq, 20 digits> and
                         go on in a new FILE that continues its chain; 0: never (default 0)
  --handshake-timeout-ms T
                         close a connection that has not authenticated T ms
                         after connecting (audited as handshake timeout)      (default 30000)
  --watch-policies       also reload (as on SIGHUP) when --policies or --client-keys
                         changes: a file written and closed, renamed, removed, or the
                         `..data` link of a Kubernetes ConfigMap or Secret volume swapped;
                         once they have been quiet for 200 ms, one reload per change
  --metrics PATH|ADDR:PORT
                         serve Prometheus metrics (GET /metrics; docs/metrics.md) on
                         the Unix socket PATH (mode 0600) or on TCP ADDR:PORT (an IP
                         address or localhost; port 0: any free one, logged); off
                         without it
  --metrics-allow-remote let --metrics listen on an address that is not loopback;
                         without it such an address is a usage error
  --refuse-learn         refuse (at start and on every reload) a policy set with a unit in
                         mode = "learn": for production, where nothing may be learned
  --landlock-abi-max N   use at most Landlock ABI N (0..7), as if the kernel offered no
                         newer one; 0: none, so units that require Landlock stop and
                         best-effort ones run without it (for a kernel whose newer ABI
                         misbehaves, or to rehearse one without Landlock)
  --help                 this text

On SIGHUP it reloads (as --watch-policies does on a change): re-reads --policies and
--client-keys; a set with any error is refused whole (each error logged and audited) and the
one in force stays; a good one takes effect between two calls, nothing dropped: calls already
dispatched finish under the revision they started with. Units whose worker, instances or
sandbox paths changed get new workers.
On SIGTERM or SIGINT (or an admin's `airlock drain`) it drains, then stops: the socket is removed so no new client connects,
calls on open connections are refused as "unit unavailable", calls already dispatched finish
(waiting at most the longest call_timeout_ms plus 1 s) and get their audit records; then workers
are killed, broker.stop is audited and a closing checkpoint signed.
Under a service manager (systemd; see docs/deploy.md): with NOTIFY_SOCKET set it sends READY=1
once the socket answers handshakes, STATUS= lines, and STOPPING=1 when it drains; with
LISTEN_PID set to its pid and LISTEN_FDS=1 it serves on the listening socket at fd 3, which must
be an AF_UNIX stream socket bound to --socket, and leaves that socket file alone when it stops.
Exit status: 0 after a clean stop, 1 if policies, audit log or socket cannot be set up, 2 on a
usage error.
)";

struct Options {
  std::string policies, socket, audit, workers;
  std::map<std::string, std::string> defines;
  std::string socketGroup;
  std::string key, anchor, anchorCommand, clientKeys, secrets;
  uint64_t checkpointEvery = 1000;
  uint64_t checkpointMs = 1000;
  airlock::audit::SyncMode sync = airlock::audit::SyncMode::GROUP;
  uint64_t syncWindowMs = 5;
  uint64_t auditRotateBytes = 0;
  uint64_t handshakeTimeoutMs = 30000;
  bool refuseLearn = false;
  std::optional<int> landlockAbiMax;
  bool watchPolicies = false;
  std::string metricsText;
  bool metricsAllowRemote = false;
  std::optional<airlock::broker::metrics::MetricsEndpoint> metrics;  // from the two above
};

[[noreturn]] void usageError(const std::string& message) {
  fprintf(stderr, "airlockd: %s\n(see airlockd --help)\n", message.c_str());
  exit(2);
}

uint64_t wholeNumber(const std::string& option, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-') {
    usageError(option + " needs a whole number, not \"" + text + "\"");
  }
  return value;
}

uint64_t positiveNumber(const std::string& option, const std::string& text) {
  uint64_t value = wholeNumber(option, text);
  if (value == 0) usageError(option + " needs a positive whole number, not \"" + text + "\"");
  return value;
}

std::string directoryOf(const char* argv0) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string path = n > 0 ? std::string(self, n) : std::string(argv0);
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The default --workers: AIRLOCK_WORKERS_FROM_BINDIR (set at build time, relative) from the
// directory airlockd is in, so PREFIX/bin/airlockd finds PREFIX/lib/airlock/workers wherever the
// tree was installed or moved. Resolved to its real path because the build tree reaches bin/
// through a link (cmake/AirlockLayout.cmake) and the launcher mounts the worker by its path; if
// the directory is missing the plain path stays, so the "not found at" error names it.
std::string defaultWorkersDir(const char* argv0) {
  std::filesystem::path dir =
      (std::filesystem::path(directoryOf(argv0)) / AIRLOCK_WORKERS_FROM_BINDIR).lexically_normal();
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(dir, ec);
  return ec ? dir.string() : real.string();
}

// --metrics as an endpoint, if given; a usage error if it is not one, or not loopback without
// --metrics-allow-remote.
std::optional<airlock::broker::metrics::MetricsEndpoint> metricsEndpoint(const std::string& text,
                                                                         bool allowRemote) {
  using namespace airlock::broker::metrics;
  if (text.empty()) return std::nullopt;
  std::string error;
  auto remote = allowRemote ? RemoteScrapes::ALLOWED : RemoteScrapes::REFUSED;
  KJ_IF_MAYBE(endpoint, parseMetricsEndpoint(text, remote, error)) { return *endpoint; }
  usageError(error);
}

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      fputs(USAGE, stdout);
      exit(0);
    } else if (arg == "--refuse-learn") {
      options.refuseLearn = true;
    } else if (arg == "--landlock-abi-max") {
      uint64_t most = wholeNumber(arg, value());
      if (most > static_cast<uint64_t>(airlock::sandbox::MAX_KNOWN_LANDLOCK_ABI)) {
        usageError(arg + " is at most " +
                   std::to_string(airlock::sandbox::MAX_KNOWN_LANDLOCK_ABI) +
                   ", the newest Landlock ABI airlockd knows");
      }
      options.landlockAbiMax = static_cast<int>(most);
    } else if (arg == "--watch-policies") {
      options.watchPolicies = true;
    } else if (arg == "--metrics") {
      options.metricsText = value();
    } else if (arg == "--metrics-allow-remote") {
      options.metricsAllowRemote = true;
    } else if (arg == "--policies") {
      options.policies = value();
    } else if (arg == "--socket") {
      options.socket = value();
    } else if (arg == "--audit") {
      options.audit = value();
    } else if (arg == "--workers") {
      options.workers = value();
    } else if (arg == "--socket-group") {
      options.socketGroup = value();
    } else if (arg == "--key") {
      options.key = value();
    } else if (arg == "--client-keys") {
      options.clientKeys = value();
    } else if (arg == "--secrets") {
      options.secrets = value();
    } else if (arg == "--anchor") {
      options.anchor = value();
    } else if (arg == "--anchor-command") {
      options.anchorCommand = value();
      if (options.anchorCommand.empty()) usageError("--anchor-command needs a command");
    } else if (arg == "--checkpoint-every") {
      options.checkpointEvery = positiveNumber(arg, value());
    } else if (arg == "--checkpoint-ms") {
      options.checkpointMs = positiveNumber(arg, value());
    } else if (arg == "--handshake-timeout-ms") {
      options.handshakeTimeoutMs = positiveNumber(arg, value());
    } else if (arg == "--sync-window-ms") {
      options.syncWindowMs = positiveNumber(arg, value());
    } else if (arg == "--audit-rotate-bytes") {
      options.auditRotateBytes = wholeNumber(arg, value());
    } else if (arg == "--sync") {
      std::string mode = value();
      if (mode == "group") {
        options.sync = airlock::audit::SyncMode::GROUP;
      } else if (mode == "always") {
        options.sync = airlock::audit::SyncMode::ALWAYS;
      } else {
        usageError("--sync is group or always, not \"" + mode + "\"");
      }
    } else if (arg == "--define") {
      std::string definition = value();
      auto eq = definition.find('=');
      if (eq == std::string::npos || eq == 0) usageError("--define needs NAME=VALUE");
      options.defines[definition.substr(0, eq)] = definition.substr(eq + 1);
    } else {
      usageError("unknown option " + arg);
    }
  }
  if (options.policies.empty()) usageError("--policies is required");
  if (options.socket.empty()) usageError("--socket is required");
  if (options.audit.empty()) usageError("--audit is required");
  if (options.key.empty()) {
    usageError("--key is required: hosts authenticate the broker by it (create one with "
               "`airlock keygen --out PREFIX` and give clients PREFIX.pub)");
  }
  if (options.clientKeys.empty()) {
    usageError("--client-keys is required: every host connection authenticates with a client "
               "key from it (create one with `airlock keygen --client NAME --out DIR`)");
  }
  if (options.workers.empty()) options.workers = defaultWorkersDir(argv[0]);
  options.metrics = metricsEndpoint(options.metricsText, options.metricsAllowRemote);
  return options;
}

std::optional<gid_t> resolveGroup(const std::string& name) {
  if (name.empty()) return std::nullopt;
  struct group* entry = getgrnam(name.c_str());
  if (entry == nullptr && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() <= 9) {
    return static_cast<gid_t>(std::stoul(name));  // a pod's supplementalGroups are numbers
  }
  if (entry == nullptr) {
    fprintf(stderr, "airlockd: --socket-group: no such group \"%s\"\n", name.c_str());
    exit(1);
  }
  return entry->gr_gid;
}

// The broker's key, shared by the host handshake and the audit checkpoints. Exits 1 on a key
// that may not be used.
kj::Own<airlock::audit::SigningKey> loadBrokerKey(const Options& options) {
  std::string error;
  KJ_IF_MAYBE(key, airlock::audit::loadSigningKey(options.key, error)) { return kj::mv(*key); }
  fprintf(stderr, "airlockd: --key %s\nairlockd: not starting\n", error.c_str());
  exit(1);
}

// The secret store. Exits 1 naming each file that may not hold a secret.
kj::Own<airlock::broker::SecretStore> openSecrets(
    const Options& options, const std::vector<airlock::policy::UnitPolicy>& units) {
  using namespace airlock;
  if (options.secrets.empty()) {
    for (auto& unit : units) {
      if (unit.allowsAny(policy::Operation::SECRETS_GET)) {
        spdlog::warn("unit {} has a secrets.get rule but airlockd has no --secrets: every "
                     "secrets.get will fail", unit.name);
      }
    }
    return kj::heap<broker::NoSecretStore>();
  }
  std::vector<std::string> errors;
  auto store = broker::DirectorySecretStore::open(options.secrets, errors);
  if (!errors.empty()) {
    for (auto& error : errors) fprintf(stderr, "airlockd: --secrets %s\n", error.c_str());
    fprintf(stderr, "airlockd: not starting\n");
    exit(1);
  }
  return store;
}

// The audit log as the options ask for it; signs with `key`, which must outlive it.
kj::Own<airlock::audit::AuditLog> openAuditLog(const Options& options,
                                               airlock::audit::SigningKey& key) {
  using namespace airlock;
  audit::AuditLogOptions auditOptions;
  auditOptions.sync = options.sync;
  auditOptions.checkpointEveryRecords = options.checkpointEvery;
  auditOptions.anchorPath = options.anchor;
  auditOptions.anchorCommand = options.anchorCommand;
  auditOptions.rotateBytes = options.auditRotateBytes;
  auditOptions.key = kj::Own<audit::SigningKey>(&key, kj::NullDisposer::instance);
  auto log = audit::AuditLog::open(options.audit, audit::systemWallClock(), kj::mv(auditOptions));
#ifdef AIRLOCK_UNSAFE_BENCH_AUDIT_OFF
  // Only in airlockd-unsafe-audit-off, which bench/ builds to measure what the audit costs.
  log->discardEveryRecord(audit::unsafeAuditOffForBenchmarks());
#endif
  return log;
}

// SIGTERM drains: calls already dispatched get their answers and audit records; new calls on
// open connections are refused. Waits at most the longest unit call timeout plus a margin, after
// which the remaining workers are killed and their callers see the connection close.
void drain(airlock::broker::Routing& routing, kj::AsyncIoContext& io) {
  routing.draining = true;
  auto longest = std::chrono::milliseconds(0);
  for (auto& unit : routing.policy->units) longest = std::max(longest, unit.callTimeout);
  auto deadline = io.provider->getTimer().now() +
                  (longest.count() + DRAIN_MARGIN_MS) * kj::MILLISECONDS;
  if (routing.callsInFlight > 0) {
    spdlog::info("draining {} call(s) in flight", routing.callsInFlight);
  }
  while (routing.callsInFlight > 0 && io.provider->getTimer().now() < deadline) {
    io.provider->getTimer().afterDelay(DRAIN_POLL_MS * kj::MILLISECONDS).wait(io.waitScope);
  }
  if (routing.callsInFlight > 0) {
    spdlog::warn("drain deadline passed with {} call(s) in flight; stopping their workers",
                 routing.callsInFlight);
  }
}

// After the drain: every call still in flight is answered "airlockd is stopping" and recorded,
// while the audit log still takes records.
void answerRemainingCalls(airlock::broker::Routing& routing, kj::AsyncIoContext& io) {
  routing.callsCutOff.cut();
  auto& timer = io.provider->getTimer();
  auto until = timer.now() + CUT_OFF_GRACE_MS * kj::MILLISECONDS;
  while (routing.callsInFlight > 0 && timer.now() < until) {
    timer.afterDelay(DRAIN_POLL_MS * kj::MILLISECONDS).wait(io.waitScope);
  }
  if (routing.callsInFlight > 0) {
    spdlog::error("{} call(s) still in flight after they were answered as stopping; closing "
                  "their connections", routing.callsInFlight);
  }
}

// Raises the soft RLIMIT_NOFILE to the hard limit: Debian's default soft limit (1024) is far
// below what airlockd's own caps let workers and hosts hold (SECURITY.md, "Bounds on peers"), and
// running out of descriptors refuses everything. Workers get their own limits in the sandbox.
void raiseOpenFilesLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t was = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise RLIMIT_NOFILE from {} to {}: {}", was, limit.rlim_max,
                 strerror(errno));
    return;
  }
  spdlog::info("raised RLIMIT_NOFILE from {} to {}", was, limit.rlim_max);
}

// "a, b, c".
std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The policy set airlockd starts with. Exits 1 naming every problem.
std::shared_ptr<const airlock::broker::PolicySet> loadStartingSet(
    const airlock::broker::PolicySources& sources) {
  auto load = airlock::broker::loadPolicySet(sources);
  for (auto& warning : load.warnings) spdlog::warn("policy: {}", warning);
  if (load.set == nullptr) {
    for (auto& error : load.errors) fprintf(stderr, "%s\n", error.c_str());
    fprintf(stderr, "airlockd: %zu error(s) in policies under %s or client keys in %s; not "
            "starting\n", load.errors.size(), sources.policiesDir.c_str(),
            sources.clientKeysDir.c_str());
    exit(1);
  }
  return load.set;
}

// What airlockd tells a service manager (docs/deploy.md); nothing without one.
struct ServiceManager {
  kj::Maybe<kj::Own<airlock::broker::ServiceNotifier>> notifier;
  kj::Maybe<kj::AutoCloseFd> activatedSocket;

  void notify(const std::string& state) {
    KJ_IF_MAYBE(n, notifier) { (*n)->notify(state); }
  }
};

// Reads (and unsets) NOTIFY_SOCKET and LISTEN_*: before any thread or worker exists. Exits 1
// naming the problem if either is set for airlockd but unusable.
ServiceManager takeServiceManager(const Options& options) {
  ServiceManager manager;
  std::string error;
  manager.activatedSocket = airlock::broker::takeActivatedSocket(options.socket, error);
  if (error.empty()) manager.notifier = airlock::broker::ServiceNotifier::fromEnvironment(error);
  if (!error.empty()) {
    fprintf(stderr, "airlockd: %s\nairlockd: not starting\n", error.c_str());
    exit(1);
  }
  return manager;
}

// SIGHUP reloads, for as long as airlockd serves.
kj::Promise<void> reloadOnSighup(kj::UnixEventPort& events, airlock::broker::Reloader& reloader,
                                 ServiceManager& manager) {
  return events.onSignal(SIGHUP).then([&events, &reloader, &manager](siginfo_t info) {
    auto outcome = reloader.reload("signal:SIGHUP,pid:" + std::to_string(info.si_pid));
    manager.notify("STATUS=" + outcome.summary());
    return reloadOnSighup(events, reloader, manager);
  });
}

// --watch-policies: a reload after each complete change of the policy or client keys directory,
// recorded as asked by "watch:" and the entry that changed. Without the flag, never resolves.
kj::Promise<void> reloadOnChange(const Options& options, kj::AsyncIoContext& io,
                                 airlock::broker::Reloader& reloader, ServiceManager& manager) {
  if (!options.watchPolicies) return kj::NEVER_DONE;
  auto watch = kj::heap<airlock::broker::DirectoryWatch>(
      std::vector<airlock::broker::WatchedDirectory>{{options.policies, {".toml"}},
                                                    {options.clientKeys, {".pub", ".key"}}},
      io.unixEventPort, io.provider->getTimer());
  auto changes = watch->run([&reloader, &manager](const std::string& changed) {
    auto outcome = reloader.reload("watch:" + changed);
    manager.notify("STATUS=" + outcome.summary());
  });
  return changes.attach(kj::mv(watch));
}

// The host socket: the one a service manager passed, or a new one at --socket.
kj::Own<airlock::broker::HostListener> openHostSocket(const Options& options,
                                                      ServiceManager& manager,
                                                      kj::AsyncIoContext& io,
                                                      airlock::broker::Routing& routing) {
  using airlock::broker::HostListener;
  KJ_IF_MAYBE(fd, manager.activatedSocket) {
    spdlog::info("serving on the socket the service manager passed (fd 3, {})", options.socket);
    return kj::heap<HostListener>(kj::mv(*fd), options.socket, io, routing);
  }
  airlock::broker::SocketOptions socketOptions{options.socket, resolveGroup(options.socketGroup)};
  return kj::heap<HostListener>(socketOptions, io, routing);
}

// The --metrics endpoint, serving `metrics`, bound now; none without --metrics.
kj::Maybe<kj::Own<airlock::broker::metrics::MetricsServer>> serveMetrics(
    const Options& options, kj::Maybe<kj::Own<airlock::broker::metrics::BrokerMetrics>>& metrics,
    kj::AsyncIoContext& io, const airlock::broker::Routing& routing) {
  KJ_IF_MAYBE(counted, metrics) {
    auto server = kj::heap<airlock::broker::metrics::MetricsServer>(*options.metrics, io,
                                                                    (*counted)->registry, routing);
    spdlog::info("metrics: serving GET /metrics on {}", server->boundTo());
    return kj::mv(server);
  }
  return nullptr;
}

int serve(const Options& options, const airlock::broker::PolicySources& sources,
          ServiceManager& manager) {
  using namespace airlock;
  raiseOpenFilesLimit();  // before the host socket, which sizes its connection cap by it
  auto policySet = loadStartingSet(sources);
  auto brokerKey = loadBrokerKey(options);
  // Before the audit log, which it observes and so must outlive.
  kj::Maybe<kj::Own<broker::metrics::BrokerMetrics>> metrics;
  if (options.metrics) metrics = kj::heap<broker::metrics::BrokerMetrics>();
  auto auditLog = openAuditLog(options, *brokerKey);
  KJ_IF_MAYBE(counted, metrics) { auditLog->setObserver(&(*counted)->records); }
  auto secrets = openSecrets(options, policySet->units);
  broker::SecretHasher secretHasher;

  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGHUP);
  auto io = kj::setupAsyncIo();
  if (options.sync == audit::SyncMode::GROUP) {
    // fdatasync leaves the event loop. The sandbox launcher clones from this thread while the
    // committer runs: safe because the committer never allocates or takes a lock the child uses.
    auditLog->startGroupCommitThread(std::chrono::milliseconds(options.syncWindowMs));
  }
  audit::AuditTimers auditTimers(*auditLog, io.provider->getTimer(),
                                 options.syncWindowMs * kj::MILLISECONDS,
                                 options.checkpointMs * kj::MILLISECONDS);
  audit::AnchorFailureWatch anchorFailures(*auditLog, io.unixEventPort);

  std::map<std::string, std::shared_ptr<broker::UnitPool>> pools;
  broker::AuthBackoff backoff;
  broker::SeenNonces nonces;
  broker::HostAuth auth{*brokerKey, backoff, nonces};
  std::map<std::string, kj::Own<broker::UnitLog>> logs;
  broker::NetDialer net(io.unixEventPort, io.provider->getTimer());
  broker::Routing routing{policySet, pools,        *auditLog, io.provider->getTimer(),
                          auth,      *secrets,     secretHasher, logs, net};
  routing.handshakeTimeout = options.handshakeTimeoutMs * kj::MILLISECONDS;
  broker::Reloader reloader(routing, sources, io);
  routing.reloader = &reloader;
  // Before any worker starts: stale groups of a crashed airlockd go, and under cgroup v2
  // airlockd moves itself to a leaf of its own group.
  auto resourceGroups =
      broker::resources::openResourceGroups(broker::resources::discoverCgroupPlaces(), getpid());
  routing.resourceGroups = resourceGroups.get();

  broker::announceLearningUnits(*policySet, *auditLog);
  audit::AuditRecord start;
  start.event = "broker.start";
  start.args["pid"] = getpid();
  start.args["units"] = policySet->units.size();
  start.args["policies"] = options.policies;
  start.policyRev = policySet->revision;
  std::vector<std::string> learning = broker::learningUnits(*policySet);
  if (!learning.empty()) start.args["learning"] = learning;
  KJ_REQUIRE(auditLog->append(start), "cannot write the audit log", options.audit);

  // Before READY: a directory that cannot be watched stops start-up.
  auto watching = reloadOnChange(options, io, reloader, manager);
  // The metrics endpoint is bound first: a host socket that accepts means airlockd is ready, and
  // a scrape made then must find the endpoint there too.
  auto metricsServer = serveMetrics(options, metrics, io, routing);
  auto listener = openHostSocket(options, manager, io, routing);
  reloader.startPools();
  spdlog::info("ready: {} unit(s), policy revision {}, socket {}, audit {}, {} client key(s), "
               "broker key {}{}", policySet->units.size(), *policySet->revision, options.socket,
               options.audit, policySet->clients.all().size(), brokerKey->publicKey().hex(),
               learning.empty() ? "" : ", LEARNING unit(s): " + joinNames(learning));
  // The socket listens, so a client connecting from now on is answered once the loop runs.
  manager.notify("READY=1\nSTATUS=serving " + std::to_string(policySet->units.size()) +
                 " unit(s), policy revision " + *policySet->revision);
  policySet = nullptr;  // from here on the set in force is routing.policy's

  auto serving = listener->run()
                     .exclusiveJoin(reloadOnSighup(io.unixEventPort, reloader, manager))
                     .exclusiveJoin(kj::mv(watching));
  KJ_IF_MAYBE(server, metricsServer) { serving = serving.exclusiveJoin((*server)->run()); }
  auto byAdmin = kj::newPromiseAndFulfiller<std::string>();
  routing.requestStop = [&fulfiller = *byAdmin.fulfiller](std::string why) {
    if (fulfiller.isWaiting()) fulfiller.fulfill(kj::mv(why));
  };
  auto bySignal = [](siginfo_t info) { return std::string("signal ") + strsignal(info.si_signo); };
  auto stop = io.unixEventPort.onSignal(SIGTERM).then(bySignal)
                  .exclusiveJoin(io.unixEventPort.onSignal(SIGINT).then(bySignal))
                  .exclusiveJoin(kj::mv(byAdmin.promise));
  std::string why = serving.then([]() { return std::string("the socket stopped accepting"); })
                        .exclusiveJoin(kj::mv(stop))
                        .wait(io.waitScope);
  routing.requestStop = nullptr;
  manager.notify("STOPPING=1\nSTATUS=draining: " + std::to_string(routing.callsInFlight) +
                 " call(s) in flight (" + why + ")");
  // The join above has cancelled the accept loop and the reload loop; no new client gets in and
  // the policy stays as it is from here on.
  listener->stopAccepting();
  drain(routing, io);
  answerRemainingCalls(routing, io);
  spdlog::info("stopping: {}", why);

  // In this order, all before the closing checkpoint: the host connections go (nothing of a call
  // is left to record), then the workers are killed and reaped, each exit recorded.
  listener = nullptr;
  metricsServer = nullptr;
  pools.clear();
  audit::AuditRecord stopRecord;
  stopRecord.event = "broker.stop";
  stopRecord.reason = why;
  if (!auditLog->append(stopRecord)) {
    spdlog::error("cannot record broker.stop: the audit log refuses records ({})", options.audit);
  }
  auditLog->close();  // the closing checkpoint, then fdatasync
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // First, before any thread or fd of airlockd's own exists: on success this does not return.
  const char* notReexecuted = airlock::broker::reexecWithAllocatorTunables(argv);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("airlockd"));
  spdlog::set_pattern("airlockd %Y-%m-%dT%H:%M:%S.%e %^%l%$: %v");
  if (notReexecuted != nullptr) {
    spdlog::warn("running with glibc's default allocator cache: re-executing with "
                 "GLIBC_TUNABLES={} failed: {}",
                 airlock::broker::AIRLOCKD_ALLOCATOR_TUNABLES, notReexecuted);
  }
  signal(SIGPIPE, SIG_IGN);
  Options options = parseOptions(argc, argv);
  if (options.landlockAbiMax) {
    airlock::sandbox::capLandlockAbi(*options.landlockAbiMax);
    spdlog::warn("Landlock capped at ABI {} (--landlock-abi-max){}", *options.landlockAbiMax,
                 *options.landlockAbiMax == 0 ? ": no worker runs under Landlock" : "");
  }

  airlock::broker::PolicySources sources;
  sources.policiesDir = options.policies;
  sources.load.defines = options.defines;
  sources.load.workersDir = options.workers;
  sources.clientKeysDir = options.clientKeys;
  sources.refuseLearn = options.refuseLearn;

  ServiceManager manager = takeServiceManager(options);
  int status = 1;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    status = serve(options, sources, manager);
  })) {
    fprintf(stderr, "airlockd: %s\n", exception->getDescription().cStr());
    return 1;
  }
  return status;
}
