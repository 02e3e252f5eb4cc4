// One attack per argv[1], run by tests/escape/escape_test.cc once outside the sandbox (where that
// is safe, to prove the attack works) and once inside it. Prints "ok[ detail]" when the attack
// got through, "errno=NAME" when the kernel refused it; a seccomp refusal kills it before it can
// print. The test decides by host-side evidence, not by this output alone.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

int report(long rc, const std::string& detail = "") {
  if (rc >= 0) {
    printf("ok%s%s\n", detail.empty() ? "" : " ", detail.c_str());
    return 0;
  }
  printf("errno=%s\n", strerrorname_np(errno));
  return 1;
}

int readFile(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return report(-1);
  char buffer[256] = {};
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  return report(n, n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "");
}

int writeFile(const char* path, int flags) {
  int fd = open(path, flags | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return report(-1);
  ssize_t n = write(fd, "pwned", 5);
  close(fd);
  return report(n);
}

int connectTo(int family, const sockaddr* address, socklen_t length) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return report(-1);
  return report(connect(fd, address, length));
}

int tcpConnect(int port) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connectTo(AF_INET, reinterpret_cast<sockaddr*>(&address), sizeof(address));
}

int unixConnect(const std::string& name, bool abstract) {
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  size_t offset = abstract ? 1 : 0;  // abstract: a leading NUL byte
  memcpy(address.sun_path + offset, name.data(), name.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset + name.size() +
                                            (abstract ? 0 : 1));
  return connectTo(AF_UNIX, reinterpret_cast<sockaddr*>(&address), length);
}

// A path in memory below 4 GiB, where an i386 syscall's 32-bit pointer can reach it.
char* low32Path(const char* path) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                    -1, 0);
  if (page == MAP_FAILED) return nullptr;
  strncpy(static_cast<char*>(page), path, 4095);
  return static_cast<char*>(page);
}

// creat(path, 0644) through the i386 entry point (int 0x80, __NR_creat = 8).
int int80Creat(const char* path) {
  char* low = low32Path(path);
  if (low == nullptr) return report(-1);
  long result = 8;
  asm volatile("int $0x80" : "+a"(result) : "b"(low), "c"(0644) : "memory");
  if (result < 0) errno = static_cast<int>(-result);
  return report(result < 0 ? -1 : result);
}

// creat(path, 0644) through the x32 ABI (x86_64 number 85 with bit 30 set).
int x32Creat(const char* path) {
  char* low = low32Path(path);
  if (low == nullptr) return report(-1);
  return report(syscall(0x40000000L | 85, low, 0644));
}

int threadBomb() {
  std::vector<std::thread> threads;
  int created = 0;
  for (; created < 10000; ++created) {
    try {
      threads.emplace_back([]() {
        for (;;) sleep(3600);
      });
    } catch (...) {
      break;
    }
  }
  printf("ok threads=%d\n", created);
  fflush(stdout);
  _exit(0);  // the threads are parked forever; exit_group ends them all
}

int memoryBomb() {
  size_t mib = 0;
  for (; mib < 65536; mib += 64) {
    void* block = mmap(nullptr, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    if (block == MAP_FAILED) break;
    memset(block, 1, 64 << 20);
  }
  return report(0, "mib=" + std::to_string(mib));
}

int fdExhaustion() {
  int count = 0;
  while (count < 1000000 && open("/dev/null", O_RDONLY) >= 0) ++count;
  return report(0, "fds=" + std::to_string(count));
}

// Reads every open fd above stderr that is not the broker channel slot: a leaked host fd shows.
int inheritedFds() {
  std::string found;
  for (int fd = 3; fd < 1024; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) continue;
    char buffer[64] = {};
    ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
    found += "fd" + std::to_string(fd) + "=" + (n > 0 ? std::string(buffer, n) : "?") + ";";
  }
  return report(found.empty() ? -1 : 0, found);
}

int memfdExec() {
  int memfd = static_cast<int>(syscall(SYS_memfd_create, "payload", 0));
  if (memfd < 0) return report(-1);
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return report(-1);
  char buffer[65536];
  ssize_t n;
  while ((n = read(self, buffer, sizeof(buffer))) > 0) {
    if (write(memfd, buffer, static_cast<size_t>(n)) != n) return report(-1);
  }
  char* argv[] = {const_cast<char*>("payload"), const_cast<char*>("noop"), nullptr};
  return report(static_cast<int>(syscall(SYS_execveat, memfd, "", argv, environ, AT_EMPTY_PATH)));
}

int openByHandle() {
  struct {
    file_handle handle;
    unsigned char bytes[MAX_HANDLE_SZ];
  } h = {};
  h.handle.handle_bytes = MAX_HANDLE_SZ;
  int mount;
  if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h.handle, &mount, 0) < 0) return report(-1);
  return report(syscall(SYS_open_by_handle_at, AT_FDCWD, &h.handle, O_RDONLY));
}

int seccompListener() {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  sock_fprog program = {1, &allow};
  return report(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                        &program));
}

int perfEventOpen() {
  perf_event_attr attr = {};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.exclude_kernel = 1;
  return report(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

int bpfMapCreate() {
  union bpf_attr attr = {};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return report(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

int chrootBreakout() {
  // The classic: chroot somewhere below, then climb out with .. from the old cwd.
  if (syscall(SYS_chroot, "/usr") < 0) return report(-1);
  for (int i = 0; i < 64; ++i) {
    if (chdir("..") < 0) break;
  }
  return report(syscall(SYS_chroot, "."));
}

int run(const std::string& attack, const char* a, const char* b) {
  if (attack == "noop") return report(0);
  if (attack == "read-file") return readFile(a);
  if (attack == "write-file") return writeFile(a, O_APPEND);
  if (attack == "create-file") return writeFile(a, O_CREAT | O_EXCL);
  if (attack == "tcp-connect") return tcpConnect(atoi(a));
  if (attack == "abstract-connect") return unixConnect(a, true);
  if (attack == "path-connect") return unixConnect(a, false);
  if (attack == "kill") return report(kill(atoi(a), SIGKILL));
  if (attack == "kill-all") return report(kill(-1, SIGKILL));
  if (attack == "ptrace-attach") return report(ptrace(PTRACE_ATTACH, atoi(a), 0, 0));
  if (attack == "proc-environ") return readFile((std::string("/proc/") + a + "/environ").c_str());
  if (attack == "int80-creat") return int80Creat(a);
  if (attack == "x32-creat") return x32Creat(a);
  if (attack == "io-uring") {
    char params[120] = {};
    return report(syscall(SYS_io_uring_setup, 4, params));
  }
  if (attack == "userfaultfd") return report(syscall(SYS_userfaultfd, O_CLOEXEC));
  if (attack == "bpf") return bpfMapCreate();
  if (attack == "perf-event-open") return perfEventOpen();
  if (attack == "add-key") {
    return report(syscall(SYS_add_key, "user", "airlock-escape", "x", 1,
                          KEY_SPEC_PROCESS_KEYRING));
  }
  if (attack == "unshare-user") return report(unshare(CLONE_NEWUSER));
  if (attack == "mount-tmpfs") return report(mount("none", "/", "tmpfs", 0, nullptr));
  if (attack == "chroot-breakout") return chrootBreakout();
  if (attack == "tiocsti") {
    char c = '!';
    return report(ioctl(STDOUT_FILENO, TIOCSTI, &c));
  }
  if (attack == "open-by-handle") return openByHandle();
  if (attack == "finit-module") {
    int fd = open(a, O_RDONLY | O_CLOEXEC);
    return report(syscall(SYS_finit_module, fd, "", 0));
  }
  if (attack == "fork-bomb") {
    for (int i = 0; i < 100000; ++i) {
      pid_t pid = fork();
      if (pid < 0) return report(-1);
      if (pid == 0) pause();
    }
    return report(0);
  }
  if (attack == "fork-once") {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, nullptr, 0);
    return report(pid);
  }
  if (attack == "thread-bomb") return threadBomb();
  if (attack == "memory-bomb") return memoryBomb();
  if (attack == "fd-exhaustion") return fdExhaustion();
  if (attack == "inherited-fds") return inheritedFds();
  if (attack == "exec") {
    char* argv[] = {const_cast<char*>(a), const_cast<char*>(b), nullptr};
    return report(execve(a, argv, environ));
  }
  if (attack == "memfd-exec") return memfdExec();
  if (attack == "sethostname") return report(sethostname("pwned", 5));
  if (attack == "clock-settime") {
    timespec epoch = {0, 0};
    return report(clock_settime(CLOCK_REALTIME, &epoch));
  }
  if (attack == "mmap-rwx") {
    return report(mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
  }
  if (attack == "seccomp-listener") return seccompListener();
  if (attack == "personality") return report(personality(READ_IMPLIES_EXEC));
  fprintf(stderr, "unknown attack %s\n", attack.c_str());
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ATTACK [ARG...]\n", argv[0]);
    return 64;
  }
  int rc = run(argv[1], argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : nullptr);
  fflush(stdout);
  return rc;
}
