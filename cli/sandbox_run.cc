#include "cli/sandbox_run.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "sandbox/launcher.h"

namespace {

const char USAGE[] = R"(usage: airlock sandbox run [--ro-bind PATH]... [--setenv KEY=VALUE]... -- PROG [ARGS]

Runs PROG inside the sandbox airlock gives a unit's worker: new user, PID, mount, network, IPC,
UTS and cgroup namespaces, as uid/gid 1000 (host nobody, or you); a minimal read-only root holding
PROG, the shared libraries and /dev/{null,zero,urandom}; no capabilities; no_new_privs; Landlock
(read-only, execute only PROG, no TCP, scoped signals and abstract sockets); rlimits; the worker
seccomp allowlist. PROG's stdout and stderr are this command's; it gets no other fds and an empty
environment.

options:
  --ro-bind PATH        make host PATH visible read-only at the same path (repeatable)
  --setenv KEY=VALUE    add KEY=VALUE to the (otherwise empty) environment (repeatable)
  --help                this text

PROG is looked up in $PATH if it has no '/'. Exit status: PROG's own; 128+N if it was killed by
signal N (named on stderr); 159 (128+SIGSYS) if the sandbox stopped it for a refused syscall,
which stderr names with its registers (refused syscall ptrace(0x10, ...)); 125 if the
sandbox could not be set up (the failed step is named on stderr; `airlock doctor` says what this
kernel offers).
)";

std::string resolveProgram(const std::string& name) {
  std::string candidate = name;
  if (name.find('/') == std::string::npos) {
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::string full = dirs.substr(start, end - start) + "/" + name;
      if (access(full.c_str(), X_OK) == 0) {
        candidate = full;
        break;
      }
      start = end + 1;
    }
  }
  char resolved[PATH_MAX];
  if (!realpath(candidate.c_str(), resolved)) return "";
  return resolved;
}

}  // namespace

int sandboxRunMain(int argc, char** argv) {
  airlock::sandbox::SandboxSpec spec;
  int i = 1;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(USAGE, stdout);
      return 0;
    } else if (arg == "--ro-bind" && i + 1 < argc) {
      spec.readOnlyPaths.push_back(argv[++i]);
    } else if (arg == "--setenv" && i + 1 < argc) {
      std::string kv = argv[++i];
      if (kv.find('=') == std::string::npos || kv[0] == '=') {
        fprintf(stderr, "airlock sandbox run: --setenv needs KEY=VALUE, got \"%s\"\n", kv.c_str());
        return 2;
      }
      spec.env.push_back(kv);
    } else if (arg == "--") {
      ++i;
      break;
    } else {
      fprintf(stderr, "airlock sandbox run: unknown option \"%s\"\n%s", arg.c_str(), USAGE);
      return 2;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "airlock sandbox run: no program given\n%s", USAGE);
    return 2;
  }
  spec.program = resolveProgram(argv[i]);
  if (spec.program.empty()) {
    fprintf(stderr, "airlock sandbox run: cannot find program \"%s\"\n", argv[i]);
    return 127;
  }
  for (++i; i < argc; ++i) spec.args.push_back(argv[i]);

  airlock::sandbox::ChildFds fds;
  fds.stdoutFd = STDOUT_FILENO;  // handed over deliberately: the user asked to see the output
  fds.stderrFd = STDERR_FILENO;
  int status = 125;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto process = airlock::sandbox::launch(spec, fds);
    auto exit = process.wait();
    if (exit.exited) {
      status = exit.code;
    } else {
      fprintf(stderr, "airlock sandbox run: %s %s\n", spec.program.c_str(),
              exit.describe().c_str());
      // A refusal ends with the supervisor's SIGKILL; report it as the seccomp kill it is.
      status = 128 + (exit.killedBySandbox() ? SIGSYS : exit.signal);
    }
  })) {
    fprintf(stderr, "airlock sandbox run: %s\n", exception->getDescription().cStr());
    return 125;
  }
  return status;
}
