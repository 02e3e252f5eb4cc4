#include "cli/admin_commands.h"

#include <kj/debug.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "sdk/host/client.h"

namespace {

const char RELOAD_USAGE[] = R"(usage: airlock reload --socket PATH --key NAME.key --broker-key broker.pub

Asks the airlockd listening on PATH to re-read its policy directory and client keys, as SIGHUP
does, and prints what changed. A policy set with any error is refused whole: the errors are
printed (file:line:col) and the policy in force stays. Only a client listed in the policy's
[broker] admins may ask; the request is audited either way (events admin and policy.reload).

options:
  --socket PATH        airlockd's host socket                                      (required)
  --key FILE           this client's secret key, NAME.key; NAME must be an admin   (required)
  --broker-key FILE    airlockd's public key (broker.pub) to accept                (required)
  --help               this text

Exit status: 0 if the reload was applied; 1 if it was refused (policy errors, or the audit log
cannot be written); 2 on a usage error, or if airlockd cannot be reached or refuses the client.
)";

const char STATUS_USAGE[] = R"(usage: airlock status --socket PATH --key NAME.key --broker-key broker.pub [--json]

Shows what the airlockd listening on PATH is running: its policy revision, whether it is
draining, calls in flight, and per unit its worker pids, restarts, calls in flight and limits,
and where its workers run in a cgroup, their memory, CPU time and throttling.
Only a client listed in the policy's [broker] admins may ask; the request is audited.

options:
  --socket PATH        airlockd's host socket                                      (required)
  --key FILE           this client's secret key, NAME.key; NAME must be an admin   (required)
  --broker-key FILE    airlockd's public key (broker.pub) to accept                (required)
  --json               print the status as one JSON object (fields as in the table)
  --help               this text

Exit status: 0 on success; 2 on a usage error, or if airlockd cannot be reached or refuses the
client.
)";

const char DRAIN_USAGE[] = R"(usage: airlock drain --socket PATH --key NAME.key --broker-key broker.pub

Asks the airlockd listening on PATH to drain and stop, as SIGTERM does: it stops accepting
connections, refuses new calls as "unit unavailable", lets the calls in flight finish (at most
the longest call_timeout_ms plus 1 s), then stops its workers and writes broker.stop, whose
reason names you. Prints how many calls were in flight when it started. Only a client listed in
the policy's [broker] admins may ask; the request is audited either way (event admin).

options:
  --socket PATH        airlockd's host socket                                      (required)
  --key FILE           this client's secret key, NAME.key; NAME must be an admin   (required)
  --broker-key FILE    airlockd's public key (broker.pub) to accept                (required)
  --help               this text

Exit status: 0 once airlockd has started draining; 2 on a usage error, or if airlockd cannot be
reached or refuses the client.
)";

struct AdminOptions {
  std::string socket, key, brokerKey;
  bool json = false;
};

// Parses the shared options; returns -1 to go on, or the exit status to return.
int parseAdminOptions(int argc, char** argv, const char* usage, bool allowJson,
                      AdminOptions& options) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
      options.socket = argv[++i];
    } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
      options.key = argv[++i];
    } else if (!strcmp(argv[i], "--broker-key") && i + 1 < argc) {
      options.brokerKey = argv[++i];
    } else if (allowJson && !strcmp(argv[i], "--json")) {
      options.json = true;
    } else {
      fprintf(stderr, "airlock %s: unknown or incomplete option \"%s\"\n%s", argv[0], argv[i],
              usage);
      return 2;
    }
  }
  if (options.socket.empty() || options.key.empty() || options.brokerKey.empty()) {
    fprintf(stderr, "airlock %s: need --socket, --key and --broker-key\n%s", argv[0], usage);
    return 2;
  }
  return -1;
}

// Connects as the admin and runs `operation`; a refusal or an unreachable broker exits 2.
int withAdminClient(const char* command, const AdminOptions& options,
                    const std::function<int(airlock::Client&)>& operation) {
  int status = 2;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto client = airlock::Client::connect(options.socket, options.key, options.brokerKey);
    status = operation(client);
  })) {
    fprintf(stderr, "airlock %s: airlockd at %s refused or could not be reached: %s\n", command,
            options.socket.c_str(), exception->getDescription().cStr());
    status = 2;
  }
  return status;
}

void printStatusTable(const nlohmann::json& status) {
  printf("revision %s%s, %s call(s) in flight, %s client key(s)\n",
         status["revision"].get<std::string>().c_str(),
         status["draining"].get<bool>() ? " (draining)" : "",
         status["calls_in_flight"].dump().c_str(), status["clients"].dump().c_str());
  printf("%-20s %-8s %-9s %-24s %-8s %-9s %-10s %-9s\n", "UNIT", "STATE", "INSTANCES", "PIDS",
         "RESTARTS", "IN-FLIGHT", "TIMEOUT", "RULES");
  for (auto& unit : status["units"]) {
    std::string pids;
    for (auto& pid : unit.value("pids", nlohmann::json::array())) {
      pids += (pids.empty() ? "" : ",") + pid.dump();
    }
    printf("%-20s %-8s %-9s %-24s %-8s %-9s %-10s %-9s\n",
           unit["name"].get<std::string>().c_str(),
           unit.value("state", std::string("running")).c_str(),
           unit["instances"].dump().c_str(), pids.c_str(),
           unit.value("restarts", nlohmann::json(0)).dump().c_str(),
           unit.value("calls_in_flight", nlohmann::json(0)).dump().c_str(),
           (unit["call_timeout_ms"].dump() + " ms").c_str(), unit["rules"].dump().c_str());
    if (unit.value("mode", std::string("enforce")) == "learn") {
      printf("  LEARNING: requests no rule allows are performed within learn_paths/learn_hosts "
             "and recorded as \"learn\" (%s)\n",
             unit.value("justification", std::string()).c_str());
    }
    if (unit.contains("resources")) {
      const auto& used = unit["resources"];
      printf("  memory %s MiB (peak %s MiB), cpu %s ms%s, throttled %s periods (%s ms), "
             "%s oom kill(s)\n",
             std::to_string(used.value("memory_bytes", 0ull) >> 20).c_str(),
             std::to_string(used.value("memory_peak_bytes", 0ull) >> 20).c_str(),
             std::to_string(used.value("cpu_us", 0ull) / 1000).c_str(),
             used.value("background", false) ? " (in the background)" : "",
             used["throttled_periods"].dump().c_str(),
             std::to_string(used.value("throttled_us", 0ull) / 1000).c_str(),
             used["oom_kills"].dump().c_str());
    }
    if (unit.contains("parked_reason")) {
      printf("  parked since %s: %s\n", unit["parked_since"].get<std::string>().c_str(),
             unit["parked_reason"].get<std::string>().c_str());
    }
  }
}

}  // namespace

int reloadMain(int argc, char** argv) {
  AdminOptions options;
  int early = parseAdminOptions(argc, argv, RELOAD_USAGE, false, options);
  if (early >= 0) return early;
  return withAdminClient("reload", options, [](airlock::Client& client) {
    auto reloaded = client.reload();
    printf("%s\n", reloaded.summary.c_str());
    for (auto& error : reloaded.errors) fprintf(stderr, "%s\n", error.c_str());
    return reloaded.applied ? 0 : 1;
  });
}

int statusMain(int argc, char** argv) {
  AdminOptions options;
  int early = parseAdminOptions(argc, argv, STATUS_USAGE, true, options);
  if (early >= 0) return early;
  return withAdminClient("status", options, [&options](airlock::Client& client) {
    std::string json = client.status();
    if (options.json) {
      printf("%s\n", json.c_str());
    } else {
      printStatusTable(nlohmann::json::parse(json));
    }
    return 0;
  });
}

int drainMain(int argc, char** argv) {
  AdminOptions options;
  int early = parseAdminOptions(argc, argv, DRAIN_USAGE, false, options);
  if (early >= 0) return early;
  return withAdminClient("drain", options, [](airlock::Client& client) {
    printf("draining: %llu call(s) in flight\n",
           static_cast<unsigned long long>(client.drain()));
    return 0;
  });
}
