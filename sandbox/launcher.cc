#include "sandbox/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/capabilities.h"
#include "sandbox/child_fds.h"
#include "sandbox/id_map.h"
#include "sandbox/landlock.h"
#include "sandbox/mount_root.h"
#include "sandbox/profile_grants.h"
#include "sandbox/resource_limits.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/setup_error.h"
#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

namespace _ {

constexpr uint64_t NAMESPACE_FLAGS = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET |
                                     CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
constexpr const char* HINT = "run `airlock doctor` to see what this kernel offers";

// For a program that is a script ("#!INTERPRETER"): the sandbox shows the one program it runs,
// not the interpreter its first line names, so its execve fails with ENOENT, which alone reads
// like a missing file. Empty for anything else.
std::string scriptHint(const std::string& program) {
  int fd = open(program.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  char head[256];
  ssize_t n = read(fd, head, sizeof(head) - 1);
  close(fd);
  if (n < 3 || head[0] != '#' || head[1] != '!') return "";
  std::string line(head + 2, static_cast<size_t>(n) - 2);
  line = line.substr(0, line.find('\n'));
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  size_t end = line.find_first_of(" \t", start);
  std::string interpreter = line.substr(start, end - start);
  if (interpreter.ends_with("/env") && end != std::string::npos) {  // #!/usr/bin/env python3
    size_t next = line.find_first_not_of(" \t", end);
    if (next != std::string::npos) {
      interpreter = line.substr(next, line.find_first_of(" \t", next) - next);
    }
  }
  return program + " is a script for " + interpreter + ", which the sandbox does not show (it " +
         "holds the one program it runs): run the interpreter as the program, e.g. `airlock run "
         "-- " + interpreter + " " + program + "`, with the script readable by a rule";
}
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

// The setup channel is a socket, not a pipe: besides error text, the child sends the seccomp
// listener fd over it (SCM_RIGHTS) right before execve.
Pipe makeSetupChannel() {
  int ends[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends));
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
  const LandlockPlan& landlock;
  const SeccompFilter& filter;
  const ExecArgs& exec;
  const SandboxSpec& spec;
  bool dropSupplementaryGroups;
  ChildFds fds;
  int releaseFd;     // read end of the sync pipe
  int setupErrorFd;  // child end of the setup channel (close-on-exec)
};

// Sent ahead of the listener fd so the parent can tell it from error text.
constexpr char LISTENER_MARKER = '\0';

// The broker may ignore or handle signals (SIGPIPE, SIGCHLD); the worker starts with defaults
// and nothing blocked. execve resets handlers but keeps ignored signals and the mask.
void resetSignals() {
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);  // EINVAL for KILL/STOP: fine
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// cgroup v1 has no CLONE_INTO_CGROUP: the child is moved into its leaf by pid, while it waits
// for its release, so no code of the program runs outside the leaf.
void placeInCgroups(const CgroupPlacement& placement, pid_t pid) {
  std::string text = std::to_string(pid);
  for (int fd : placement.procsFds) {
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      int err = errno;
      KJ_FAIL_REQUIRE("sandbox setup failed: write(cgroup.procs, pid) of the worker's leaf",
                      pid, strerrorname_np(err), strerror(err), HINT);
    }
  }
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

// Becomes WORKER_ID, the only id mapped, while keeping this namespace's capabilities for the rest
// of setup: NO_SETUID_FIXUP stops the uid change from clearing them (dropAllCapabilities locks
// the bit later and empties the sets itself).
void becomeWorkerIds(bool dropGroups, const SetupReporter& reporter) {
  if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0) {
    reporter.fail("switch ids", errno, "prctl(PR_SET_SECUREBITS, NO_SETUID_FIXUP)");
  }
  // Raw syscalls, not glibc's wrappers: those broadcast the change to every thread glibc knows
  // of (nptl setxid) and wait for each to acknowledge. The child is a clone3 copy of one thread of
  // a broker that may run others (the audit group-commit thread), so it would wait forever.
  // Host root's supplementary groups (gid 0...) must not come along into the sandbox.
  if (dropGroups && syscall(SYS_setgroups, 0, nullptr) < 0) {
    reporter.fail("switch ids", errno, "setgroups(0)");
  }
  if (syscall(SYS_setresgid, WORKER_ID, WORKER_ID, WORKER_ID) < 0) {
    reporter.fail("switch ids", errno, "setresgid(%u)", WORKER_ID);
  }
  if (syscall(SYS_setresuid, WORKER_ID, WORKER_ID, WORKER_ID) < 0) {
    reporter.fail("switch ids", errno, "setresuid(%u)", WORKER_ID);
  }
}

// Room for one fd passed with SCM_RIGHTS: the setup channel carries at most the listener.
struct OneFdControl {
  alignas(struct cmsghdr) char bytes[CMSG_SPACE(sizeof(int))] = {};
};

// A message of one buffer with room for one fd; no allocation (the child uses it before exec).
struct msghdr oneFdMessage(struct iovec& iov, OneFdControl& control) {
  struct msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof(control.bytes);
  return message;
}

// Installs the filter and hands its listener to the parent, which supervises refusals. Only
// syscalls the allowlist has (sendmsg, close) run after the filter, so none can stop here.
void installSeccomp(const SeccompFilter& filter, const SetupReporter& reporter) {
  int listener = filter.install();
  if (listener < 0) reporter.fail("seccomp", -listener, "seccomp(SET_MODE_FILTER, NEW_LISTENER)");
  char marker = LISTENER_MARKER;
  struct iovec iov = {&marker, 1};
  OneFdControl control;
  struct msghdr message = oneFdMessage(iov, control);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &listener, sizeof(int));
  if (sendmsg(reporter.fd(), &message, MSG_NOSIGNAL) != 1) {
    reporter.fail("seccomp", errno, "sendmsg(listener fd to the launcher)");
  }
  close(listener);  // the parent holds the only copy now
}

// The one linear setup sequence. Every step reports its failure on the setup channel and exits.
[[noreturn]] void runChild(const ChildPlan& plan) {
  SetupReporter reporter(plan.setupErrorFd);
  // First, so nothing of the broker's signal state reaches the worker or disturbs setup.
  resetSignals();
  // Before anything else touches the namespaces: the uid map is written by the broker.
  waitForRelease(plan.releaseFd, reporter);
  // Before the uid switch: host uid 0's owner access may be needed to reach the sources.
  std::vector<int> sources = openBindSources(plan.root, reporter);
  // Before the new root: tmpfs files must be created by a mapped uid. Capabilities in the new
  // user namespace are kept until dropAllCapabilities.
  becomeWorkerIds(plan.dropSupplementaryGroups, reporter);
  // After the uid switch, which clears the parent-death signal: die with the broker.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    reporter.fail("parent death signal", errno, "prctl(PR_SET_PDEATHSIG, SIGKILL)");
  }
  // While we still hold CAP_SYS_ADMIN in the new user namespace.
  enterNewRoot(plan.root, sources, reporter);
  if (sethostname(plan.spec.hostname.data(), plan.spec.hostname.size()) < 0) {
    reporter.fail("hostname", errno, "sethostname(%s)", plan.spec.hostname.c_str());
  }
  // No controlling terminal: TIOCSTI and job-control signals cannot reach the broker's tty.
  if (setsid() < 0) reporter.fail("new session", errno, "setsid()");
  // After pivot_root, so a missing stdin is the sandbox's own /dev/null.
  arrangeChildFds(plan.fds.channel, plan.fds.stdinFd, plan.fds.stdoutFd, plan.fds.stderrFd,
                  reporter);
  // After every privileged step; before seccomp, which refuses capset and prctl. Sets
  // no_new_privs, which Landlock and seccomp both require without capabilities.
  dropAllCapabilities(reporter);
  // After pivot_root (its rules name the new root's paths) and no_new_privs; before seccomp,
  // which refuses the Landlock syscalls.
  applyLandlock(plan.landlock, reporter);
  // After the last step that may allocate (RLIMIT_AS could refuse a sanitizer build's mmaps);
  // before seccomp, to keep the filtered stretch to sendmsg, close and execve.
  applyResourceLimits(plan.spec.limits, reporter);
  // Last before execve, so the allowlist only has to cover execve and the program itself.
  installSeccomp(plan.filter, reporter);
  execve(plan.root.programPath.c_str(), plan.exec.argv.data(), plan.exec.envp.data());
  reporter.fail("execve", errno, "execve(%s)", plan.root.programPath.c_str());
}

}  // namespace _

PendingLaunch beginLaunch(const SandboxSpec& spec, const ChildFds& fds) {
  // Everything that can throw or allocate is prepared here, before clone3.
  validateResourceLimits(spec.limits);
  RootPlan root = planRoot(spec);
  LandlockPlan landlock = planLandlock(spec, root);
  std::vector<const char*> groups(defaultWorkerGroups().begin(), defaultWorkerGroups().end());
  for (const std::string& group : spec.syscalls) {
    // Once each: a group named twice, or one the default has, adds nothing.
    auto same = [&](const char* name) { return group == name; };
    if (std::none_of(groups.begin(), groups.end(), same)) groups.push_back(group.c_str());
  }
  kj::Maybe<const ProfileGrants&> profile;
  if (spec.profileGrants != nullptr) profile = *spec.profileGrants;
  // Native-first reads are as safe as the broker leaving a view path to the kernel only because
  // Landlock confines what the kernel resolves: never without it.
  bool nativeFirst = !spec.nativeFirstLibrary.empty();
  KJ_REQUIRE(!nativeFirst || spec.landlock == Strictness::REQUIRED,
             "native-first reads need Landlock REQUIRED");
  SeccompFilter filter = SeccompFilter::compile(
      kj::arrayPtr(groups.data(), groups.size()), profile,
      kj::arrayPtr(spec.brokeredSyscalls.data(), spec.brokeredSyscalls.size()),
      nativeFirst);
  _::ExecArgs exec(spec);
  HostIds ids = sandboxHostIds(geteuid(), getegid());
  _::Pipe release = _::makePipe();
  _::Pipe setupErrors = _::makeSetupChannel();

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD | _::NAMESPACE_FLAGS;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (spec.cgroup.cloneIntoFd >= 0) {
    // cgroup v2: born in its leaf, accounted and limited from its first instruction.
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(spec.cgroup.cloneIntoFd);
  }
  // No stack: the child continues on a copy of ours, like fork(). Other threads of the caller
  // (airlockd's group-commit and anchor threads) do not exist in the child; that is safe because
  // the child, up to execve, never allocates or takes a lock one of them could hold.
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    int err = errno;
    KJ_FAIL_REQUIRE("sandbox setup failed: clone3(CLONE_PIDFD|CLONE_NEWUSER|CLONE_NEWPID|"
                    "CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS|CLONE_NEWCGROUP)",
                    spec.cgroup.cloneIntoFd >= 0 ? "with CLONE_INTO_CGROUP" : "",
                    strerrorname_np(err), strerror(err), _::HINT);
  }
  if (pid == 0) {
    _::runChild({root, landlock, filter, exec, spec, ids.dropSupplementaryGroups, fds,
                 release.readEnd.get(), setupErrors.writeEnd.get()});
  }
  // From here on the process object kills and reaps the child if anything throws.
  SandboxedProcess process(static_cast<pid_t>(pid), kj::AutoCloseFd(pidfd));
  release.readEnd = nullptr;
  setupErrors.writeEnd = nullptr;  // else our own copy would keep the pipe from reaching EOF
  // Before the release: the child has run nothing of its own yet.
  _::placeInCgroups(spec.cgroup, static_cast<pid_t>(pid));
  writeIdMaps(static_cast<pid_t>(pid), ids);
  char go = 1;
  KJ_SYSCALL(write(release.writeEnd.get(), &go, 1), "releasing the sandbox child");
  release.writeEnd = nullptr;

  // Known before the child reports: the supervision it will run under.
  process.setLandlockAbi(landlock.abi);
  process.setOnRefusedSyscall(spec.onRefusedSyscall, spec.profileGrants);
  if (spec.learnSyscalls) process.learnSyscallsBut(groups, spec.profileGrants);
  return PendingLaunch(kj::mv(process), kj::mv(setupErrors.readEnd), spec.brokeredSyscalls,
                       root.programPath);
}

PendingLaunch::PendingLaunch(SandboxedProcess process, kj::AutoCloseFd channel,
                             std::vector<BrokeredSyscall> brokered, std::string programPath)
    : process_(kj::mv(process)),
      programPath_(kj::mv(programPath)),
      channel_(kj::mv(channel)),
      brokered_(kj::mv(brokered)) {}

bool PendingLaunch::readReport(Read how) {
  while (!complete_ && report_.size() < _::MAX_SETUP_ERROR) {
    char buffer[512];
    struct iovec iov = {buffer, sizeof(buffer)};
    _::OneFdControl control;
    struct msghdr message = _::oneFdMessage(iov, control);
    int flags = MSG_CMSG_CLOEXEC | (how == Read::NO_WAIT ? MSG_DONTWAIT : 0);
    ssize_t n = recvmsg(channel_.get(), &message, flags);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    KJ_SYSCALL(n, "reading the sandbox setup channel");
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&message, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
      int received;
      memcpy(&received, CMSG_DATA(cmsg), sizeof(int));
      kj::AutoCloseFd owned(received);
      // Exactly one listener, ever; a second fd would be a bug in the child.
      KJ_REQUIRE(listener_ == nullptr, "sandbox child sent more than one fd");
      listener_ = kj::mv(owned);
    }
    KJ_REQUIRE(!(message.msg_flags & MSG_CTRUNC), "sandbox setup channel: control data cut");
    if (n == 0) complete_ = true;
    report_.append(buffer, static_cast<size_t>(n));
  }
  complete_ = true;  // EOF, or a report longer than a setup error is: cut, never waited for
  return true;
}

SandboxedProcess PendingLaunch::finish() {
  KJ_REQUIRE(complete_, "the sandbox setup report is not complete yet");
  // The channel stays open until this object goes: an event loop may still be watching its fd.
  // The marker precedes the listener; what follows it is an error (execve failed).
  size_t start = !report_.empty() && report_[0] == _::LISTENER_MARKER ? 1 : 0;
  std::string error = report_.substr(start);
  if (error.empty() && listener_ == nullptr) {
    // Cannot happen unless the child is broken; an unsupervised worker must not run.
    process_.kill();
    error = "seccomp: the child exec'd without handing over its listener";
  }
  if (!error.empty()) {
    ExitStatus status = process_.wait();
    // Only now, on a failed start, is the program's first line read for the script hint.
    std::string script = error.starts_with("execve:") ? _::scriptHint(programPath_) : "";
    const std::string hint = script.empty() ? std::string(_::HINT) : script;
    kj::throwFatalException(kj::Exception(
        kj::Exception::Type::FAILED, __FILE__, __LINE__,
        kj::str("sandbox setup failed: ", error, " (child ", status.describe(), "); ", hint)));
  }
  process_.attachSeccompListener(kj::mv(listener_));
  process_.setBrokeredSyscalls(brokered_);  // after the listener: it sets a flag on it
  return kj::mv(process_);
}

SandboxedProcess launch(const SandboxSpec& spec, const ChildFds& fds) {
  PendingLaunch pending = beginLaunch(spec, fds);
  while (!pending.readReport(PendingLaunch::Read::WAIT)) {
  }
  return pending.finish();
}

}  // namespace airlock::sandbox
