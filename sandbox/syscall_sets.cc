#include "sandbox/syscall_sets.h"

#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

namespace airlock::sandbox {

namespace _ {

using A = SyscallAction;

// ioctl requests (register 1; the kernel reads it as 32 bits): FIONBIO/FIOCLEX/FIONCLEX, which kj
// uses for fd flags; TCGETS, which isatty() sends (ENOTTY on the worker's pipes); FIONREAD. None
// reaches a terminal's input queue or a device: TIOCSTI and TIOCLINUX are refused by omission.
constexpr uint64_t SAFE_IOCTLS[] = {FIONBIO, FIOCLEX, FIONCLEX, TCGETS, FIONREAD};

// prctl options (register 0): naming threads and reading back harmless state. Everything that
// changes the process's security state (PR_SET_SECCOMP, PR_SET_SECUREBITS, PR_CAP_AMBIENT,
// PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_SET_MM, PR_SET_PTRACER...) is refused by omission.
constexpr uint64_t SAFE_PRCTL_OPTIONS[] = {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE};

// socketpair domains (register 0): only a local pair, which reaches nothing outside the process.
constexpr uint64_t LOCAL_SOCKET_DOMAINS[] = {AF_UNIX};

// Everything on already-open descriptors. The root is read-only and empty of secrets, so even
// path-based metadata calls reveal nothing beyond the bound libraries.
constexpr SyscallEntry BASIC_IO[] = {
    {"read", A::ALLOW},       {"write", A::ALLOW},      {"readv", A::ALLOW},
    {"writev", A::ALLOW},     {"pread64", A::ALLOW},    {"pwrite64", A::ALLOW},
    {"preadv", A::ALLOW},     {"pwritev", A::ALLOW},    {"preadv2", A::ALLOW},
    {"pwritev2", A::ALLOW},   {"lseek", A::ALLOW},      {"close", A::ALLOW},
    {"dup", A::ALLOW},        {"dup2", A::ALLOW},       {"dup3", A::ALLOW},
    {"fcntl", A::ALLOW},      {"fstat", A::ALLOW},      {"newfstatat", A::ALLOW},
    {"statx", A::ALLOW},      {"fstatfs", A::ALLOW},    {"ftruncate", A::ALLOW},
    {"fsync", A::ALLOW},      {"fdatasync", A::ALLOW},  {"getdents64", A::ALLOW},
    {"close_range", A::ALLOW},
    // Page-cache advice on an fd the worker holds (cat, cp and libraries reading a file the broker
    // passed use it); it changes no data and reaches nothing else.
    {"fadvise64", A::ALLOW},
    // Bytes from one held fd to another without a user-space copy (cat, std::filesystem's
    // copy_file): what read + write could do anyway.
    {"copy_file_range", A::ALLOW}, {"sendfile", A::ALLOW},
    {"ioctl", A::ALLOW_IF_ARG_IN, 1, SAFE_IOCTLS},
};

// Heap and mappings, W^X: ld.so maps libraries read+exec from files and later makes RELRO
// read-only, which is all the exec a normal program needs; no mapping is ever writable and
// executable, anonymous memory is never executable, and mprotect never adds exec, so bytes the
// worker writes never become code. No memfd_create or pkey_mprotect (forbidden below).
constexpr SyscallEntry MEMORY[] = {
    {"mmap", A::ALLOW_W_XOR_X_MMAP}, {"munmap", A::ALLOW},  {"mprotect", A::ALLOW_NO_EXEC},
    {"mremap", A::ALLOW},            {"madvise", A::ALLOW}, {"brk", A::ALLOW},
};

// What execve, ld.so and libc start-up need. execve must be allowed because the filter is
// installed right before it; the only executables in the root are the program and libraries.
constexpr SyscallEntry PROCESS_STARTUP[] = {
    {"execve", A::ALLOW},          {"arch_prctl", A::ALLOW},   {"set_tid_address", A::ALLOW},
    {"set_robust_list", A::ALLOW}, {"rseq", A::ALLOW},         {"prlimit64", A::ALLOW},
    {"getrandom", A::ALLOW},       {"access", A::ALLOW},       {"faccessat", A::ALLOW},
    {"faccessat2", A::ALLOW},      {"openat", A::ALLOW},       {"open", A::ALLOW},
    {"readlink", A::ALLOW},        {"readlinkat", A::ALLOW},   {"getcwd", A::ALLOW},
    {"uname", A::ALLOW},           {"getuid", A::ALLOW},       {"geteuid", A::ALLOW},
    {"getgid", A::ALLOW},          {"getegid", A::ALLOW},      {"getresuid", A::ALLOW},
    {"getresgid", A::ALLOW},       {"getgroups", A::ALLOW},     {"getpid", A::ALLOW},       {"getppid", A::ALLOW},
    {"sched_getaffinity", A::ALLOW}, {"prctl", A::ALLOW_IF_ARG_IN, 0, SAFE_PRCTL_OPTIONS},
};

// Own signal handling (kj's event loop reads signals through a signalfd). Kill is confined by
// the PID namespace: the worker is its only process.
constexpr SyscallEntry SIGNALS[] = {
    {"rt_sigaction", A::ALLOW},  {"rt_sigprocmask", A::ALLOW}, {"rt_sigreturn", A::ALLOW},
    {"sigaltstack", A::ALLOW},   {"rt_sigpending", A::ALLOW},  {"rt_sigtimedwait", A::ALLOW},
    {"rt_sigsuspend", A::ALLOW}, {"tgkill", A::ALLOW},         {"tkill", A::ALLOW},
    {"kill", A::ALLOW},          {"signalfd4", A::ALLOW},
};

// Clocks and sleeping (the vDSO covers most clock reads; these are its fallbacks).
constexpr SyscallEntry TIME[] = {
    {"clock_gettime", A::ALLOW}, {"clock_getres", A::ALLOW},    {"gettimeofday", A::ALLOW},
    {"time", A::ALLOW},          {"nanosleep", A::ALLOW},       {"clock_nanosleep", A::ALLOW},
};

// Threads inside the one process. clone3 passes its flags in memory, which a filter must not
// read (the process can change it after the check), so it gets ENOSYS and glibc falls back to
// clone(2), whose flags register is checked for CLONE_THREAD: no new processes and no new
// namespaces (CLONE_THREAD with CLONE_NEWUSER/NEWPID is EINVAL).
constexpr SyscallEntry THREADS[] = {
    {"clone", A::ALLOW_THREADS_ONLY}, {"clone3", A::ERRNO_ENOSYS}, {"futex", A::ALLOW},
    {"gettid", A::ALLOW},             {"sched_yield", A::ALLOW},   {"membarrier", A::ALLOW},
    {"get_robust_list", A::ALLOW},
};

// The broker channel: a Unix socketpair on fd 3 with fds passed by SCM_RIGHTS, driven by a kj
// epoll loop. Only calls on descriptors the worker already has; no socket(2) or socketpair(2).
constexpr SyscallEntry UNIX_SOCKET_IO[] = {
    {"sendmsg", A::ALLOW},      {"recvmsg", A::ALLOW},      {"sendto", A::ALLOW},
    {"recvfrom", A::ALLOW},     {"shutdown", A::ALLOW},     {"getsockopt", A::ALLOW},
    {"getsockname", A::ALLOW},  {"getpeername", A::ALLOW},  {"epoll_create1", A::ALLOW},
    {"epoll_ctl", A::ALLOW},    {"epoll_wait", A::ALLOW},   {"epoll_pwait", A::ALLOW},
    {"epoll_pwait2", A::ALLOW}, {"eventfd2", A::ALLOW},     {"pipe2", A::ALLOW},
    {"poll", A::ALLOW},         {"ppoll", A::ALLOW},        {"pselect6", A::ALLOW},
};

// Not in the default set: a worker that wants a private socketpair (e.g. a library's own
// wake-up pipe). AF_UNIX only; socket(2) stays forbidden, since a path socket could be connected.
constexpr SyscallEntry LOCAL_SOCKETPAIR[] = {
    {"socketpair", A::ALLOW_IF_ARG_IN, 0, LOCAL_SOCKET_DOMAINS},
};

// Not in the default set: metadata of the file system a path is on (df, ls and find ask it to
// decide how to read a directory). The root is read-only and holds only what the sandbox binds;
// the answer is sizes and flags, never contents.
constexpr SyscallEntry FS_METADATA[] = {
    {"statfs", A::ALLOW},
};

// Not in the default set: the host's uptime, load and memory totals (sysinfo), which Python and
// some allocators read at start-up to size themselves. Host-wide figures, not per-sandbox: a
// worker learns how busy the machine is, which the timing of its own calls tells it anyway.
constexpr SyscallEntry SYSTEM_INFO[] = {
    {"sysinfo", A::ALLOW},
};

// Not in the default set: changing the working directory (find walks a tree with fchdir). The
// directory must already be open or reachable in the read-only root; Landlock still decides what
// is read there.
constexpr SyscallEntry WORKING_DIRECTORY[] = {
    {"chdir", A::ALLOW},
    {"fchdir", A::ALLOW},
};

// Not in the default set: glibc's user, group and host lookups try the nscd daemon's socket
// before the files (Python's start-up looks its user up). socket(AF_UNIX) is answered EPERM, as
// Docker's default profile answers a refused syscall: no socket is made, and glibc falls back.
constexpr SyscallEntry NSS_WITHOUT_DAEMONS[] = {
    {"socket", A::EPERM_IF_ARG_IN, 0, LOCAL_SOCKET_DOMAINS},
};

// Dangerous, not in the default set: JIT compilers (V8, LuaJIT, the JVM, PCRE2's JIT) write code
// and then run it. Anonymous memory may be mapped executable and mprotect may add PROT_EXEC; a
// page is still never writable and executable at once, so the JIT flips it from RW to RX. What is
// lost: bytes the worker writes can become code, so an exploit that can write memory no longer
// needs a ROP chain to run its own.
constexpr SyscallEntry EXECUTABLE_MEMORY[] = {
    {"mmap", A::ALLOW_NOT_WRITE_AND_EXEC},
    {"mprotect", A::ALLOW_NOT_WRITE_AND_EXEC},
};

// Not in the default set: extended attributes (ACLs, file capabilities, SELinux labels, user.*
// tags). Landlock does not govern them, and a descriptor or directory the broker passed is a host
// file: set or removed through it, they would change the host file past every rule, and read
// through a directory, they would show what no rule grants. So every one is answered EOPNOTSUPP
// without running, as on a file system without them; cp -a, sed -i, ls -l and Python's
// shutil.copystat expect that answer and go on without them.
constexpr SyscallEntry XATTRS_UNSUPPORTED[] = {
    {"getxattr", A::ERRNO_EOPNOTSUPP},     {"lgetxattr", A::ERRNO_EOPNOTSUPP},
    {"fgetxattr", A::ERRNO_EOPNOTSUPP},    {"listxattr", A::ERRNO_EOPNOTSUPP},
    {"llistxattr", A::ERRNO_EOPNOTSUPP},   {"flistxattr", A::ERRNO_EOPNOTSUPP},
    {"setxattr", A::ERRNO_EOPNOTSUPP},     {"lsetxattr", A::ERRNO_EOPNOTSUPP},
    {"fsetxattr", A::ERRNO_EOPNOTSUPP},    {"removexattr", A::ERRNO_EOPNOTSUPP},
    {"lremovexattr", A::ERRNO_EOPNOTSUPP}, {"fremovexattr", A::ERRNO_EOPNOTSUPP},
};

constexpr SyscallEntry EXIT[] = {
    {"exit", A::ALLOW},
    {"exit_group", A::ALLOW},
};

constexpr SyscallGroup GROUPS[] = {
    {"basic-io", "read, write, seek, stat and close descriptors the worker already holds",
     BASIC_IO},
    {"memory", "heap and anonymous/file mappings; no memfd_create", MEMORY},
    {"process-startup",
     "execve (the filter precedes it), ld.so and libc start-up; the root holds only the program "
     "and its libraries, read-only",
     PROCESS_STARTUP},
    {"signals", "own signal handlers and masks; kill reaches nothing outside the PID namespace",
     SIGNALS},
    {"time", "clock reads and sleeps", TIME},
    {"threads",
     "threads of the one process: clone only with CLONE_THREAD, clone3 answered ENOSYS so glibc "
     "falls back to clone",
     THREADS},
    {"unix-socket-io",
     "the broker channel on fd 3 (SCM_RIGHTS) and the kj epoll loop; no new sockets",
     UNIX_SOCKET_IO},
    {"local-socketpair", "AF_UNIX socketpair only: a connected pair private to the process",
     LOCAL_SOCKETPAIR},
    {"exit", "ending the process", EXIT},
    {"fs-metadata", "statfs: sizes and flags of the file system a path is on (ls, find, df)",
     FS_METADATA},
    {"system-info", "sysinfo: host uptime, load and memory totals (Python reads them at start-up)",
     SYSTEM_INFO},
    {"working-directory", "chdir and fchdir within what the sandbox shows (find walks with them)",
     WORKING_DIRECTORY},
    {"nss-without-daemons",
     "socket(AF_UNIX) answered EPERM so glibc's user and host lookups skip nscd and read files; "
     "no socket is ever made",
     NSS_WITHOUT_DAEMONS},
    {"xattrs-unsupported",
     "extended attributes answered EOPNOTSUPP, as on a file system without them: never read, "
     "set or removed (cp -a, sed -i, ls -l go on without them)",
     XATTRS_UNSUPPORTED},
    {"executable-memory",
     "mmap and mprotect with PROT_EXEC on any memory, never writable and executable at once "
     "(JIT compilers)",
     EXECUTABLE_MEMORY,
     "memory the worker wrote can become code: an exploit runs its own instructions without a "
     "ROP chain"},
};

constexpr const char* DEFAULT_WORKER_GROUPS[] = {
    "basic-io", "memory", "process-startup", "signals",
    "time",     "threads", "unix-socket-io", "exit",
};

constexpr ForbiddenSyscall FORBIDDEN[] = {
    {"ptrace", "inspects and controls other processes"},
    {"process_vm_readv", "reads another process's memory"},
    {"process_vm_writev", "writes another process's memory"},
    {"mount", "changes the filesystem view"},
    {"umount2", "could expose what the sandbox root covers"},
    {"pivot_root", "changes the filesystem view"},
    {"chroot", "classic escape with a directory fd"},
    {"open_tree", "new mount API"},
    {"move_mount", "new mount API"},
    {"fsopen", "new mount API"},
    {"fsmount", "new mount API"},
    {"fspick", "new mount API"},
    {"mount_setattr", "could make the root writable again"},
    {"unshare", "new namespaces are new kernel attack surface (user namespace exploits)"},
    {"setns", "joins other namespaces"},
    {"bpf", "eBPF programs: verifier bugs are a recurring root exploit"},
    {"io_uring_setup", "io_uring bypasses seccomp for the operations it performs"},
    {"io_uring_enter", "io_uring bypasses seccomp for the operations it performs"},
    {"io_uring_register", "io_uring bypasses seccomp for the operations it performs"},
    {"keyctl", "kernel keyrings are not namespaced"},
    {"add_key", "kernel keyrings are not namespaced"},
    {"request_key", "kernel keyrings are not namespaced"},
    {"perf_event_open", "side channels and a long record of kernel bugs"},
    {"userfaultfd", "makes kernel races easy to win"},
    {"kexec_load", "replaces the kernel"},
    {"kexec_file_load", "replaces the kernel"},
    {"init_module", "loads kernel code"},
    {"finit_module", "loads kernel code"},
    {"delete_module", "unloads kernel code"},
    {"personality", "can re-enable legacy behaviour such as READ_IMPLIES_EXEC"},
    // Under [sandbox] broker_syscalls, with a net.connect rule, the broker answers it: a stream
    // socket of a family the rules connect, made in the sandbox's empty network namespace, whose
    // connect(2) the broker decides and does (broker/syscalls/brokered_connect.cc).
    {"socket", "v1 workers get sockets only from the broker", true},
    {"fork", "one process per sandbox; a fork bomb needs it"},
    {"vfork", "one process per sandbox"},
    {"execveat", "could execute a memfd or a passed fd"},
    {"memfd_create", "creates an executable file outside the read-only root"},
    {"name_to_handle_at", "file handles bypass path checks (the 'shocker' escape)"},
    {"open_by_handle_at", "file handles bypass path checks (the 'shocker' escape)"},
    {"setuid", "no identity changes inside the sandbox"},
    {"setgid", "no identity changes inside the sandbox"},
    {"setresuid", "no identity changes inside the sandbox"},
    {"setresgid", "no identity changes inside the sandbox"},
    {"capset", "capabilities are dropped for good"},
    {"seccomp", "no new filters or listeners after exec (prctl(PR_SET_SECCOMP) is refused too)"},
    {"pkey_mprotect", "would make memory executable past mprotect's W^X filter"},
    {"pidfd_getfd", "copies descriptors out of other processes"},
    {"kcmp", "compares other processes' kernel objects"},
    {"modify_ldt", "16-bit segments and a history of kernel bugs"},
    {"iopl", "port I/O"},
    {"ioperm", "port I/O"},
    {"clock_settime", "the host clock is not namespaced"},
    {"clock_adjtime", "the host clock is not namespaced"},
    {"settimeofday", "the host clock is not namespaced"},
    {"adjtimex", "the host clock is not namespaced"},
    {"setdomainname", "set once by the launcher"},
    {"setgroups", "no identity changes inside the sandbox"},
    {"move_pages", "acts on other processes' memory"},
    {"migrate_pages", "acts on other processes' memory"},
    {"reboot", "host control"},
    {"swapon", "host control"},
    {"acct", "host control"},
    {"quotactl", "host control"},
    {"syslog", "kernel log reading"},
    {"sethostname", "set once by the launcher"},
    // What Landlock does not govern: a file's mode, owner, times and extended attributes. Run by
    // the kernel through a descriptor or directory the broker passed, they would change the host
    // file behind it past every rule (a read-only grant could set a set-user-ID bit). Under
    // [sandbox] broker_syscalls (and `airlock run`) the broker answers the first ones itself,
    // decided by the rules (broker/syscalls/brokered_syscalls.cc); nothing runs them natively.
    {"chmod", "changes a host file's mode past Landlock: only the broker's rules may", true},
    {"fchmod", "changes a host file's mode past Landlock: only the broker's rules may", true},
    {"fchmodat", "changes a host file's mode past Landlock: only the broker's rules may", true},
    {"fchmodat2", "changes a host file's mode past Landlock: only the broker's rules may", true},
    {"chown", "changes a host file's owner past Landlock (the broker refuses it)", true},
    {"lchown", "changes a host file's owner past Landlock (the broker refuses it)", true},
    {"fchown", "changes a host file's owner past Landlock (the broker refuses it)", true},
    {"fchownat", "changes a host file's owner past Landlock (the broker refuses it)", true},
    {"utimensat", "changes a host file's times past Landlock: only the broker's rules may", true},
    {"utime", "changes a host file's times past Landlock; libc uses utimensat, which the broker "
              "answers"},
    {"utimes", "changes a host file's times past Landlock; libc uses utimensat, which the broker "
               "answers"},
    {"futimesat", "changes a host file's times past Landlock; libc uses utimensat, which the "
                  "broker answers"},
    {"setxattr", "changes a host file's extended attributes past Landlock"},
    {"lsetxattr", "changes a host file's extended attributes past Landlock"},
    {"fsetxattr", "changes a host file's extended attributes past Landlock"},
    {"removexattr", "changes a host file's extended attributes past Landlock"},
    {"lremovexattr", "changes a host file's extended attributes past Landlock"},
    {"fremovexattr", "changes a host file's extended attributes past Landlock"},
};

}  // namespace _

kj::ArrayPtr<const SyscallGroup> syscallGroups() { return _::GROUPS; }

kj::ArrayPtr<const char* const> defaultWorkerGroups() { return _::DEFAULT_WORKER_GROUPS; }

bool isDefaultGroup(kj::StringPtr name) {
  for (const char* group : _::DEFAULT_WORKER_GROUPS) {
    if (name == group) return true;
  }
  return false;
}

kj::ArrayPtr<const ForbiddenSyscall> forbiddenSyscalls() { return _::FORBIDDEN; }

kj::Maybe<const SyscallGroup&> groupAllowing(kj::StringPtr syscall) {
  for (auto& group : _::GROUPS) {
    for (auto& entry : group.syscalls) {
      if (syscall == entry.name) return group;
    }
  }
  return nullptr;
}

kj::Maybe<kj::String> refusalOfSyscallName(kj::StringPtr name) {
  if (findSyscallGroup(name) != nullptr) return nullptr;
  for (auto& forbidden : _::FORBIDDEN) {
    if (name != forbidden.name) continue;
    KJ_IF_MAYBE(answering, groupAllowing(name)) {
      // The group cannot allow it, only answer it with an error the caller expects.
      return kj::str(name, " is never granted: ", forbidden.reason, "; group ", answering->name,
                     " answers it with an error instead (", answering->reason, ")");
    }
    return kj::str(name, " is never granted: ", forbidden.reason);
  }
  KJ_IF_MAYBE(group, groupAllowing(name)) {
    return kj::str(name, " is in group ", group->name, ": name the group instead (", group->reason,
                   ")");
  }
  if (seccomp_syscall_resolve_name(name.cStr()) == __NR_SCMP_ERROR) {
    return kj::str("no syscall group and no x86-64 syscall is named \"", name,
                   "\" (`airlock doctor` lists the groups)");
  }
  return nullptr;
}

std::string describeAction(const SyscallEntry& entry) {
  auto values = [&]() {
    std::string out;
    for (uint64_t value : entry.values) {
      char hex[24];
      snprintf(hex, sizeof(hex), "%s0x%llx", out.empty() ? "" : ", ",
               static_cast<unsigned long long>(value));
      out += hex;
    }
    return "arg " + std::to_string(entry.argIndex) + " is one of " + out;
  };
  switch (entry.action) {
    case SyscallAction::ALLOW: return "allow";
    case SyscallAction::ALLOW_THREADS_ONLY: return "allow only with CLONE_THREAD (threads, no processes)";
    case SyscallAction::ERRNO_ENOSYS: return "answered ENOSYS (the caller falls back)";
    case SyscallAction::ERRNO_EOPNOTSUPP:
      return "answered EOPNOTSUPP, as by a file system without the feature (never runs)";
    case SyscallAction::ALLOW_IF_ARG_IN: return "allow if " + values();
    case SyscallAction::ALLOW_W_XOR_X_MMAP:
      return "allow, never PROT_WRITE|PROT_EXEC; PROT_EXEC only for file mappings";
    case SyscallAction::ALLOW_NO_EXEC: return "allow, never PROT_EXEC";
    case SyscallAction::EPERM_IF_ARG_IN: return "answered EPERM if " + values() + " (never runs)";
    case SyscallAction::ALLOW_NOT_WRITE_AND_EXEC:
      return "allow, never PROT_WRITE|PROT_EXEC at once";
  }
  return "refused";  // an action newer than this text: the filter refuses what it cannot name
}

std::vector<AllowedSyscall> effectiveAllowlist(const std::vector<std::string>& extra) {
  std::vector<AllowedSyscall> out;
  auto seen = [&](const char* name) {
    for (auto& entry : out) {
      if (entry.name == name) return true;
    }
    return false;
  };
  auto addGroup = [&](const SyscallGroup& group, bool isDefault) {
    for (auto& entry : group.syscalls) {
      // A dangerous group widens a syscall an earlier group has: both entries are in force.
      if (seen(entry.name) && group.danger == nullptr) continue;
      out.push_back({entry.name, describeAction(entry), group.name, isDefault, group.reason});
    }
  };
  std::vector<std::string> groups;
  for (const char* name : _::DEFAULT_WORKER_GROUPS) groups.push_back(name);
  for (auto& group : _::GROUPS) {
    bool isDefault = std::find(groups.begin(), groups.end(), group.name) != groups.end();
    bool isExtra = std::find(extra.begin(), extra.end(), group.name) != extra.end();
    if (isDefault || isExtra) addGroup(group, isDefault);
  }
  for (const std::string& name : extra) {
    if (findSyscallGroup(name.c_str()) != nullptr || seen(name.c_str())) continue;
    if (refusalOfSyscallName(name.c_str()) != nullptr) continue;
    out.push_back({name, "allow", "", false,
                   "named alone in [sandbox] syscalls: in no group, never on the always-refused "
                   "list"});
  }
  return out;
}

kj::Maybe<const SyscallGroup&> findSyscallGroup(kj::StringPtr name) {
  for (auto& group : _::GROUPS) {
    if (name == group.name) return group;
  }
  return nullptr;
}

}  // namespace airlock::sandbox
