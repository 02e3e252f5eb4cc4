// The escape suite: each attack (tests/escape/programs/escape_probe.cc) runs once outside the
// sandbox where that is safe, proving it works, and once inside, where the test asserts evidence
// on the host side: the canary's inotify watch saw nothing, the listener got no connection, the
// victim process is alive and untraced, the supervisor named the refused syscall (the kernel's
// seccomp notification, not the attacker's word). Runs as root and as an unprivileged user.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/launcher.h"
#include "sandbox/profile_grants.h"
#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {
namespace {

// The attack program. run_unprivileged.sh points this at a copy an unprivileged user can reach
// (the build tree may not be).
std::string probePath() {
  const char* copy = getenv("AIRLOCK_ESCAPE_PROBE");
  return copy != nullptr ? copy : std::string(AIRLOCK_BIN_DIR) + "/test-escape_probe";
}
const std::string PROBE = probePath();
const std::string DOCKER_PROFILE =
    std::string(AIRLOCK_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json";
constexpr const char* CANARY = "TOP-SECRET-CANARY";

bool isRoot() { return geteuid() == 0; }

struct Outcome {
  ExitStatus status;
  std::string output;
  bool succeeded() const { return output.rfind("ok", 0) == 0; }
};

std::string readAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

struct OutputPipe {
  kj::AutoCloseFd readEnd, writeEnd;
  OutputPipe() {
    int ends[2];
    KJ_SYSCALL(pipe2(ends, O_CLOEXEC));
    readEnd = kj::AutoCloseFd(ends[0]);
    writeEnd = kj::AutoCloseFd(ends[1]);
  }
};

// AIRLOCK_ESCAPE_WIDEST=1 runs every attack with every opt-in syscall group allowed as well, and
// what a ~360-syscall Docker-format profile is granted: the widest sandbox a policy can ask for
// without a dangerous allowance must hold the same line.
bool widest() { return getenv("AIRLOCK_ESCAPE_WIDEST") != nullptr; }

std::vector<std::string> optInGroups() {
  std::vector<std::string> groups;
  if (!widest()) return groups;
  for (auto& group : syscallGroups()) {
    if (!isDefaultGroup(group.name) && group.danger == nullptr) groups.push_back(group.name);
  }
  return groups;
}

std::shared_ptr<const ProfileGrants> widestProfile() {
  if (!widest()) return nullptr;
  ProfileParse parsed = readSeccompProfile(DOCKER_PROFILE, DOCKER_PROFILE);
  if (auto* error = std::get_if<std::string>(&parsed)) KJ_FAIL_REQUIRE("test profile", *error);
  auto grants = grantProfile(std::get<SeccompProfile>(parsed), thisKernelConditions());
  // The rerun is only as wide as the profile makes it: it must grant beyond the default groups.
  KJ_REQUIRE(grants.grantedBeyondDefault() > 0, "the test profile grants nothing");
  return std::make_shared<const ProfileGrants>(std::move(grants));
}

Outcome inside(std::vector<std::string> args,
               const std::function<void(SandboxSpec&)>& adjust = nullptr, int stdoutFd = -1) {
  SandboxSpec spec;
  spec.program = PROBE;
  spec.syscalls = optInGroups();
  spec.profileGrants = widestProfile();
  spec.args = std::move(args);
  if (adjust) adjust(spec);
  OutputPipe pipe;
  auto process = launch(spec, ChildFds{-1, stdoutFd >= 0 ? stdoutFd : pipe.writeEnd.get(), -1});
  pipe.writeEnd = nullptr;
  ExitStatus status = process.wait();  // services seccomp refusals
  return {status, readAll(pipe.readEnd.get())};
}

// The same attack as a plain child process: only where running it on the host is harmless.
Outcome outside(std::vector<std::string> args) {
  OutputPipe pipe;
  pid_t pid = fork();
  KJ_SYSCALL(pid);
  if (pid == 0) {
    dup2(pipe.writeEnd.get(), STDOUT_FILENO);
    std::vector<char*> argv = {const_cast<char*>(PROBE.c_str())};
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(PROBE.c_str(), argv.data());
    _exit(127);
  }
  pipe.writeEnd = nullptr;
  std::string output = readAll(pipe.readEnd.get());
  int status = 0;
  waitpid(pid, &status, 0);
  ExitStatus exit;
  exit.exited = WIFEXITED(status);
  exit.code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return {exit, output};
}

void expectRefused(const Outcome& outcome, const std::string& syscallPrefix) {
  // With every opt-in group, socket(AF_UNIX) is answered EPERM (nss-without-daemons) instead of
  // stopping the probe: the syscall never runs all the same, and the probe reports the errno.
  if (!optInGroups().empty() && syscallPrefix == "socket(0x1, ") {
    EXPECT_EQ(outcome.output, "errno=EPERM\n") << outcome.status.describe();
    EXPECT_FALSE(outcome.succeeded()) << outcome.output;
    return;
  }
  EXPECT_TRUE(outcome.status.killedBySandbox()) << outcome.status.describe();
  EXPECT_EQ(outcome.status.refusedSyscall.rfind(syscallPrefix, 0), 0u)
      << "expected " << syscallPrefix << "...: " << outcome.status.describe();
  EXPECT_FALSE(outcome.succeeded()) << outcome.output;
}

// A host directory holding a canary file, readable by whoever runs the suite.
class HostDir {
 public:
  HostDir() {
    char path[] = "/tmp/airlock-escape-XXXXXX";
    KJ_ASSERT(mkdtemp(path) != nullptr);
    path_ = path;
    chmod(path_.c_str(), 0755);
    std::ofstream(file("secret")) << CANARY;
    chmod(file("secret").c_str(), 0644);
  }
  ~HostDir() {
    std::string command = "rm -rf '" + path_ + "'";
    if (system(command.c_str()) != 0) KJ_LOG(WARNING, "could not remove", path_);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name));
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }
  bool exists(const std::string& name) const { return access(file(name).c_str(), F_OK) == 0; }
  std::function<void(SandboxSpec&)> bound() const {
    std::string dir = path_;
    return [dir](SandboxSpec& spec) { spec.readOnlyPaths.push_back(dir); };
  }

 private:
  std::string path_;
};

// inotify on a host path: any open, read, write, attribute change, creation or deletion.
class Watch {
 public:
  explicit Watch(const std::string& path) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    KJ_SYSCALL(fd);
    fd_ = kj::AutoCloseFd(fd);
    KJ_SYSCALL(inotify_add_watch(fd_.get(), path.c_str(),
                                 IN_OPEN | IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CREATE |
                                     IN_DELETE | IN_MOVED_TO),
               path);
  }
  size_t events() {
    size_t count = 0;
    alignas(inotify_event) char buffer[4096];
    ssize_t n;
    while ((n = read(fd_.get(), buffer, sizeof(buffer))) > 0) {
      for (char* at = buffer; at < buffer + n;) {
        auto* event = reinterpret_cast<inotify_event*>(at);
        ++count;
        at += sizeof(inotify_event) + event->len;
      }
    }
    return count;
  }

 private:
  kj::AutoCloseFd fd_;
};

// A listening socket the test owns; connected() says whether anyone completed a connection.
class Listener {
 public:
  static Listener tcp() {
    Listener listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener.bindAndListen(reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    KJ_SYSCALL(getsockname(listener.fd_.get(), reinterpret_cast<sockaddr*>(&address), &length));
    listener.port_ = ntohs(address.sin_port);
    return listener;
  }
  static Listener unix(const std::string& name, bool abstract) {
    Listener listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    size_t offset = abstract ? 1 : 0;
    memcpy(address.sun_path + offset, name.data(), name.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset +
                                              name.size() + (abstract ? 0 : 1));
    listener.bindAndListen(reinterpret_cast<sockaddr*>(&address), length);
    if (!abstract) chmod(name.c_str(), 0777);  // a refusal must not be mere permissions
    return listener;
  }
  int port() const { return port_; }
  bool connected() {
    int fd = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
  }

 private:
  explicit Listener(int fd) : fd_(fd) { KJ_ASSERT(fd >= 0); }
  void bindAndListen(sockaddr* address, socklen_t length) {
    KJ_SYSCALL(bind(fd_.get(), address, length));
    KJ_SYSCALL(listen(fd_.get(), 8));
  }
  kj::AutoCloseFd fd_;
  int port_ = 0;
};

// A host process to attack: /bin/sleep with a secret in its environment, dying with the test.
class Victim {
 public:
  Victim() {
    int pidfd = -1;
    // The child's copy of the write end closes at execve: EOF means it is /bin/sleep now, so
    // /proc/PID/environ holds the secret.
    OutputPipe execed;
    pid_ = fork();
    KJ_SYSCALL(pid_);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const char* argv[] = {"/bin/sleep", "3600", nullptr};
      const char* envp[] = {"VICTIM_SECRET=victim-env-canary", nullptr};
      execve(argv[0], const_cast<char**>(argv), const_cast<char**>(envp));
      _exit(127);
    }
    KJ_SYSCALL(pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    pidfd_ = kj::AutoCloseFd(pidfd);
    execed.writeEnd = nullptr;
    readAll(execed.readEnd.get());
  }
  ~Victim() {
    syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    waitpid(pid_, nullptr, 0);
  }
  std::string pid() const { return std::to_string(pid_); }
  bool alive() const {
    siginfo_t info = {};
    return waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }
  int waitForSignal() const {  // blocks until it has died; its killing signal
    siginfo_t info = {};
    KJ_SYSCALL(waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | WNOWAIT));
    return info.si_code == CLD_KILLED ? info.si_status : 0;
  }
  std::string tracerPid() const {
    std::ifstream status("/proc/" + pid() + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("TracerPid:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 10));
    }
    return "?";
  }

 private:
  pid_t pid_;
  kj::AutoCloseFd pidfd_;
};

// --- The filesystem -------------------------------------------------------------------------

TEST(Escape, ReadingAHostSecret) {
  HostDir dir;
  {
    Watch watch(dir.file("secret"));
    auto out = outside({"read-file", dir.file("secret")});
    EXPECT_NE(out.output.find(CANARY), std::string::npos) << "attack must work outside";
    EXPECT_GT(watch.events(), 0u);
  }
  Watch watch(dir.file("secret"));
  auto in = inside({"read-file", dir.file("secret")});
  EXPECT_EQ(in.output.find(CANARY), std::string::npos) << in.output;
  EXPECT_EQ(watch.events(), 0u) << "the canary was touched from inside";
}

TEST(Escape, WritingAHostFileThatIsBoundReadOnly) {
  HostDir dir;
  chmod(dir.file("secret").c_str(), 0666);
  auto out = outside({"write-file", dir.file("secret")});
  EXPECT_TRUE(out.succeeded()) << out.output;
  EXPECT_EQ(dir.read("secret"), std::string(CANARY) + "pwned");
  std::ofstream(dir.file("secret"), std::ios::trunc) << CANARY;

  Watch watch(dir.file("secret"));
  auto in = inside({"write-file", dir.file("secret")}, dir.bound());
  EXPECT_FALSE(in.succeeded()) << in.output;
  EXPECT_EQ(watch.events(), 0u);  // before our own read below
  EXPECT_EQ(dir.read("secret"), CANARY);
}

TEST(Escape, CreatingAFileInABoundHostDirectory) {
  HostDir dir;
  chmod(dir.path().c_str(), 0777);
  auto out = outside({"create-file", dir.file("planted")});
  EXPECT_TRUE(out.succeeded() && dir.exists("planted")) << out.output;
  unlink(dir.file("planted").c_str());

  Watch watch(dir.path());
  auto in = inside({"create-file", dir.file("planted")}, dir.bound());
  EXPECT_FALSE(in.succeeded()) << in.output;
  EXPECT_EQ(watch.events(), 0u) << "something was created, deleted or opened in the directory";
  EXPECT_FALSE(dir.exists("planted"));
}

TEST(Escape, WritingProcSysAndSys) {
  std::string before;
  std::ifstream("/proc/sys/kernel/core_pattern") >> before;
  // Never outside: this would rewrite the host's core_pattern (a root escape with bubblewrap).
  auto in = inside({"write-file", "/proc/sys/kernel/core_pattern"});
  EXPECT_EQ(in.output, "errno=ENOENT\n");
  auto sys = inside({"write-file", "/sys/kernel/mm/transparent_hugepage/enabled"});
  EXPECT_EQ(sys.output, "errno=ENOENT\n");
  std::string after;
  std::ifstream("/proc/sys/kernel/core_pattern") >> after;
  EXPECT_EQ(before, after);
}

TEST(Escape, ChrootBreakout) {
  // Never outside: as root it would leave the test in the host's real root anyway.
  expectRefused(inside({"chroot-breakout"}), "chroot(");
}

TEST(Escape, OpenByHandleAt) {
  if (isRoot()) {
    EXPECT_TRUE(outside({"open-by-handle"}).succeeded());
  }
  expectRefused(inside({"open-by-handle"}), "name_to_handle_at(");
}

TEST(Escape, InheritedFdScan) {
  HostDir dir;
  int leaked = open(dir.file("secret").c_str(), O_RDONLY);  // deliberately not close-on-exec
  ASSERT_GE(leaked, 0);
  kj::AutoCloseFd owned(leaked);
  auto out = outside({"inherited-fds"});
  EXPECT_NE(out.output.find(CANARY), std::string::npos) << out.output;
  Watch watch(dir.file("secret"));
  auto in = inside({"inherited-fds"});
  EXPECT_EQ(in.output.find(CANARY), std::string::npos) << in.output;
  EXPECT_EQ(in.output, "errno=EBADF\n");  // no fd above stderr at all
  EXPECT_EQ(watch.events(), 0u);
}

// --- Executing code -------------------------------------------------------------------------

std::string otherExecutable() {
  for (const char* candidate : {"/usr/lib/systemd/systemd-ac-power", "/usr/lib/udev/hwclock-set",
                                "/usr/lib/openssh/ssh-keysign"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

TEST(Escape, ExecutingAnotherBinaryOnAnExecutableMount) {
  std::string other = otherExecutable();
  if (other.empty()) GTEST_SKIP() << "no executable under /usr/lib to try";
  auto out = outside({"exec", other, "--help"});
  EXPECT_EQ(out.output.find("errno="), std::string::npos) << "exec must work outside";
  EXPECT_EQ(inside({"exec", other, "--help"}).output, "errno=EACCES\n");  // Landlock
}

TEST(Escape, ExecutingAMemfd) {
  EXPECT_EQ(outside({"memfd-exec"}).output, "ok\n") << "the payload ran outside";
  expectRefused(inside({"memfd-exec"}), "memfd_create(");
}

TEST(Escape, WritableExecutableMemory) {
  EXPECT_TRUE(outside({"mmap-rwx"}).succeeded());
  expectRefused(inside({"mmap-rwx"}), "mmap(");
}

TEST(Escape, PersonalityReadImpliesExec) {
  EXPECT_TRUE(outside({"personality"}).succeeded());
  expectRefused(inside({"personality"}), "personality(0x400000");
}

// --- The network ----------------------------------------------------------------------------

TEST(Escape, TcpToAHostLoopbackListener) {
  auto listener = Listener::tcp();
  auto port = std::to_string(listener.port());
  EXPECT_TRUE(outside({"tcp-connect", port}).succeeded());
  EXPECT_TRUE(listener.connected()) << "attack must work outside";
  expectRefused(inside({"tcp-connect", port}), "socket(0x2, ");
  EXPECT_FALSE(listener.connected());
}

TEST(Escape, AHostAbstractUnixSocket) {
  std::string name = "airlock-escape-" + std::to_string(getpid());
  auto listener = Listener::unix(name, true);
  EXPECT_TRUE(outside({"abstract-connect", name}).succeeded());
  EXPECT_TRUE(listener.connected());
  expectRefused(inside({"abstract-connect", name}), "socket(0x1, ");
  EXPECT_FALSE(listener.connected());
}

TEST(Escape, AHostPathUnixSocketInABoundDirectory) {
  HostDir dir;
  auto listener = Listener::unix(dir.file("sock"), false);
  EXPECT_TRUE(outside({"path-connect", dir.file("sock")}).succeeded());
  EXPECT_TRUE(listener.connected());
  expectRefused(inside({"path-connect", dir.file("sock")}, dir.bound()), "socket(0x1, ");
  EXPECT_FALSE(listener.connected());
}

// --- Other processes ------------------------------------------------------------------------

TEST(Escape, KillingAHostProcess) {
  {
    Victim victim;
    EXPECT_TRUE(outside({"kill", victim.pid()}).succeeded());
    EXPECT_EQ(victim.waitForSignal(), SIGKILL) << "attack must work outside";
  }
  Victim victim;
  auto in = inside({"kill", victim.pid()});
  // The kernel's answer: no such process in the worker's PID namespace, so no signal was sent.
  EXPECT_EQ(in.output, "errno=ESRCH\n");
  EXPECT_TRUE(victim.alive());
}

TEST(Escape, KillingEveryProcessItCanSee) {
  Victim victim;
  // Never outside: kill(-1, SIGKILL) would take down everything this user runs.
  EXPECT_EQ(inside({"kill-all"}).output, "errno=ESRCH\n");  // it is alone in its namespace
  EXPECT_TRUE(victim.alive());
}

TEST(Escape, PtraceOfAHostProcess) {
  if (isRoot()) {
    Victim victim;
    EXPECT_TRUE(outside({"ptrace-attach", victim.pid()}).succeeded());
  }
  Victim victim;
  expectRefused(inside({"ptrace-attach", victim.pid()}), "ptrace(0x10, " );
  EXPECT_TRUE(victim.alive());
  EXPECT_EQ(victim.tracerPid(), "0");
}

TEST(Escape, ProcOfAHostProcess) {
  Victim victim;
  EXPECT_NE(outside({"proc-environ", victim.pid()}).output.find("victim-env-canary"),
            std::string::npos);
  auto in = inside({"proc-environ", victim.pid()});
  EXPECT_EQ(in.output, "errno=ENOENT\n");
}

TEST(Escape, ForkBomb) {
  EXPECT_TRUE(outside({"fork-once"}).succeeded());  // never the bomb itself outside
  expectRefused(inside({"fork-bomb"}), "clone(");
}

// --- Kernel attack surface ------------------------------------------------------------------

TEST(Escape, I386SyscallThroughInt80) {
  HostDir dir;
  chmod(dir.path().c_str(), 0777);
  auto out = outside({"int80-creat", dir.file("int80")});
  EXPECT_TRUE(out.succeeded() && dir.exists("int80")) << "i386 syscalls work here: " << out.output;
  unlink(dir.file("int80").c_str());
  auto in = inside({"int80-creat", dir.file("int80")}, dir.bound());
  expectRefused(in, "creat(");  // named from the i386 table: i386 creat is 8, x86_64's is 85
  EXPECT_NE(in.status.refusedSyscall.find("[i386 ABI"), std::string::npos)
      << in.status.describe();
  EXPECT_FALSE(dir.exists("int80"));
}

TEST(Escape, X32Syscall) {
  HostDir dir;
  chmod(dir.path().c_str(), 0777);
  auto out = outside({"x32-creat", dir.file("x32")});  // ENOSYS where the kernel lacks x32
  unlink(dir.file("x32").c_str());
  auto in = inside({"x32-creat", dir.file("x32")}, dir.bound());
  expectRefused(in, "creat(");
  EXPECT_NE(in.status.refusedSyscall.find("[x32 ABI"), std::string::npos)
      << in.status.describe() << " (outside: " << out.output << ")";
  EXPECT_FALSE(dir.exists("x32"));
}

TEST(Escape, IoUring) {
  if (isRoot()) {
    EXPECT_TRUE(outside({"io-uring"}).succeeded());
  }
  expectRefused(inside({"io-uring"}), "io_uring_setup(");
}

TEST(Escape, Userfaultfd) {
  if (isRoot()) {
    EXPECT_TRUE(outside({"userfaultfd"}).succeeded());
  }
  expectRefused(inside({"userfaultfd"}), "userfaultfd(");
}

TEST(Escape, Bpf) {
  if (isRoot()) {
    EXPECT_TRUE(outside({"bpf"}).succeeded());
  }
  expectRefused(inside({"bpf"}), "bpf(0x0, ");
}

TEST(Escape, PerfEventOpen) {
  outside({"perf-event-open"});  // depends on kernel.perf_event_paranoid
  expectRefused(inside({"perf-event-open"}), "perf_event_open(");
}

TEST(Escape, KernelKeyrings) {
  // Never outside: it would add a key to this process's keyring.
  expectRefused(inside({"add-key"}), "add_key(");
}

TEST(Escape, NestedUserNamespace) {
  EXPECT_TRUE(outside({"unshare-user"}).succeeded());
  expectRefused(inside({"unshare-user"}), "unshare(0x10000000");
}

TEST(Escape, MountingOverTheRoot) {
  // Never outside.
  expectRefused(inside({"mount-tmpfs"}), "mount(");
}

TEST(Escape, LoadingAKernelModule) {
  // Never outside.
  expectRefused(inside({"finit-module", "/dev/null"}), "finit_module(");
}

TEST(Escape, NewSeccompListener) {
  EXPECT_TRUE(outside({"seccomp-listener"}).succeeded());
  expectRefused(inside({"seccomp-listener"}), "prctl(0x26");  // no_new_privs is refused first
}

TEST(Escape, TerminalInjectionWithTiocsti) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  kj::AutoCloseFd masterFd(master);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  kj::AutoCloseFd slaveFd(slave);
  // Never outside: it would type into a terminal. Inside, stdout is the pty.
  auto in = inside({"tiocsti"}, nullptr, slave);
  expectRefused(in, "ioctl(0x1, 0x5412");
  int pending = -1;
  ASSERT_EQ(ioctl(slave, FIONREAD, &pending), 0);
  EXPECT_EQ(pending, 0) << "input was injected into the terminal";
}

// --- Identity, time, resources --------------------------------------------------------------

TEST(Escape, ChangingTheHostname) {
  char before[256] = {}, after[256] = {};
  gethostname(before, sizeof(before));
  expectRefused(inside({"sethostname"}), "sethostname(");
  gethostname(after, sizeof(after));
  EXPECT_STREQ(before, after);
}

TEST(Escape, SettingTheClock) {
  // Never outside.
  expectRefused(inside({"clock-settime"}), "clock_settime(");
}

TEST(Escape, ThreadBombStopsAtTheLimit) {
  auto in = inside({"thread-bomb"}, [](SandboxSpec& spec) { spec.limits.threads = 16; });
  ASSERT_EQ(in.output.rfind("ok threads=", 0), 0u) << in.output << in.status.describe();
  EXPECT_LT(std::stoi(in.output.substr(11)), 16) << in.output;
}

TEST(Escape, MemoryBombStopsAtTheLimit) {
  auto in = inside({"memory-bomb"}, [](SandboxSpec& spec) { spec.limits.addressSpaceMiB = 256; });
  ASSERT_EQ(in.output.rfind("ok mib=", 0), 0u) << in.output << in.status.describe();
  EXPECT_LT(std::stoi(in.output.substr(7)), 256) << in.output;
}

TEST(Escape, FdExhaustionStopsAtTheLimit) {
  auto in = inside({"fd-exhaustion"}, [](SandboxSpec& spec) { spec.limits.openFiles = 64; });
  ASSERT_EQ(in.output.rfind("ok fds=", 0), 0u) << in.output << in.status.describe();
  EXPECT_LT(std::stoi(in.output.substr(7)), 64) << in.output;
}

}  // namespace
}  // namespace airlock::sandbox
