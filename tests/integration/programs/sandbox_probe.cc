// Runs inside the airlock sandbox and performs the probe named by argv[1], reporting on stdout.
// Probes that the sandbox must refuse either print the errno name ("errno=EROFS") and exit 1,
// or are killed by seccomp before they can print anything.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <kj/async-io.h>
#include <kj/async-unix.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

extern char** environ;

namespace {

int report(int rc) {
  if (rc >= 0) {
    printf("ok\n");
    return 0;
  }
  printf("errno=%s\n", strerrorname_np(errno));
  return 1;
}

int listFds() {
  for (int fd = 0; fd < 1024; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) printf("%d\n", fd);
  }
  return 0;
}

int printEnv() {
  for (char** var = environ; *var != nullptr; ++var) printf("%s\n", *var);
  return 0;
}

int readDevices() {
  char buffer[16];
  int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (urandom < 0 || read(urandom, buffer, sizeof(buffer)) != sizeof(buffer)) return report(-1);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0 || write(null, buffer, sizeof(buffer)) != sizeof(buffer)) return report(-1);
  return report(0);
}

// An i386 syscall (getpid through int 0x80): a foreign-architecture filter bypass attempt.
int int80() {
  long result = 20;  // __NR_getpid on i386
  asm volatile("int $0x80" : "+a"(result) : : "memory");
  printf("int80 returned %ld\n", result);
  return 0;
}

// The kj event loop a worker runs, on the channel (fd 3): receive one fd plus a message, read
// the passed fd, write its content back, then a thread joins the answer.
int channelEcho() {
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapUnixSocketFd(3);
  char buffer[64];
  kj::AutoCloseFd passed[1];
  auto got = stream->tryReadWithFds(buffer, 1, sizeof(buffer), passed, 1).wait(io.waitScope);
  if (got.capCount != 1) return 2;
  char content[64];
  ssize_t n = read(passed[0].get(), content, sizeof(content));
  if (n < 0) return 3;
  std::string answer(content, static_cast<size_t>(n));
  std::thread worker([&answer]() { answer += "+thread"; });
  worker.join();
  stream->write(answer.data(), answer.size()).wait(io.waitScope);
  io.provider->getTimer().afterDelay(1 * kj::MILLISECONDS).wait(io.waitScope);
  return 0;
}

unsigned long long limitOf(int resource) {
  struct rlimit limit;
  getrlimit(resource, &limit);
  return limit.rlim_cur == RLIM_INFINITY ? 0 : static_cast<unsigned long long>(limit.rlim_cur);
}

int printLimits() {
  printf("as=%llu nofile=%llu nproc=%llu fsize=%llu core=%llu cpu=%llu\n",
         limitOf(RLIMIT_AS) >> 20, limitOf(RLIMIT_NOFILE), limitOf(RLIMIT_NPROC),
         limitOf(RLIMIT_FSIZE) >> 20, limitOf(RLIMIT_CORE), limitOf(RLIMIT_CPU));
  return 0;
}

int mapProbe(const std::string& probe) {
  constexpr size_t PAGE = 4096;
  int anon = MAP_PRIVATE | MAP_ANONYMOUS;
  if (probe == "mmap-wx") {
    return report(mmap(nullptr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, anon, -1, 0) == MAP_FAILED ? -1 : 0);
  }
  if (probe == "mmap-anon-x") {
    return report(mmap(nullptr, PAGE, PROT_READ | PROT_EXEC, anon, -1, 0) == MAP_FAILED ? -1 : 0);
  }
  void* page = mmap(nullptr, PAGE, PROT_READ | PROT_WRITE, anon, -1, 0);
  if (page == MAP_FAILED) return report(-1);
  static_cast<unsigned char*>(page)[0] = 0xc3;  // ret
  return report(mprotect(page, PAGE, PROT_READ | PROT_EXEC));  // "mprotect-x"
}

int runProbe(const std::string& probe, const char* arg) {
  if (probe == "whoami") {
    printf("uid=%d gid=%d\n", getuid(), getgid());
    return 0;
  }
  if (probe == "groups") {
    gid_t groups[64];
    int n = getgroups(64, groups);
    printf("groups:");
    for (int i = 0; i < n; ++i) printf(" %u", groups[i]);
    printf("\n");
    return 0;
  }
  if (probe == "list-fds") return listFds();
  if (probe == "rlimits") return printLimits();
  if (probe == "mmap-wx" || probe == "mmap-anon-x" || probe == "mprotect-x") return mapProbe(probe);
  if (probe == "statfs") {  // in no default group (fs-metadata): refused, or learned
    struct statfs fs;
    return report(statfs("/", &fs));
  }
  if (probe == "prctl-name") return report(prctl(PR_SET_NAME, "probe", 0, 0, 0));
  if (probe == "prctl-seccomp") return report(prctl(PR_SET_SECCOMP, 2, 0, 0, 0));
  if (probe == "env") return printEnv();
  if (probe == "hostname") {
    struct utsname names;
    uname(&names);
    printf("%s\n", names.nodename);
    return 0;
  }
  if (probe == "open-read") return report(open(arg, O_RDONLY | O_CLOEXEC));
  if (probe == "open-write") return report(open(arg, O_WRONLY | O_CLOEXEC));
  if (probe == "create") return report(open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (probe == "mkdir") return report(mkdir(arg, 0755));
  if (probe == "devices") return readDevices();
  if (probe == "exec") {
    char* argv[] = {const_cast<char*>(arg), nullptr};
    return report(execve(arg, argv, environ));
  }
  if (probe == "thread") {
    int value = 0;
    std::thread thread([&value]() { value = 42; });
    thread.join();
    return report(value == 42 ? 0 : -1);
  }
  if (probe == "clone3") return report(static_cast<int>(syscall(SYS_clone3, nullptr, 0)));
  if (probe == "fork") return report(static_cast<int>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)));
  if (probe == "socket-inet") return report(socket(AF_INET, SOCK_STREAM, 0));
  if (probe == "socket-unix") return report(socket(AF_UNIX, SOCK_STREAM, 0));
  if (probe == "ptrace") return report(static_cast<int>(ptrace(PTRACE_TRACEME, 0, 0, 0)));
  if (probe == "mount") return report(mount("none", "/", "tmpfs", 0, nullptr));
  if (probe == "unshare-user") return report(unshare(CLONE_NEWUSER));
  if (probe == "io-uring") return report(static_cast<int>(syscall(SYS_io_uring_setup, 1, 0)));
  if (probe == "tiocsti") {
    char c = 'x';
    return report(ioctl(0, TIOCSTI, &c));
  }
  if (probe == "int80") return int80();
  if (probe == "segv") {
    // A real fault: the worker is PID 1 of its namespace, where raise(SIGSEGV) is ignored.
    *static_cast<volatile int*>(nullptr) = 1;
  }
  if (probe == "exit") return atoi(arg);
  if (probe == "sleep") {
    for (;;) sleep(60);
  }
  if (probe == "channel-echo") return channelEcho();
  fprintf(stderr, "unknown probe %s\n", probe.c_str());
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROBE [ARG]\n", argv[0]);
    return 64;
  }
  int rc = runProbe(argv[1], argc > 2 ? argv[2] : "");
  fflush(stdout);
  return rc;
}
