#include "bench/seccomp_measure.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "sandbox/profile_grants.h"
#include "sandbox/seccomp_filter.h"

namespace airlock::bench {

namespace _ {
namespace {

using Clock = std::chrono::steady_clock;

int64_t nanosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// What a child reports: the install time and the loop's time per call, in ns.
struct ChildTimes {
  int64_t installNanos = 0;
  int64_t perCallNanos = 0;
};

// Forks a child that installs `filter` (none: no filter), then calls getppid() `calls` times, and
// reports both times on a pipe. Raw syscalls only in the child: it is a fork of this process.
ChildTimes timeInChild(const sandbox::SeccompFilter* filter, int calls) {
  int fds[2];
  KJ_SYSCALL(pipe2(fds, O_CLOEXEC));
  kj::AutoCloseFd readEnd(fds[0]), writeEnd(fds[1]);
  pid_t pid;
  KJ_SYSCALL(pid = fork());
  if (pid == 0) {
    ChildTimes times;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
    if (filter != nullptr) {
      auto start = Clock::now();
      int listener = filter->install();
      times.installNanos = nanosSince(start);
      if (listener < 0) _exit(3);
    }
    auto start = Clock::now();
    for (int i = 0; i < calls; ++i) syscall(SYS_getppid);
    times.perCallNanos = nanosSince(start) / calls;
    ssize_t n = write(writeEnd.get(), &times, sizeof(times));
    _exit(n == sizeof(times) ? 0 : 4);
  }
  writeEnd = nullptr;
  ChildTimes times;
  ssize_t n;
  KJ_SYSCALL(n = read(readEnd.get(), &times, sizeof(times)));
  int status = 0;
  KJ_SYSCALL(waitpid(pid, &status, 0));
  KJ_REQUIRE(n == sizeof(times) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "seccomp bench child failed", status);
  return times;
}

sandbox::ProfileGrants grantsOf(const std::string& path) {
  sandbox::ProfileParse parsed = sandbox::readSeccompProfile(path, path);
  if (auto* error = std::get_if<std::string>(&parsed)) KJ_FAIL_REQUIRE("seccomp profile", *error);
  return sandbox::grantProfile(std::get<sandbox::SeccompProfile>(parsed),
                               sandbox::thisKernelConditions());
}

}  // namespace
}  // namespace _

std::vector<Figure> seccompProfileFigures(const std::string& profilePath, int samples,
                                          int callsPerSample) {
  using _::Clock;
  sandbox::ProfileGrants grants = _::grantsOf(profilePath);
  auto groups = sandbox::defaultWorkerGroups();
  auto compile = [&](bool withProfile) {
    kj::Maybe<const sandbox::ProfileGrants&> profile;
    if (withProfile) profile = grants;
    return sandbox::SeccompFilter::compile(groups, profile);
  };
  sandbox::SeccompFilter plain = compile(false), profiled = compile(true);

  Samples compilePlain, compileProfile, installPlain, installProfile;
  Samples callNone, callPlain, callProfile;
  for (int i = 0; i < samples; ++i) {
    // Interleaved, first one then the other first, so that drift in the machine and whatever
    // the first compile warms hit both variants alike.
    for (bool withProfile : {i % 2 == 0, i % 2 != 0}) {
      auto start = Clock::now();
      auto filter = compile(withProfile);
      (withProfile ? compileProfile : compilePlain).addNanos(_::nanosSince(start));
    }
    callNone.addNanos(_::timeInChild(nullptr, callsPerSample).perCallNanos);
    auto onPlain = _::timeInChild(&plain, callsPerSample);
    installPlain.addNanos(onPlain.installNanos);
    callPlain.addNanos(onPlain.perCallNanos);
    auto onProfile = _::timeInChild(&profiled, callsPerSample);
    installProfile.addNanos(onProfile.installNanos);
    callProfile.addNanos(onProfile.perCallNanos);
  }
  std::string size = " (" + std::to_string(grants.granted.size()) + " of " +
                     std::to_string(grants.granted.size() + grants.refused.size()) + " granted)";
  std::vector<Figure> figures;
  figures.push_back(quantity("seccomp BPF, default groups", "insns",
                             static_cast<double>(plain.program().size())));
  figures.push_back(quantity("seccomp BPF, default + profile" + size, "insns",
                             static_cast<double>(profiled.program().size())));
  auto compiledPlain = latency("seccomp compile, default groups", compilePlain);
  figures.push_back(compiledPlain);
  figures.push_back(against(latency("seccomp compile, default + profile", compileProfile),
                            compiledPlain));
  auto installedPlain = latency("seccomp install, default groups", installPlain);
  figures.push_back(installedPlain);
  figures.push_back(against(latency("seccomp install, default + profile", installProfile),
                            installedPlain));
  // The loop's mean per call, one sample per child; the median of those, in ns (a getppid is
  // well under the 0.1 us the latency rows print).
  auto perCall = [](const std::string& name, Samples samples) {
    return quantity(name, "ns", samples.p50() * 1000);
  };
  auto none = perCall("getppid(), no filter", callNone);
  figures.push_back(none);
  figures.push_back(against(perCall("getppid(), default filter", callPlain), none));
  figures.push_back(
      against(perCall("getppid(), default + profile filter", callProfile), none));
  return figures;
}

}  // namespace airlock::bench
