#include "cli/run_command.h"

#include <limits.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cstdio>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "audit/signing_key.h"
#include "broker/caps/fs_roots.h"
#include "broker/supervisor/syscall_records.h"
#include "broker/supervisor/unit_sandbox.h"
#include "broker/syscalls/syscall_broker.h"
#include "cli/unit_program.h"
#include "sandbox/launcher.h"

namespace {

const char USAGE[] = R"(usage: airlock run --policy PATH [--unit NAME] [--define NAME=VALUE]... --audit FILE
                   -- PROGRAM [ARGS]

Runs PROGRAM, unmodified, in the sandbox of the policy's unit, with the unit's fs.* rules
deciding the files it opens, stats, makes, renames, links and removes itself, and its
net.connect rules the sockets it connects: its own open, stat, access, readlink, mkdir, unlink,
rmdir, rename, symlink, link, chmod, utimensat, truncate and connect calls and their *at forms
(from libc or by raw syscall, any thread; docs/sandbox.md lists them) stop in the kernel and are
answered by this command, a private broker for the run: beneath a granted root it decides by
the rules, records the decision in FILE, does the call with openat2 beneath the rule's root (or
connects its own socket to the decided address) and hands back the result (a real fd, a filled
stat, a connected socket); anywhere else outside the sandbox's own read-only view it refuses
with EACCES, on record. What the view shows (PROGRAM, its libraries, the unit's
read_only_paths) is left to the kernel, and a dynamic PROGRAM reads it without stopping at all.

PROGRAM starts in this command's working directory (an empty directory in the sandbox unless
the view shows it), so relative paths name what the rules decide. stdin, stdout and stderr are
this command's; the environment holds AIRLOCK_UNIT and, for native-first reads, LD_PRELOAD and
AIRLOCK_BROKERED_ROOTS. The policy needs no `worker`: PROGRAM is what runs.

options:
  --policy PATH         a policy file, or a policy directory as airlockd --policies loads it;
                        any error in it is printed (file:line:col) and nothing runs (exit 2)
  --unit NAME           the unit whose sandbox and rules apply; needed when PATH has several
  --define NAME=VALUE   value for ${NAME} in the policy's paths, as airlockd --define
  --audit FILE          the audit log to append to (created 0600): one record per decision,
                        signed by a key made for this run and closed with a checkpoint, so
                        `airlock audit verify FILE` checks it
  --help                this text

Exit status: PROGRAM's own; 128+N if it was killed by signal N; 159 (128+SIGSYS) if the sandbox
stopped it for a refused syscall (named on stderr); 125 if the sandbox or the audit log could
not be set up; 2 on a usage error or a policy that does not load.
)";

constexpr char COMMAND[] = "airlock run";

std::string currentDirectory() {
  char buffer[PATH_MAX];
  return getcwd(buffer, sizeof(buffer)) != nullptr ? buffer : "/";
}

}  // namespace

int runMain(int argc, char** argv) {
  using namespace airlock;
  std::string policyPath, unitName, auditPath;
  policy::LoadOptions load;
  load.workerCheck = policy::LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM;
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
    } else if (arg == "--audit" && i + 1 < argc) {
      auditPath = argv[++i];
    } else if (arg == "--define" && i + 1 < argc) {
      if (!cli::addDefine(argv[++i], load, COMMAND)) return 2;
    } else if (arg == "--") {
      ++i;
      break;
    } else {
      fprintf(stderr, "%s: unknown option \"%s\"\n%s", COMMAND, arg.c_str(), USAGE);
      return 2;
    }
  }
  if (policyPath.empty() || auditPath.empty() || i >= argc) {
    fprintf(stderr, "%s: needs --policy, --audit and a program after --\n%s", COMMAND, USAGE);
    return 2;
  }
  auto loaded = cli::loadUnit(policyPath, unitName, load, COMMAND);
  if (!loaded) return 2;
  auto unit = std::make_shared<const policy::UnitPolicy>(std::move(*loaded));
  if (unit->resources.any()) {
    // The cgroups are airlockd's (broker/resources/): this command makes none.
    fprintf(stderr,
            "%s: [resources] (%s) is not applied by this command, only by airlockd; PROGRAM "
            "runs under [limits] alone\n",
            COMMAND, unit->resourcesWhere.describe().c_str());
  }

  sandbox::SandboxSpec spec = broker::sandboxSpecFor(*unit);
  broker::brokerSyscalls(*unit, spec);
  spec.program = cli::resolveProgram(argv[i]);
  if (spec.program.empty()) {
    fprintf(stderr, "%s: cannot find program \"%s\"\n", COMMAND, argv[i]);
    return 127;
  }
  spec.args.clear();  // PROG replaces the unit's worker with its arguments (a python_worker's)
  for (++i; i < argc; ++i) spec.args.push_back(argv[i]);
  spec.workingDirectory = currentDirectory();

  int status = 125;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    audit::AuditLogOptions options;
    // Every record is written before its answer (it survives a crash of this command); close()
    // syncs them all to disk once, at the end.
    options.sync = audit::SyncMode::GROUP;
    options.key = audit::SigningKey::generate();
    auto log = audit::AuditLog::open(auditPath, audit::systemWallClock(), kj::mv(options));
    auto roots = broker::FsRoots::open({*unit});
    if (unit->learning()) {
      // Loud, as airlockd is: on the terminal, and on every record of the run.
      fprintf(stderr, "%s: unit %s is LEARNING (mode = \"learn\" at %s): requests no rule allows "
              "are performed within its learn_paths and recorded as \"learn\"\n", COMMAND,
              unit->name.c_str(), unit->modeWhere.describe().c_str());
      log->setLearningUnits({unit->name});
    }
    // This command is the run's broker: its start opens the log's next stretch (a log that
    // ended with a closing checkpoint may only go on with one) and is on record before PROGRAM
    // runs.
    audit::AuditRecord start;
    start.event = "broker.start";
    start.unit = unit->name;
    start.args["pid"] = getpid();
    start.args["command"] = COMMAND;
    start.args["program"] = spec.program;
    start.args["policies"] = policyPath;
    start.policyRev = unit->revision;
    KJ_REQUIRE(log->append(start), "cannot write the audit log", auditPath);

    sandbox::ChildFds fds;
    fds.stdinFd = STDIN_FILENO;  // handed over deliberately: the user runs PROGRAM as a filter
    fds.stdoutFd = STDOUT_FILENO;
    fds.stderrFd = STDERR_FILENO;
    std::optional<sandbox::SandboxedProcess> launched;
    auto launch = [&]() { launched.emplace(sandbox::launch(spec, fds)); };
    KJ_IF_MAYBE(failed, kj::runCatchingExceptions(launch)) {
      // PROGRAM never ran: the run still ends on record, and its log closed, as any run's does.
      audit::AuditRecord notStarted;
      notStarted.event = "run.exit";
      notStarted.unit = unit->name;
      notStarted.args["program"] = spec.program;
      notStarted.result = std::string("not started: ") + failed->getDescription().cStr();
      if (!log->append(notStarted)) fprintf(stderr, "%s: could not record the exit\n", COMMAND);
      log->close();
      kj::throwFatalException(kj::mv(*failed));
    }
    sandbox::SandboxedProcess& process = *launched;
    std::string caller = "uid:" + std::to_string(getuid());
    broker::recordSyscallsOf(process, *log, {unit->name, process.pid(), caller, ""});
    broker::syscalls::SyscallBroker broker(unit, roots, *log,
                                           broker::syscalls::SandboxView::of(spec),
                                           process.pid(), caller);
    process.setSyscallHandler(&broker);
    auto exit = process.wait();

    audit::AuditRecord record;
    record.event = "run.exit";
    record.unit = unit->name;
    record.workerPid = process.pid();
    record.args["program"] = spec.program;
    record.args["brokered_syscalls"] = broker.brokered();
    record.args["left_to_kernel"] = broker.leftToKernel();
    // Errno-answered and learned syscalls by name, each counted (the first of each has its own
    // record): what the auditor and `airlock policy suggest` read.
    if (!exit.answeredSyscalls.empty()) record.args["answered_syscalls"] = exit.answeredSyscalls;
    if (!exit.learnedSyscalls.empty()) record.args["learned_syscalls"] = exit.learnedSyscalls;
    record.result = exit.describe();
    if (!log->append(record)) fprintf(stderr, "%s: could not record the exit\n", COMMAND);
    log->close();
    status = cli::reportExit(exit, spec.program, COMMAND);
  })) {
    fprintf(stderr, "%s: %s\n", COMMAND, exception->getDescription().cStr());
    return 125;
  }
  return status;
}
