#include "cli/call_command.h"

#include <kj/debug.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/grant_arg.h"
#include "sdk/host/client.h"

namespace {

const char USAGE[] = R"(usage: airlock call --socket PATH --key NAME.key --broker-key broker.pub [--timeout-ms N]
                    [--grant PATH:MODES]... [--grant-fd FD:PATH:MODES]...
                    UNIT METHOD [PAYLOAD]
       airlock call --socket PATH --key NAME.key --broker-key broker.pub [--timeout-ms N]
                    --unit UNIT --run [--stdin FILE] -- [ARGS]...

Calls METHOD of UNIT through the airlockd listening on PATH, with PAYLOAD (default empty) as
the request bytes, and prints the reply bytes to stdout. It first authenticates as client NAME
with its secret key (which never leaves this process) and checks that the peer is the airlockd
whose public key is broker.pub. The broker checks the call against the unit's policy for client
NAME (and your uid, where a rule lists uids) and records it in its audit log.

Each --grant hands this call alone a path, with the modes its worker may open it with until
the call is answered; the unit's `grant` rules must let client NAME grant it, or the call is
refused before any worker sees it. The worker reaches it through the unit's `granted_only`
fs.open rules (docs/policy.md, "Call-scoped grants"). Each --grant-fd hands it this command's
open descriptor FD instead (`3<FILE` in the shell): a worker opening PATH gets that file, a
regular file or a directory, never with more modes than FD was opened with; the grant rule
must list its kind in `descriptors`.

With --run, UNIT is a program unit ([unit] program in its policy): airlockd runs its program
once, in a fresh sandbox, with ARGS after its name and FILE (`-`: this command's stdin; default:
nothing) as its stdin, its own file syscalls decided by the unit's rules; the unit's call rules
decide the run as method "run". The program's stdout and stderr are written to this command's.

options:
  --socket PATH        airlockd's host socket                                      (required)
  --key FILE           this client's secret key, NAME.key from
                       `airlock keygen --client NAME`; mode 0600, yours            (required)
  --broker-key FILE    airlockd's public key (broker.pub) to accept                (required)
  --timeout-ms N       answer within N ms of airlockd receiving the call, or fail as
                       "timed out" (1..4294967295; never later than the unit's
                       call_timeout_ms, which is the default)
  --grant PATH:MODES   hand the call PATH with MODES, a comma-separated list of read,
                       write, create, truncate, append (or r, w, c, t, a); repeatable,
                       at most 32 (with --grant-fd)
  --grant-fd FD:PATH:MODES
                       hand the call this command's open descriptor FD, served to
                       the worker that opens PATH, with MODES as for --grant
  --unit UNIT          the unit, instead of the first positional argument
  --run                run UNIT's program (arguments after --) instead of calling a method
  --stdin FILE         with --run: the program's stdin, read from FILE (`-`: this command's)
  --help               this text

Exit status: 0 on success; 1 if the call failed (the error kind and message go to stderr, e.g.
"denied by rule default-deny: ..." or "unit crashed: worker pid 12 killed by SIGSEGV"); 2 on a
usage error or if the broker cannot be reached. With --run: the program's own exit status,
128+N if it was killed by signal N, 125 if the run failed (the error goes to stderr).
)";

// The whole of `path` (`-`: stdin); false after saying why on stderr.
bool readInput(const std::string& path, std::string& out) {
  FILE* file = path == "-" ? stdin : fopen(path.c_str(), "rb");
  if (file == nullptr) {
    fprintf(stderr, "airlock call: --stdin %s: %s\n", path.c_str(), strerror(errno));
    return false;
  }
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) out.append(buffer, n);
  bool failed = ferror(file);
  if (file != stdin) fclose(file);
  if (failed) fprintf(stderr, "airlock call: --stdin %s: read error\n", path.c_str());
  return !failed;
}

int runProgramUnit(const std::string& socket, const std::string& key,
                   const std::string& brokerKey, const std::string& unit,
                   const std::vector<std::string>& args, const std::string& stdinFile,
                   uint64_t timeoutMs) {
  std::string input;
  if (!stdinFile.empty() && !readInput(stdinFile, input)) return 2;
  int status = 2;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto client = airlock::Client::connect(socket, key, brokerKey);
    auto outcome = client.unit(unit).run(args, input, std::chrono::milliseconds(timeoutMs));
    if (!outcome.call.ok()) {
      fprintf(stderr, "airlock call: %s\n", outcome.call.describe().c_str());
      status = 125;
      return;
    }
    fwrite(outcome.out.data(), 1, outcome.out.size(), stdout);
    fwrite(outcome.err.data(), 1, outcome.err.size(), stderr);
    if (outcome.outputCut) fprintf(stderr, "airlock call: output cut at the unit's limit\n");
    if (!outcome.refusedSyscall.empty()) {
      fprintf(stderr, "airlock call: killed by seccomp: refused syscall %s\n",
              outcome.refusedSyscall.c_str());
    }
    status = outcome.signal != 0 ? 128 + outcome.signal : outcome.status;
  })) {
    fprintf(stderr, "airlock call: cannot reach or authenticate to airlockd at %s: %s\n",
            socket.c_str(), exception->getDescription().cStr());
  }
  return status;
}

}  // namespace

int callMain(int argc, char** argv) {
  std::string socket, key, brokerKey, unitName, stdinFile;
  uint64_t timeoutMs = 0;
  std::string positional[3];
  int count = 0;
  bool run = false;
  std::vector<std::string> programArgs;
  std::vector<airlock::Grant> grants;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--")) {
      programArgs.assign(argv + i + 1, argv + argc);
      break;
    } else if (!strcmp(argv[i], "--run")) {
      run = true;
    } else if (!strcmp(argv[i], "--grant") && i + 1 < argc) {
      std::string error;
      auto grant = parseGrantArg(argv[++i], error);
      if (!grant) {
        fprintf(stderr, "airlock call: %s\n%s", error.c_str(), USAGE);
        return 2;
      }
      grants.push_back(std::move(*grant));
    } else if (!strcmp(argv[i], "--grant-fd") && i + 1 < argc) {
      std::string error;
      auto grant = parseGrantFdArg(argv[++i], error);
      if (!grant) {
        fprintf(stderr, "airlock call: %s\n%s", error.c_str(), USAGE);
        return 2;
      }
      grants.push_back(std::move(*grant));
    } else if (!strcmp(argv[i], "--unit") && i + 1 < argc) {
      unitName = argv[++i];
    } else if (!strcmp(argv[i], "--stdin") && i + 1 < argc) {
      stdinFile = argv[++i];
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
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
    } else if (!strncmp(argv[i], "--", 2)) {
      // An option at the end without its value, or one this command does not have: named, not
      // taken for UNIT, METHOD or the payload.
      bool takesValue = false;
      for (const char* option : {"--grant", "--grant-fd", "--unit", "--stdin", "--socket", "--key",
                                 "--broker-key", "--timeout-ms"}) {
        takesValue |= !strcmp(argv[i], option);
      }
      fprintf(stderr, takesValue ? "airlock call: %s needs a value\n%s"
                                 : "airlock call: unknown option %s\n%s",
              argv[i], USAGE);
      return 2;
    } else if (count < 3) {
      positional[count++] = argv[i];
    } else {
      fprintf(stderr, "airlock call: too many arguments\n%s", USAGE);
      return 2;
    }
  }
  if (unitName.empty() && count > 0) {
    unitName = positional[0];
    for (int k = 1; k < count; ++k) positional[k - 1] = positional[k];
    --count;
  }
  if (run && !grants.empty()) {
    fprintf(stderr, "airlock call: --grant and --grant-fd go with a method call, not --run\n%s",
            USAGE);
    return 2;
  }
  if (run) {
    if (socket.empty() || key.empty() || brokerKey.empty() || unitName.empty() || count > 0) {
      fprintf(stderr, "airlock call: --run needs --socket, --key, --broker-key and UNIT, and "
                      "takes the program's arguments after --\n%s", USAGE);
      return 2;
    }
    return runProgramUnit(socket, key, brokerKey, unitName, programArgs, stdinFile, timeoutMs);
  }
  if (!programArgs.empty() || !stdinFile.empty()) {
    fprintf(stderr, "airlock call: arguments after -- and --stdin go with --run\n%s", USAGE);
    return 2;
  }
  if (socket.empty() || key.empty() || brokerKey.empty() || unitName.empty() || count < 1) {
    fprintf(stderr, "airlock call: need --socket, --key, --broker-key, UNIT and METHOD\n%s",
            USAGE);
    return 2;
  }
  int status = 2;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto client = airlock::Client::connect(socket, key, brokerKey);
    auto outcome = client.unit(unitName).call(positional[0], positional[1], grants,
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
