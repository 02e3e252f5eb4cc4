#include "cli/call_command.h"

#include <kj/debug.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sdk/host/client.h"

namespace {

const char USAGE[] = R"(usage: airlock call --socket PATH --key NAME.key --broker-key broker.pub [--timeout-ms N] UNIT METHOD [PAYLOAD]

Calls METHOD of UNIT through the airlockd listening on PATH, with PAYLOAD (default empty) as
the request bytes, and prints the reply bytes to stdout. It first authenticates as client NAME
with its secret key (which never leaves this process) and checks that the peer is the airlockd
whose public key is broker.pub. The broker checks the call against the unit's policy for client
NAME (and your uid, where a rule lists uids) and records it in its audit log.

options:
  --socket PATH        airlockd's host socket                                      (required)
  --key FILE           this client's secret key, NAME.key from
                       `airlock keygen --client NAME`; mode 0600, yours            (required)
  --broker-key FILE    airlockd's public key (broker.pub) to accept                (required)
  --timeout-ms N       answer within N ms of airlockd receiving the call, or fail as
                       "timed out" (1..4294967295; never later than the unit's
                       call_timeout_ms, which is the default)
  --help               this text

Exit status: 0 on success; 1 if the call failed (the error kind and message go to stderr, e.g.
"denied by rule default-deny: ..." or "unit crashed: worker pid 12 killed by SIGSEGV"); 2 on a
usage error or if the broker cannot be reached.
)";

}  // namespace

int callMain(int argc, char** argv) {
  std::string socket, key, brokerKey;
  uint64_t timeoutMs = 0;
  std::string positional[3];
  int count = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
      key = argv[++i];
    } else if (!strcmp(argv[i], "--broker-key") && i + 1 < argc) {
      brokerKey = argv[++i];
    } else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
      char* end = nullptr;
      errno = 0;
      timeoutMs = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || argv[i][0] == '-' || timeoutMs == 0 ||
          timeoutMs > UINT32_MAX) {
        fprintf(stderr, "airlock call: --timeout-ms \"%s\": expected 1..4294967295\n%s",
                argv[i], USAGE);
        return 2;
      }
    } else if (count < 3) {
      positional[count++] = argv[i];
    } else {
      fprintf(stderr, "airlock call: too many arguments\n%s", USAGE);
      return 2;
    }
  }
  if (socket.empty() || key.empty() || brokerKey.empty() || count < 2) {
    fprintf(stderr, "airlock call: need --socket, --key, --broker-key, UNIT and METHOD\n%s",
            USAGE);
    return 2;
  }
  int status = 2;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto client = airlock::Client::connect(socket, key, brokerKey);
    auto outcome = client.unit(positional[0]).call(positional[1], positional[2],
                                                    std::chrono::milliseconds(timeoutMs));
    if (outcome.ok()) {
      fwrite(outcome.payload().data(), 1, outcome.payload().size(), stdout);
      status = 0;
    } else {
      fprintf(stderr, "airlock call: %s\n", outcome.describe().c_str());
      status = 1;
    }
  })) {
    fprintf(stderr, "airlock call: cannot reach or authenticate to airlockd at %s: %s\n",
            socket.c_str(),
            exception->getDescription().cStr());
  }
  return status;
}
