// The sandbox launcher against real processes: tests/integration/programs/sandbox_probe.cc runs
// inside a real sandbox and reports what it could and could not do.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "sandbox/launcher.h"

namespace airlock::sandbox {
namespace {

const std::string PROBE = std::string(AIRLOCK_BIN_DIR) + "/test-sandbox_probe";

struct ProbeResult {
  ExitStatus status;
  std::string output;
};

std::string readAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

ProbeResult runProbe(SandboxSpec spec, int channel = -1) {
  int ends[2];
  KJ_SYSCALL(pipe2(ends, O_CLOEXEC));
  kj::AutoCloseFd readEnd(ends[0]), writeEnd(ends[1]);
  auto process = launch(spec, ChildFds{channel, writeEnd.get(), -1});
  writeEnd = nullptr;
  // Wait first: wait() services seccomp refusals, without which a refusing probe stays stopped
  // and its stdout never reaches EOF. Probe output is far below a pipe's capacity.
  ExitStatus status = process.wait();
  return {status, readAll(readEnd.get())};
}

SandboxSpec probeSpec(std::vector<std::string> args) {
  SandboxSpec spec;
  spec.program = PROBE;
  spec.args = std::move(args);
  return spec;
}

ProbeResult probe(std::vector<std::string> args) { return runProbe(probeSpec(std::move(args))); }

std::string procStatusField(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream rest(line.substr(field.size() + 1));
      std::string value;
      rest >> value;
      return value;
    }
  }
  return "<missing>";
}

std::string nsLink(const std::string& pid, const char* kind) {
  char target[256] = {};
  ssize_t n = readlink(("/proc/" + pid + "/ns/" + kind).c_str(), target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : "<unreadable>";
}

TEST(Sandbox, RunsADynamicallyLinkedProgramAsANonRootUidInside) {
  auto result = probe({"whoami"});
  EXPECT_TRUE(result.status.exited) << result.status.describe();
  EXPECT_EQ(result.output, "uid=1000 gid=1000\n");
}

TEST(Sandbox, LaunchingFromAProcessWithOtherThreadsDoesNotHang) {
  // airlockd runs an audit group-commit thread. The child is a copy of the launching thread
  // only; glibc's id-changing wrappers would wait for the other (absent) threads forever.
  std::mutex mutex;
  std::condition_variable stop;
  bool stopping = false;
  std::thread other([&]() {
    std::unique_lock<std::mutex> lock(mutex);
    stop.wait(lock, [&]() { return stopping; });
  });
  auto result = probe({"whoami"});
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  stop.notify_one();
  other.join();
  EXPECT_TRUE(result.status.exited) << result.status.describe();
  EXPECT_EQ(result.output, "uid=1000 gid=1000\n");
}

TEST(Sandbox, NoSupplementaryGroupOfTheLauncherComesAlong) {
  auto result = probe({"groups"});
  EXPECT_TRUE(result.status.exited) << result.status.describe();
  if (geteuid() == 0) {
    EXPECT_EQ(result.output, "groups:\n");  // host root's groups (gid 0) are dropped
  } else {
    EXPECT_EQ(result.output.find("groups: 0"), std::string::npos) << result.output;
  }
}

TEST(Sandbox, WorkerRunsAsHostNobodyWithNoCapabilitiesNoNewPrivsAndSeccomp) {
  // launch() returns once execve succeeded, so /proc already shows the probe's final state.
  auto process = launch(probeSpec({"sleep"}), ChildFds{});
  pid_t pid = process.pid();
  if (geteuid() == 0) {
    EXPECT_EQ(procStatusField(pid, "Uid"), "65534");  // never host root
    EXPECT_EQ(procStatusField(pid, "Gid"), "65534");
  }
  for (const char* caps : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(procStatusField(pid, caps), "0000000000000000") << caps;
  }
  EXPECT_EQ(procStatusField(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(procStatusField(pid, "Seccomp"), "2");  // filter mode
}

TEST(Sandbox, WorkerIsInNewNamespacesOfEveryKind) {
  auto process = launch(probeSpec({"sleep"}), ChildFds{});
  std::string pid = std::to_string(process.pid());
  for (const char* kind : {"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"}) {
    EXPECT_NE(nsLink(pid, kind), nsLink("self", kind)) << kind;
  }
}

TEST(Sandbox, OnlyStdioAndTheChannelAreOpen) {
  // A descriptor the launcher holds without close-on-exec must not leak in.
  int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto result = runProbe(probeSpec({"list-fds"}), sv[1]);
  close(sv[0]);
  close(sv[1]);
  close(leaky);
  EXPECT_EQ(result.output, "0\n1\n2\n3\n");
}

TEST(Sandbox, WithoutAChannelFdThreeIsClosedToo) {
  EXPECT_EQ(probe({"list-fds"}).output, "0\n1\n2\n");
}

TEST(Sandbox, EnvironmentIsExactlyTheSpecs) {
  setenv("AIRLOCK_TEST_SECRET", "must-not-leak", 1);
  auto spec = probeSpec({"env"});
  spec.env = {"A=1", "B=two"};
  EXPECT_EQ(runProbe(spec).output, "A=1\nB=two\n");
  unsetenv("AIRLOCK_TEST_SECRET");
}

TEST(Sandbox, HostnameIsTheSpecs) {
  auto spec = probeSpec({"hostname"});
  spec.hostname = "probe-host";
  EXPECT_EQ(runProbe(spec).output, "probe-host\n");
}

TEST(Sandbox, HostFilesAndProcAreAbsent) {
  EXPECT_EQ(probe({"open-read", "/etc/passwd"}).output, "errno=ENOENT\n");
  EXPECT_EQ(probe({"open-read", "/proc/self/status"}).output, "errno=ENOENT\n");
  EXPECT_EQ(probe({"exec", "/usr/bin/true"}).output, "errno=ENOENT\n");
}

TEST(Sandbox, RootIsReadOnly) {
  EXPECT_EQ(probe({"create", "/new-file"}).output, "errno=EROFS\n");
  EXPECT_NE(probe({"open-write", PROBE}).output, "ok\n");
}

TEST(Sandbox, ReadOnlyPathsAreVisibleButNotWritable) {
  char dir[] = "/tmp/airlock-sandbox-ro-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  chmod(dir, 0777);  // so that a refused write can only be the read-only mount (EROFS)
  std::string file = std::string(dir) + "/data.txt";
  std::ofstream(file) << "hello";
  chmod(file.c_str(), 0666);
  auto spec = probeSpec({"open-read", file});
  spec.readOnlyPaths = {dir};
  EXPECT_EQ(runProbe(spec).output, "ok\n");
  spec.args = {"open-write", file};
  EXPECT_EQ(runProbe(spec).output, "errno=EROFS\n");
  spec.args = {"create", std::string(dir) + "/new"};
  EXPECT_EQ(runProbe(spec).output, "errno=EROFS\n");
  unlink(file.c_str());
  rmdir(dir);
}

TEST(Sandbox, ProgramUnderA0700RootOwnedDirectoryStillStarts) {
  // The bind sources are cloned before the child switches to its mapped uid (host 65534).
  char dir[] = "/tmp/airlock-sandbox-private-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);  // mode 0700
  std::string copy = std::string(dir) + "/probe";
  {
    std::ifstream in(PROBE, std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  chmod(copy.c_str(), 0755);
  SandboxSpec spec;
  spec.program = copy;
  spec.args = {"whoami"};
  auto result = runProbe(spec);
  EXPECT_EQ(result.output, "uid=1000 gid=1000\n") << result.status.describe();
  unlink(copy.c_str());
  rmdir(dir);
}

TEST(Sandbox, DevicesAreTheMinimalSet) {
  EXPECT_EQ(probe({"devices"}).output, "ok\n");
  EXPECT_EQ(probe({"open-read", "/dev/tty"}).output, "errno=ENOENT\n");
  EXPECT_EQ(probe({"open-read", "/dev/mem"}).output, "errno=ENOENT\n");
}

TEST(Sandbox, ThreadsWorkAndClone3FallsBackWithEnosys) {
  EXPECT_EQ(probe({"thread"}).output, "ok\n");
  EXPECT_EQ(probe({"clone3"}).output, "errno=ENOSYS\n");
}

TEST(Sandbox, RefusedSyscallsKillTheProcessAndAreNamed) {
  struct Case {
    const char* probe;
    const char* refused;  // how the supervisor names it
  };
  for (auto [attack, refused] : {Case{"fork", "clone(0x11, "}, Case{"socket-inet", "socket(0x2, "},
                                 Case{"socket-unix", "socket(0x1, "}, Case{"ptrace", "ptrace("},
                                 Case{"mount", "mount("}, Case{"unshare-user", "unshare(0x10000000"},
                                 Case{"io-uring", "io_uring_setup("},
                                 Case{"tiocsti", "ioctl(0x0, 0x5412"}}) {
    auto result = probe({attack});
    EXPECT_TRUE(result.status.killedBySandbox()) << attack << ": " << result.status.describe();
    EXPECT_EQ(result.status.refusedSyscall.rfind(refused, 0), 0u)
        << attack << ": " << result.status.describe();
    EXPECT_EQ(result.output, "") << attack;
  }
}

TEST(Sandbox, ForeignArchitectureSyscallsKillTheProcessAndAreNamed) {
  auto result = probe({"int80"});
  EXPECT_FALSE(result.status.exited) << result.output;
  EXPECT_TRUE(result.status.killedBySandbox()) << result.status.describe();
  EXPECT_NE(result.status.refusedSyscall.find("[i386 ABI"), std::string::npos)
      << result.status.describe();
  EXPECT_EQ(result.output, "");
}

TEST(Sandbox, WritableMemoryNeverBecomesExecutable) {
  for (auto [attack, refused] : {std::pair{"mmap-wx", "mmap("}, std::pair{"mmap-anon-x", "mmap("},
                                 std::pair{"mprotect-x", "mprotect("}}) {
    auto result = probe({attack});
    EXPECT_EQ(result.status.refusedSyscall.rfind(refused, 0), 0u)
        << attack << ": " << result.status.describe();
  }
}

TEST(Sandbox, PrctlOnlyForHarmlessOptions) {
  EXPECT_EQ(probe({"prctl-name"}).output, "ok\n");
  auto result = probe({"prctl-seccomp"});
  EXPECT_EQ(result.status.refusedSyscall.rfind("prctl(0x16, 0x2", 0), 0u)
      << result.status.describe();
}

TEST(Sandbox, ResourceLimitsAreTheSpecsWithCoreDumpsOff) {
  auto spec = probeSpec({"rlimits"});
  spec.limits.addressSpaceMiB = 512;
  spec.limits.openFiles = 100;
  spec.limits.threads = 8;
  spec.limits.fileSizeMiB = 3;
  spec.limits.cpuSeconds = 60;
  EXPECT_EQ(runProbe(spec).output, "as=512 nofile=100 nproc=8 fsize=3 core=0 cpu=60\n");
}

TEST(Sandbox, LandlockIsAppliedAtTheKernelsAbi) {
  auto process = launch(probeSpec({"sleep"}), ChildFds{});
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1 /* VERSION */);
  ASSERT_GT(abi, 0) << "this kernel has no Landlock; run `airlock doctor`";
  EXPECT_EQ(process.landlockAbi(), std::min(abi, 7L));
}

// This kernel has Landlock, so its absence is played by the spec's ABI ceiling: the one fault of
// that layer the machine cannot produce.
TEST(Sandbox, WithoutLandlockARequiredLayerStopsTheLaunchNamingIt) {
  auto spec = probeSpec({"exit", "0"});
  spec.landlockAbiCeiling = 0;
  try {
    launch(spec, ChildFds{});
    ADD_FAILURE() << "a sandbox requiring Landlock started without it";
  } catch (const kj::Exception& e) {
    std::string what = e.getDescription().cStr();
    EXPECT_NE(what.find("landlock: this kernel offers no Landlock"), std::string::npos) << what;
    EXPECT_NE(what.find("airlock doctor"), std::string::npos) << what;
  }
}

TEST(Sandbox, WithoutLandlockABestEffortLayerRunsWithTheOtherLayersStillInPlace) {
  auto spec = probeSpec({"sleep"});
  spec.landlockAbiCeiling = 0;
  spec.landlock = Strictness::BEST_EFFORT;
  auto process = launch(spec, ChildFds{});
  EXPECT_EQ(process.landlockAbi(), 0);
  process.kill();
  auto weakened = probeSpec({"prctl-seccomp"});
  weakened.landlockAbiCeiling = 0;
  weakened.landlock = Strictness::BEST_EFFORT;
  auto result = runProbe(weakened);  // seccomp still refuses, and names, what it always did
  EXPECT_EQ(result.status.refusedSyscall.rfind("prctl(0x16, 0x2", 0), 0u)
      << result.status.describe();
}

TEST(Sandbox, LandlockAllowsExecutingOnlyTheProgram) {
  // The library directories are mounted executable (ld.so needs that), so only Landlock stands
  // between the worker and another binary there.
  std::string other;
  for (const char* candidate : {"/usr/lib/systemd/systemd-ac-power", "/usr/lib/udev/hwclock-set",
                                "/usr/lib/openssh/ssh-keysign"}) {
    if (access(candidate, X_OK) == 0) {
      other = candidate;
      break;
    }
  }
  if (other.empty()) GTEST_SKIP() << "no executable under /usr/lib to try";
  EXPECT_EQ(probe({"exec", other}).output, "errno=EACCES\n");
}

TEST(Sandbox, ExitCodesAndCrashesAreReported) {
  EXPECT_EQ(probe({"exit", "3"}).status.describe(), "exited with status 3");
  EXPECT_EQ(probe({"segv"}).status.describe(), "killed by SIGSEGV");
}

TEST(Sandbox, KjEventLoopReceivesAnFdOverTheChannel) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  kj::AutoCloseFd ours(sv[0]), theirs(sv[1]);
  int data[2];
  ASSERT_EQ(pipe2(data, O_CLOEXEC), 0);
  ASSERT_EQ(write(data[1], "hello", 5), 5);
  close(data[1]);
  auto process = launch(probeSpec({"channel-echo"}), ChildFds{theirs.get(), -1, -1});
  theirs = nullptr;
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &data[0], sizeof(int));
  ASSERT_EQ(sendmsg(ours.get(), &message, 0), 1);
  close(data[0]);
  EXPECT_EQ(readAll(ours.get()), "hello+thread");
  EXPECT_EQ(process.wait().describe(), "exited with status 0");
}

TEST(Sandbox, SetupFailureNamesTheStepTheCallAndTheErrno) {
  try {
    SandboxSpec spec;
    spec.program = "/nonexistent/program";
    launch(spec, ChildFds{});
    FAIL() << "launch of a missing program succeeded";
  } catch (const kj::Exception& e) {
    std::string text = e.getDescription().cStr();
    EXPECT_NE(text.find("bind sources"), std::string::npos) << text;
    EXPECT_NE(text.find("open_tree(/nonexistent/program"), std::string::npos) << text;
    EXPECT_NE(text.find("ENOENT"), std::string::npos) << text;
    EXPECT_NE(text.find("airlock doctor"), std::string::npos) << text;
  }
}

TEST(Sandbox, MissingReadOnlyPathFailsSetup) {
  auto spec = probeSpec({"whoami"});
  spec.readOnlyPaths = {"/nonexistent/data"};
  try {
    launch(spec, ChildFds{});
    FAIL() << "launch with a missing read-only path succeeded";
  } catch (const kj::Exception& e) {
    std::string text = e.getDescription().cStr();
    EXPECT_NE(text.find("open_tree(/nonexistent/data"), std::string::npos) << text;
  }
}

TEST(Sandbox, ExecFailureIsReportedAfterTheFilterIsInstalled) {
  // A file that is bound but not executable: everything succeeds up to execve itself.
  char path[] = "/tmp/airlock-sandbox-noexec-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  chmod(path, 0644);
  SandboxSpec spec;
  spec.program = path;
  try {
    launch(spec, ChildFds{});
    FAIL() << "exec of a non-executable file succeeded";
  } catch (const kj::Exception& e) {
    std::string text = e.getDescription().cStr();
    EXPECT_NE(text.find("execve("), std::string::npos) << text;
    EXPECT_NE(text.find("EACCES"), std::string::npos) << text;
  }
  unlink(path);
}

TEST(Sandbox, DestructorKillsAndReapsASleepingChild) {
  int pidfdCopy;
  {
    auto process = launch(probeSpec({"sleep"}), ChildFds{});
    pidfdCopy = fcntl(process.pidfd(), F_DUPFD_CLOEXEC, 0);
    ASSERT_GE(pidfdCopy, 0);
    EXPECT_FALSE(process.tryReap().has_value());
  }
  kj::AutoCloseFd pidfd(pidfdCopy);
  struct pollfd exited = {pidfd.get(), POLLIN, 0};
  EXPECT_EQ(poll(&exited, 1, 0), 1);  // a pidfd is readable once its process has exited
  EXPECT_EQ(syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(Sandbox, KillThenWaitReportsSigkill) {
  auto process = launch(probeSpec({"sleep"}), ChildFds{});
  process.kill();
  EXPECT_EQ(process.wait().describe(), "killed by SIGKILL");
}

// Learning is on record or not at all: a process that may learn syscalls but has no recorder is
// killed at the first one, as if it were refused; with a recorder, the syscall runs after the
// recorder took it, and its uses are counted.
TEST(Sandbox, ALearningProcessWithNothingToRecordWhatItLearnsIsKilled) {
  auto spec = probeSpec({"statfs"});
  spec.learnSyscalls = true;
  auto result = runProbe(spec);
  EXPECT_TRUE(result.status.killedBySandbox()) << result.status.describe();
  EXPECT_NE(result.status.refusedSyscall.find("statfs"), std::string::npos)
      << result.status.describe();
  EXPECT_NE(result.status.refusedSyscall.find("nothing records what this process learns"),
            std::string::npos)
      << result.status.describe();
  EXPECT_TRUE(result.status.learnedSyscalls.empty());
}

TEST(Sandbox, ALearnedSyscallRunsOnlyAfterItsRecorderTookIt) {
  auto spec = probeSpec({"statfs"});
  spec.learnSyscalls = true;
  int ends[2];
  KJ_SYSCALL(pipe2(ends, O_CLOEXEC));
  kj::AutoCloseFd readEnd(ends[0]), writeEnd(ends[1]);
  auto process = launch(spec, ChildFds{-1, writeEnd.get(), -1});
  writeEnd = nullptr;
  std::vector<std::string> recorded;
  process.setLearnedRecorder([&](const RefusedSyscall& learned) {
    recorded.push_back(learned.name());
    return true;
  });
  ExitStatus status = process.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << status.describe();
  EXPECT_EQ(readAll(readEnd.get()), "ok\n");
  EXPECT_EQ(recorded, std::vector<std::string>{"statfs"});
  EXPECT_EQ(status.learnedSyscalls.at("statfs"), 1u);
  EXPECT_TRUE(status.answeredSyscalls.empty());
}

}  // namespace
}  // namespace airlock::sandbox
