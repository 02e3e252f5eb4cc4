#pragma once
// What a sandboxed process gets: the one description the launcher, `airlock sandbox run` and the
// broker's supervisor share.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace airlock::sandbox {

struct ProfileGrants;  // profile_grants.h

// How hard a layer that the kernel may lack is required. REQUIRED: the launch fails, naming the
// layer, if the kernel cannot apply it. BEST_EFFORT: the launch goes on without it and the
// launcher reports what was applied (SandboxedProcess::landlockAbi()). A policy must opt in to
// BEST_EFFORT explicitly (STYLE rule 12); the broker passes REQUIRED.
enum class Strictness { REQUIRED, BEST_EFFORT };

// What the supervisor does with a syscall the filter refuses. KILL (the default): records it and
// kills the process, so the refusal is loud and the caller sees the syscall's name. ERRNO: answers
// it with ENOSYS, as a kernel without that syscall would (libc and most libraries fall back), and
// lets the process go on; the syscall never runs either way. A syscall through a foreign
// architecture (i386, x32) is always killed: its number means another syscall.
enum class OnRefusedSyscall { KILL, ERRNO };

// Resource limits applied with setrlimit in the child before execve, soft == hard, so that the
// worker can lower but never raise them (root here lacks CAP_SYS_RESOURCE, and the worker has no
// capabilities at all). The core size is always 0 and is not a field. Zero means "unlimited" only
// for cpuSeconds; the others must be positive.
struct ResourceLimits {
  uint64_t addressSpaceMiB = 1024;  // RLIMIT_AS: a memory bomb gets ENOMEM, not the OOM killer
  uint64_t openFiles = 256;         // RLIMIT_NOFILE: fd exhaustion stays inside the worker
  uint64_t threads = 64;            // RLIMIT_NPROC: counts the worker's threads (it has no fork);
                                    // enforced because the worker is not uid 0 (DESIGN)
  uint64_t fileSizeMiB = 64;        // RLIMIT_FSIZE: the largest file it may write through a fd
  uint64_t cpuSeconds = 0;          // RLIMIT_CPU: 0 = unlimited, since workers are long-lived
  // Units set each of these in their policy's [limits] (broker/supervisor/unit_sandbox.cc).
};

// A syscall the supervisor answers itself instead of the kernel (transparent brokering): the
// filter sends it to the seccomp listener, where the SandboxedProcess's SyscallHandler decides,
// acts and answers it. `nativeWhenFlagArg` >= 0 names an argument whose `nativeWhenFlag` bits,
// when all set, let the kernel run the call directly (e.g. newfstatat with AT_EMPTY_PATH is an
// fstat of a descriptor the process already holds): still inside the mount namespace and
// Landlock, so it reaches nothing the process could not reach anyway.
struct BrokeredSyscall {
  std::string name;
  int nativeWhenFlagArg = -1;
  uint64_t nativeWhenFlag = 0;
};

// Where the process is accounted and limited (the broker's broker/resources/ makes the groups).
// Borrowed fds: the caller keeps them open until launch() (or beginLaunch()) returns.
struct CgroupPlacement {
  int cloneIntoFd = -1;
  // cgroup v2: a directory fd of the leaf; the child is created in it (CLONE_INTO_CGROUP), so it
  // never runs outside it. -1: none.
  std::vector<int> procsFds;
  // cgroup v1: each hierarchy's cgroup.procs of the leaf, opened for writing; the launcher
  // writes the child's pid to each while the child still waits for its release, before it runs
  // any of the program's code.
  bool any() const { return cloneIntoFd >= 0 || !procsFds.empty(); }
};

struct SandboxSpec {
  std::string program;
  // Absolute host path of the executable. It is bind-mounted read-only at the same path inside
  // the new root and is the only file the process may execute.

  std::vector<std::string> args;
  // argv[1..]; argv[0] is `program`.

  std::vector<std::string> env;
  // The entire environment, as "KEY=VALUE". Nothing is inherited from the launcher.

  std::vector<std::string> readOnlyPaths;
  // Extra absolute host paths made visible read-only at the same path (files or directories).
  // The shared-library directories the program needs are added by the launcher itself.

  std::vector<std::string> libraryPaths;
  // Extra absolute host paths bound read-only and executable, like the shared-library
  // directories: code a program maps PROT_EXEC that lives outside them (a Python worker's
  // libairlock-python-worker.so, sandbox/python_worker.h). Never writable.

  std::string hostname = "airlock";

  Strictness landlock = Strictness::REQUIRED;
  // Landlock at the highest ABI the kernel offers (up to 7). REQUIRED fails the launch when the
  // kernel has no Landlock at all.

  int landlockAbiCeiling = 7;
  // Use at most this Landlock ABI. Tests set 0 to act as a kernel without Landlock, the one
  // fault of that layer this machine cannot produce; nothing else lowers it.

  ResourceLimits limits;

  CgroupPlacement cgroup;  // none by default: the process stays in the launcher's cgroups

  OnRefusedSyscall onRefusedSyscall = OnRefusedSyscall::KILL;

  bool learnSyscalls = false;
  // A learning unit (policy.h UnitMode::LEARN): a refused syscall that no group of the filter
  // lists and that is not never-granted (forbiddenSyscalls()) is let run (the kernel carries it
  // out, SECCOMP_USER_NOTIF_FLAG_CONTINUE) and counted by name, for `airlock policy suggest`.
  // A syscall a group lists but its argument filter refused, a never-granted one and a
  // foreign-architecture one stay refused as onRefusedSyscall says.

  std::vector<BrokeredSyscall> brokeredSyscalls;
  // Answered by the supervisor's SyscallHandler (launcher.h), never allowed by a group: a group
  // naming one of them does not make it native. Empty: nothing is brokered.

  std::string nativeFirstLibrary;
  // Absolute path of the native-first library (sandbox/native_first.h, which sets this and
  // preloads it), bound executable like the shared-library directories; the filter then lets the
  // read-only path calls made from its one fixed instruction run natively. Empty: off. Needs
  // Landlock REQUIRED and brokered syscalls: launch() refuses it otherwise.

  std::string workingDirectory;
  // Absolute path the process starts in; empty: "/". If the sandbox shows nothing there, an
  // empty read-only directory is made at that path in its root, so getcwd() tells the truth and
  // relative paths name what the supervisor resolves against it.

  std::vector<std::string> emptyDirectories;
  // Absolute paths made as empty read-only directories in the root where nothing else is shown:
  // the roots a brokered unit's rules name, so that their parents exist for realpath(3) and a
  // chdir into one works, while what is inside them stays the broker's to open.

  std::shared_ptr<const ProfileGrants> profileGrants;
  // What a [sandbox] seccomp_profile was granted (profile_grants.h), allowed besides the groups;
  // null without a profile. Shared with the unit's policy, which computed it at load.

  std::vector<std::string> syscalls;
  // Allowed besides defaultWorkerGroups(): groups of syscall_sets.h by name, or single syscalls
  // no group lists (refusalOfSyscallName): a unit's [sandbox] syscalls, `airlock sandbox run
  // --syscalls`. A name it refuses fails the launch before anything is started.
};

}  // namespace airlock::sandbox
