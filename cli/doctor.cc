#include "cli/doctor.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "broker/resources/cgroup_knobs.h"
#include "broker/resources/cgroup_mounts.h"
#include "sandbox/id_map.h"
#include "sandbox/landlock.h"
#include "sandbox/launcher.h"
#include "sandbox/syscall_sets.h"

namespace {

const char USAGE[] = R"(usage: airlock doctor

Reports what this kernel and this user offer the airlock sandbox: each namespace kind,
unprivileged user namespaces, seccomp (kill-process and user notification), the Landlock ABI,
openat2, which cgroup v1/v2 controllers are writable, and a trial launch of /bin/true in the full
worker sandbox. Ends with a verdict.

Full strength means: every namespace kind, seccomp with user notification, Landlock ABI 6 or
newer (filesystem, TCP and scoping), and a successful trial launch. The cgroup hierarchy a
unit's [resources] would use is reported; it is not part of full strength.

Exit status: 0 at full strength, 1 if not, 2 on a usage error.
)";

// The Landlock ABI that brings every layer the sandbox uses (scoped signals and abstract sockets).
constexpr int FULL_LANDLOCK_ABI = 6;

struct Report {
  bool full = true;

  void line(const char* what, const std::string& result, bool good, bool required = true) {
    printf("  %-34s %s%s\n", what, result.c_str(), good || !required ? "" : "   << missing");
    if (required && !good) full = false;
  }
};

std::string errnoText(int err) {
  const char* name = strerrorname_np(err);
  return std::string("no (") + (name ? name : "E?") + ": " + strerror(err) + ")";
}

// Runs `probe` in a forked child and returns 0 or the errno it failed with. The child may
// unshare and change ids freely: none of it reaches this process.
template <typename Probe>
int inChild(Probe probe) {
  pid_t pid = fork();
  KJ_SYSCALL(pid, "fork");
  if (pid == 0) _exit(probe());
  int status = 0;
  KJ_SYSCALL(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

int unshareErrno(int flags) { return unshare(flags) < 0 ? errno : 0; }

void namespaces(Report& report) {
  struct Kind {
    const char* name;
    int flag;
  };
  for (auto kind : {Kind{"user", 0}, Kind{"pid", CLONE_NEWPID}, Kind{"mount", CLONE_NEWNS},
                    Kind{"network", CLONE_NEWNET}, Kind{"ipc", CLONE_NEWIPC},
                    Kind{"uts", CLONE_NEWUTS}, Kind{"cgroup", CLONE_NEWCGROUP}}) {
    int err = inChild([&kind]() { return unshareErrno(CLONE_NEWUSER | kind.flag); });
    report.line((std::string("namespace ") + kind.name).c_str(), err ? errnoText(err) : "yes",
                err == 0);
  }
}

std::string readSysctl(const char* path) {
  std::ifstream file(path);
  std::string value;
  if (!(file >> value)) return "";
  return value;
}

void unprivilegedUserNamespaces(Report& report) {
  bool root = geteuid() == 0;
  int err = inChild([root]() {
    if (root) {
      // Become "nobody", as an unprivileged launcher would be.
      if (setgroups(0, nullptr) < 0 || setresgid(65534, 65534, 65534) < 0 ||
          setresuid(65534, 65534, 65534) < 0) {
        return errno;
      }
    }
    return unshareErrno(CLONE_NEWUSER);
  });
  std::string detail;
  for (const char* sysctl : {"/proc/sys/user/max_user_namespaces",
                             "/proc/sys/kernel/unprivileged_userns_clone",
                             "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"}) {
    std::string value = readSysctl(sysctl);
    if (!value.empty()) detail += std::string(" ") + (strrchr(sysctl, '/') + 1) + "=" + value;
  }
  // Needed only when airlockd itself runs unprivileged.
  report.line("unprivileged user namespaces", (err ? errnoText(err) : "yes") + detail, err == 0,
              !root);
}

bool actionAvailable(uint32_t action) {
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

void seccomp(Report& report) {
  bool kill = actionAvailable(SECCOMP_RET_KILL_PROCESS);
  bool notify = actionAvailable(SECCOMP_RET_USER_NOTIF);
  report.line("seccomp filter, kill-process", kill ? "yes" : errnoText(errno), kill);
  report.line("seccomp user notification", notify ? "yes" : errnoText(errno), notify);
  size_t groups = airlock::sandbox::syscallGroups().size();
  size_t forbidden = airlock::sandbox::forbiddenSyscalls().size();
  report.line("syscall table", std::to_string(groups) + " groups, " + std::to_string(forbidden) +
                                   " always-refused syscalls", true);
}

// Every group of the one syscall table, default or opt-in, with its reason: what a policy's
// [sandbox] syscalls and `airlock sandbox run --syscalls` may name.
void syscallGroups() {
  printf("syscall groups (default: every worker has them; others: opt-in by name; dangerous:\n"
         "opt-in with a [sandbox] justification)\n");
  for (auto& group : airlock::sandbox::syscallGroups()) {
    const char* kind = airlock::sandbox::isDefaultGroup(group.name) ? "default"
                       : group.danger != nullptr                    ? "danger"
                                                                    : "opt-in";
    printf("  %-22s %-8s %s\n", group.name, kind, group.reason);
    if (group.danger != nullptr) printf("  %-31s widens the sandbox: %s\n", "", group.danger);
  }
}

void landlock(Report& report) {
  int abi = airlock::sandbox::landlockAbi();
  std::string text = abi == 0 ? "no (not built, or not in the lsm= boot list)"
                              : "ABI " + std::to_string(abi);
  if (abi > 0 && abi < FULL_LANDLOCK_ABI) text += " (ABI 6 adds TCP and scoping)";
  report.line("landlock", text, abi >= FULL_LANDLOCK_ABI);
}

void openat2(Report& report) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  KJ_SYSCALL(root, "open(/)");
  kj::AutoCloseFd rootFd(root);
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, rootFd.get(), "..", &how, sizeof(how));
  int err = errno;
  if (fd >= 0) close(static_cast<int>(fd));
  // A `..` escape must be refused (EXDEV); ENOSYS means no openat2 at all.
  bool good = fd < 0 && err == EXDEV;
  report.line("openat2 RESOLVE_BENEATH", good ? "yes" : fd >= 0 ? "no (.. escaped)" : errnoText(err),
              good);
}

// What airlockd started here would use for [resources] (broker/resources/): the same
// discovery and the same choice, v2 when its group offers a controller, else the v1 mounts.
void cgroups(Report& report) {
  using namespace airlock::broker::resources;
  CgroupPlaces places = discoverCgroupPlaces();
  std::string v2Offers;
  for (auto& controller : places.v2Controllers) v2Offers += (v2Offers.empty() ? "" : " ") + controller;
  bool v2Writable = !places.v2.empty() && access(places.v2.c_str(), W_OK) == 0;
  report.line("cgroup v2", places.v2.empty() ? std::string("not mounted here")
                                             : places.v2 + ": " +
                                                   (v2Offers.empty() ? "no controllers" : v2Offers) +
                                                   (v2Writable ? ", writable" : ", not writable"),
              true, false);
  std::string v1;
  for (const char* controller : {"memory", "cpu", "cpuacct", "pids", "blkio"}) {
    auto found = places.v1.find(controller);
    if (found == places.v1.end()) continue;
    v1 += std::string(v1.empty() ? "" : ", ") + controller +
          (access(found->second.c_str(), W_OK) == 0 ? " (writable)" : " (read-only)");
  }
  report.line("cgroup v1 controllers", v1.empty() ? "none" : v1, true, false);
  bool v2Usable = false;
  for (const char* controller : {"memory", "cpu", "pids", "io"}) {
    v2Usable = v2Usable || places.v2Controllers.count(controller) > 0;
  }
  std::string used = v2Usable ? "cgroup v2"
                     : !places.v1.empty()           ? "cgroup v1"
                                                    : "none: [resources] limits cannot be enforced";
  report.line("[resources] would use", used, true, false);
  // A unit capped without a cpu_weight runs in the kernel's idle class (cgroup_knobs.h
  // runsInBackground); without the class it competes at a weight derived from its cap.
  std::string cpu = v2Usable ? places.v2
                    : places.v1.count("cpu") ? places.v1.at("cpu") : std::string();
  if (!cpu.empty()) {
    bool idle = access((cpu + "/" + CPU_IDLE_FILE).c_str(), F_OK) == 0;
    report.line("cpu idle class",
                idle ? "yes (cpu.idle): a unit capped without cpu_weight runs in the background"
                     : "no (Linux 5.15+): a unit capped without cpu_weight competes at a weight "
                       "derived from its cap",
                true, false);
  }
}

void trialLaunch(Report& report) {
  airlock::sandbox::SandboxSpec spec;
  spec.program = "/bin/true";
  std::string result;
  bool good = false;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto process = airlock::sandbox::launch(spec, airlock::sandbox::ChildFds{});
    int abi = process.landlockAbi();
    auto status = process.wait();
    good = status.exited && status.code == 0;
    result = (good ? "ok" : "no: /bin/true " + status.describe()) + " (uid " +
             std::to_string(airlock::sandbox::WORKER_ID) + " inside, landlock ABI " +
             std::to_string(abi) + ")";
  })) {
    result = std::string("no: ") + exception->getDescription().cStr();
  }
  report.line("trial launch of /bin/true", result, good);
}

}  // namespace

int doctorMain(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return 0;
    }
    fprintf(stderr, "airlock doctor: unknown option \"%s\"\n%s", argv[i], USAGE);
    return 2;
  }
  Report report;
  printf("airlock doctor (running as uid %u)\n", geteuid());
  namespaces(report);
  unprivilegedUserNamespaces(report);
  seccomp(report);
  landlock(report);
  openat2(report);
  cgroups(report);
  fflush(stdout);  // the trial child inherits nothing, but keep the order on a pipe
  trialLaunch(report);
  syscallGroups();
  printf("verdict: %s\n", report.full ? "airlock can run at full strength"
                                      : "airlock cannot run at full strength here (see '<< missing')");
  return report.full ? 0 : 1;
}
