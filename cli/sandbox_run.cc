#include "cli/sandbox_run.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "broker/policy/load/policy_loader.h"
#include "broker/supervisor/unit_sandbox.h"
#include "cli/policy_args.h"
#include "cli/unit_program.h"
#include "sandbox/launcher.h"
#include "sandbox/syscall_sets.h"

namespace {

const char USAGE[] = R"(usage: airlock sandbox run [--policy PATH [--unit NAME] [--define NAME=VALUE]...]
                          [--ro-bind PATH]... [--setenv KEY=VALUE]... [--syscalls NAME,...]
                          -- PROG [ARGS]

Runs PROG inside the sandbox airlock gives a unit's worker: new user, PID, mount, network, IPC,
UTS and cgroup namespaces, as uid/gid 1000 (host nobody, or you); a minimal read-only root holding
PROG, the shared libraries and /dev/{null,zero,urandom}; no capabilities; no_new_privs; Landlock
(read-only, execute only PROG, no TCP, scoped signals and abstract sockets); rlimits; the worker
seccomp allowlist. PROG's stdout and stderr are this command's; it gets no other fds and an empty
environment.

With --policy, PROG runs in exactly the sandbox airlockd gives that unit's worker: the unit's
[sandbox] read_only_paths, syscalls and seccomp_profile and its environment (AIRLOCK_UNIT=NAME)
as well; --ro-bind, --setenv and --syscalls then add to it. This is how to try a policy by hand, or attack it.

options:
  --policy PATH         a policy file, or a policy directory as airlockd --policies loads it;
                        any error in it is printed (file:line:col) and nothing runs (exit 2)
  --unit NAME           the unit whose sandbox to use; needed when PATH has several units
  --define NAME=VALUE   value for ${NAME} in the policy's paths, as airlockd --define
  --ro-bind PATH        make host PATH visible read-only at the same path (repeatable)
  --setenv KEY=VALUE    add KEY=VALUE to the (otherwise empty) environment (repeatable)
  --syscalls NAME,...   allow these syscall groups besides the default ones (`airlock doctor`
                        lists them), or single syscalls no group lists, as a unit's
                        [sandbox] syscalls does; a refused syscall names what would allow it
  --help                this text

PROG is looked up in $PATH if it has no '/'. Exit status: PROG's own; 128+N if it was killed by
signal N (named on stderr); 159 (128+SIGSYS) if the sandbox stopped it for a refused syscall,
which stderr names with its registers (refused syscall ptrace(0x10, ...)); 125 if the
sandbox could not be set up (the failed step is named on stderr; `airlock doctor` says what this
kernel offers); 2 on a usage error or a policy that does not load.
)";

// "basic-io, memory, ...": every group --syscalls accepts, for its error message.
std::string groupList() {
  std::string out;
  for (auto& group : airlock::sandbox::syscallGroups()) {
    out += (out.empty() ? "groups: " : ", ") + std::string(group.name);
  }
  return out;
}

}  // namespace

int sandboxRunMain(int argc, char** argv) {
  airlock::sandbox::SandboxSpec extra;  // what the options add to the unit's (or the default) sandbox
  std::string policyPath, unitName;
  airlock::policy::LoadOptions load;
  // PROG replaces the worker: a policy written for `airlock run`, without one, is fine here.
  load.workerCheck = airlock::policy::LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM;
  int i = 1;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(USAGE, stdout);
      return 0;
    } else if (arg == "--policy" && i + 1 < argc) {
      policyPath = argv[++i];
    } else if (arg == "--unit" && i + 1 < argc) {
      unitName = argv[++i];
    } else if (arg == "--define" && i + 1 < argc) {
      if (!airlock::cli::addDefine(argv[++i], load, "airlock sandbox run")) return 2;
    } else if (arg == "--ro-bind" && i + 1 < argc) {
      std::string path = argv[++i];
      if (path.empty() || path[0] != '/') {
        fprintf(stderr, "airlock sandbox run: --ro-bind \"%s\": the path must be absolute\n",
                path.c_str());
        return 2;
      }
      extra.readOnlyPaths.push_back(path);
    } else if (arg == "--setenv" && i + 1 < argc) {
      std::string kv = argv[++i];
      if (kv.find('=') == std::string::npos || kv[0] == '=') {
        fprintf(stderr, "airlock sandbox run: --setenv needs KEY=VALUE, got \"%s\"\n", kv.c_str());
        return 2;
      }
      extra.env.push_back(kv);
    } else if (arg == "--syscalls" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t start = 0; start <= list.size();) {
        size_t comma = std::min(list.find(',', start), list.size());
        std::string group = list.substr(start, comma - start);
        KJ_IF_MAYBE(refused, airlock::sandbox::refusalOfSyscallName(group.c_str())) {
          fprintf(stderr, "airlock sandbox run: --syscalls: %s (%s)\n", refused->cStr(),
                  groupList().c_str());
          return 2;
        }
        extra.syscalls.push_back(group);
        start = comma + 1;
      }
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
  if (policyPath.empty() && (!unitName.empty() || !load.defines.empty())) {
    fprintf(stderr, "airlock sandbox run: --unit and --define need --policy\n");
    return 2;
  }
  airlock::sandbox::SandboxSpec spec;
  if (!policyPath.empty()) {
    auto unit = airlock::cli::loadUnit(policyPath, unitName, load, "airlock sandbox run");
    if (!unit) return 2;
    spec = airlock::broker::sandboxSpecFor(*unit);
  }
  spec.readOnlyPaths.insert(spec.readOnlyPaths.end(), extra.readOnlyPaths.begin(),
                            extra.readOnlyPaths.end());
  spec.env.insert(spec.env.end(), extra.env.begin(), extra.env.end());
  spec.syscalls.insert(spec.syscalls.end(), extra.syscalls.begin(), extra.syscalls.end());
  spec.program = airlock::cli::resolveProgram(argv[i]);
  if (spec.program.empty()) {
    fprintf(stderr, "airlock sandbox run: cannot find program \"%s\"\n", argv[i]);
    return 127;
  }
  spec.args.clear();  // PROG replaces the unit's worker with its arguments (a python_worker's)
  for (++i; i < argc; ++i) spec.args.push_back(argv[i]);

  airlock::sandbox::ChildFds fds;
  fds.stdoutFd = STDOUT_FILENO;  // handed over deliberately: the user asked to see the output
  fds.stderrFd = STDERR_FILENO;
  int status = 125;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto process = airlock::sandbox::launch(spec, fds);
    status = airlock::cli::reportExit(process.wait(), spec.program, "airlock sandbox run");
  })) {
    fprintf(stderr, "airlock sandbox run: %s\n", exception->getDescription().cStr());
    return 125;
  }
  return status;
}
