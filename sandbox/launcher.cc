#include "sandbox/launcher.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cerrno>
#include <string>
#include <vector>

#include "sandbox/capabilities.h"
#include "sandbox/child_fds.h"
#include "sandbox/id_map.h"
#include "sandbox/mount_root.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/setup_error.h"
#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

namespace _ {

constexpr uint64_t NAMESPACE_FLAGS = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET |
                                     CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
constexpr const char* HINT = "run `airlock doctor` to see what this kernel offers";
// A setup error is one line; anything longer is cut, never waited for.
constexpr size_t MAX_SETUP_ERROR = 2048;

struct Pipe {
  kj::AutoCloseFd readEnd;
  kj::AutoCloseFd writeEnd;
};

Pipe makePipe() {
  int ends[2];
  KJ_SYSCALL(pipe2(ends, O_CLOEXEC));
  return {kj::AutoCloseFd(ends[0]), kj::AutoCloseFd(ends[1])};
}

// argv and envp as execve wants them, built before clone3 so the child only reads memory.
struct ExecArgs {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;

  ExecArgs(const SandboxSpec& spec) {
    strings.reserve(1 + spec.args.size() + spec.env.size());
    strings.push_back(spec.program);
    for (auto& arg : spec.args) strings.push_back(arg);
    for (auto& var : spec.env) strings.push_back(var);
    size_t argc = 1 + spec.args.size();
    for (size_t i = 0; i < strings.size(); ++i) {
      (i < argc ? argv : envp).push_back(strings[i].data());
    }
    argv.push_back(nullptr);
    envp.push_back(nullptr);
  }
};

// Everything the child needs, prepared by the broker before clone3.
struct ChildPlan {
  const RootPlan& root;
  const SeccompFilter& filter;
  const ExecArgs& exec;
  const std::string& hostname;
  ChildFds fds;
  int releaseFd;     // read end of the sync pipe
  int setupErrorFd;  // write end of the setup-error pipe (close-on-exec)
};

// The broker may ignore or handle signals (SIGPIPE, SIGCHLD); the worker starts with defaults
// and nothing blocked. execve resets handlers but keeps ignored signals and the mask.
void resetSignals() {
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);  // EINVAL for KILL/STOP: fine
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The broker writes our uid/gid maps, then one byte. EOF means it gave up: exit quietly.
void waitForRelease(int releaseFd, const SetupReporter& reporter) {
  char byte;
  ssize_t n;
  do {
    n = read(releaseFd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) reporter.failMessage("wait for uid map", "the launcher went away");
  close(releaseFd);
}

void becomeMappedRoot(const SetupReporter& reporter) {
  if (setresgid(0, 0, 0) < 0) reporter.fail("switch ids", errno, "setresgid(0, 0, 0)");
  if (setresuid(0, 0, 0) < 0) reporter.fail("switch ids", errno, "setresuid(0, 0, 0)");
}

// The one linear setup sequence. Every step reports its failure on the setup pipe and exits.
[[noreturn]] void runChild(const ChildPlan& plan) {
  SetupReporter reporter(plan.setupErrorFd);
  // First, so nothing of the broker's signal state reaches the worker or disturbs setup.
  resetSignals();
  // Before anything else touches the namespaces: the uid map is written by the broker.
  waitForRelease(plan.releaseFd, reporter);
  // Before the uid switch: host uid 0's owner access may be needed to reach the sources.
  std::vector<int> sources = openBindSources(plan.root, reporter);
  // Before the new root: tmpfs files must be created by a mapped uid.
  becomeMappedRoot(reporter);
  // After the uid switch, which clears the parent-death signal: die with the broker.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    reporter.fail("parent death signal", errno, "prctl(PR_SET_PDEATHSIG, SIGKILL)");
  }
  // While we still hold CAP_SYS_ADMIN in the new user namespace.
  enterNewRoot(plan.root, sources, reporter);
  if (sethostname(plan.hostname.data(), plan.hostname.size()) < 0) {
    reporter.fail("hostname", errno, "sethostname(%s)", plan.hostname.c_str());
  }
  // No controlling terminal: TIOCSTI and job-control signals cannot reach the broker's tty.
  if (setsid() < 0) reporter.fail("new session", errno, "setsid()");
  // After pivot_root, so stdin is the sandbox's own /dev/null.
  arrangeChildFds(plan.fds.channel, plan.fds.stdoutFd, plan.fds.stderrFd, reporter);
  // After every privileged step; before seccomp, which refuses capset and prctl.
  dropAllCapabilities(reporter);
  // Last before execve, so the allowlist only has to cover execve and the program itself.
  int rc = plan.filter.load();
  if (rc < 0) reporter.fail("seccomp", -rc, "seccomp_load(worker allowlist)");
  execve(plan.root.programPath.c_str(), plan.exec.argv.data(), plan.exec.envp.data());
  reporter.fail("execve", errno, "execve(%s)", plan.root.programPath.c_str());
}

// Reads the child's setup report: empty (EOF) once execve closed the pipe.
std::string readSetupError(int fd) {
  std::string message;
  char buffer[512];
  while (message.size() < MAX_SETUP_ERROR) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    KJ_SYSCALL(n, "reading the sandbox setup pipe");
    if (n == 0) break;
    message.append(buffer, static_cast<size_t>(n));
  }
  return message;
}

}  // namespace _

SandboxedProcess launch(const SandboxSpec& spec, const ChildFds& fds) {
  // Everything that can throw is prepared here, before clone3.
  RootPlan root = planRoot(spec);
  SeccompFilter filter = SeccompFilter::compile(defaultWorkerGroups());
  _::ExecArgs exec(spec);
  HostIds ids = sandboxHostIds(geteuid(), getegid());
  _::Pipe release = _::makePipe();
  _::Pipe setupErrors = _::makePipe();

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD | _::NAMESPACE_FLAGS;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  // No stack: the child continues on a copy of ours, like fork(). The caller is single-threaded.
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    int err = errno;
    KJ_FAIL_REQUIRE("sandbox setup failed: clone3(CLONE_PIDFD|CLONE_NEWUSER|CLONE_NEWPID|"
                    "CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS|CLONE_NEWCGROUP)",
                    strerrorname_np(err), strerror(err), _::HINT);
  }
  if (pid == 0) {
    _::runChild({root, filter, exec, spec.hostname, fds, release.readEnd.get(),
                 setupErrors.writeEnd.get()});
  }
  // From here on the process object kills and reaps the child if anything throws.
  SandboxedProcess process(static_cast<pid_t>(pid), kj::AutoCloseFd(pidfd));
  release.readEnd = nullptr;
  setupErrors.writeEnd = nullptr;  // else our own copy would keep the pipe from reaching EOF
  writeIdMaps(static_cast<pid_t>(pid), ids);
  char go = 1;
  KJ_SYSCALL(write(release.writeEnd.get(), &go, 1), "releasing the sandbox child");
  release.writeEnd = nullptr;

  std::string error = _::readSetupError(setupErrors.readEnd.get());
  if (!error.empty()) {
    ExitStatus status = process.wait();
    kj::throwFatalException(kj::Exception(
        kj::Exception::Type::FAILED, __FILE__, __LINE__,
        kj::str("sandbox setup failed: ", error, " (child ", status.describe(), "); ", _::HINT)));
  }
  return process;
}

}  // namespace airlock::sandbox
