#include "bench/brokered_syscalls_measure.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>

#include <chrono>
#include <fstream>

#include "bench/broker_runner.h"
#include "bench/rpc_measure.h"

extern char** environ;

namespace airlock::bench {

namespace {

// The workload the issue names: python3 start-up importing a few standard modules.
constexpr char PYTHON[] = "/usr/bin/python3";
constexpr char IMPORTS[] = "import json, email, http.client";
constexpr int WORKLOAD_RUNS = 20;

Samples measureDirectStat(const std::string& path, int count) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    struct stat st;
    KJ_REQUIRE(::stat(path.c_str(), &st) == 0, "stat failed", path);
    samples.add(std::chrono::steady_clock::now() - start);
  }
  return samples;
}

// Wall time of `argv` run to exit, `runs` times; each must exit 0.
Samples wallTimes(const std::vector<std::string>& argv, int runs) {
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  Samples samples;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid;
    KJ_REQUIRE(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0, argv[0]);
    int status = 0;
    KJ_SYSCALL(waitpid(pid, &status, 0));
    samples.add(std::chrono::steady_clock::now() - start);
    KJ_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "workload failed", argv[0], status);
  }
  posix_spawn_file_actions_destroy(&actions);
  return samples;
}

}  // namespace

std::vector<Figure> brokeredSyscallFigures(const std::string& bin, kj::AsyncIoContext& io,
                                           int n) {
  std::vector<Figure> figures;
  BrokerRunner sdk(bin, 1, 1);
  BrokerRunner brokered(bin, 1, 1, "airlockd", RequestPace::UNLIMITED,
                        {{"bench", "\n[sandbox]\nbroker_syscalls = true"}});
  auto sdkUnit = sdk.connect(io, "bench");
  auto brokeredUnit = brokered.connect(io, "bench");
  std::string sdkFile = sdk.filesDir() + "/small.txt";
  std::string file = brokered.filesDir() + "/small.txt";
  std::string count = std::to_string(n) + " ";

  auto native = latency("open(2)+close outside the sandbox", measureDirectOpen(file, n));
  figures.push_back(native);
  workerTimed(sdkUnit, io.waitScope, "open-loop", "200 " + sdkFile);  // warm-up
  auto viaSdk = latency("worker fs.open via airlockd (SDK), fd usable",
                        workerTimed(sdkUnit, io.waitScope, "open-loop", count + sdkFile));
  figures.push_back(against(viaSdk, native));
  workerTimed(brokeredUnit, io.waitScope, "syscall-open-loop", "200 " + file);  // warm-up
  figures.push_back(against(
      latency("worker's own open(2)+close, brokered (broker_syscalls)",
              workerTimed(brokeredUnit, io.waitScope, "syscall-open-loop", count + file),
              "p50 <= 0.5x SDK fs.open"),
      viaSdk));

  auto nativeStat = latency("stat(2) outside the sandbox", measureDirectStat(file, n));
  figures.push_back(nativeStat);
  figures.push_back(against(
      latency("worker's own stat(2), brokered (broker_syscalls)",
              workerTimed(brokeredUnit, io.waitScope, "syscall-stat-loop", count + file)),
      nativeStat));

  if (access(PYTHON, X_OK) == 0) {
    // Native-first reads (sandbox/native_first.h) are on wherever Landlock is required; the
    // best-effort policy turns them off, for the same program's figure without them.
    const std::string groups = "syscalls = [\"system-info\", \"nss-without-daemons\"]\n";
    std::string policy = brokered.filesDir() + "/../run-python.toml";
    std::ofstream(policy) << "[unit]\nname = \"python\"\n\n[sandbox]\n" << groups;
    std::string unassistedPolicy = brokered.filesDir() + "/../run-python-unassisted.toml";
    std::ofstream(unassistedPolicy)
        << "[unit]\nname = \"python\"\n\n[sandbox]\n" << groups
        << "landlock = \"best-effort\"\njustification = \"the bench's comparison row\"\n";
    std::string audit = brokered.filesDir() + "/../run-python.jsonl";
    auto underRun = [&](const std::string& policyPath) {
      return wallTimes({bin + "/airlock", "run", "--policy", policyPath, "--audit", audit, "--",
                        PYTHON, "-c", IMPORTS},
                       WORKLOAD_RUNS);
    };
    auto outside = latency(std::string("python3 -c '") + IMPORTS + "', unsandboxed",
                           wallTimes({PYTHON, "-c", IMPORTS}, WORKLOAD_RUNS));
    figures.push_back(outside);
    figures.push_back(against(
        latency("the same under airlock run (sandbox set-up included)", underRun(policy),
                "<= 1.5x unsandboxed"),
        outside));
    figures.push_back(against(
        latency("the same, native-first reads off (a round trip per view file)",
                underRun(unassistedPolicy)),
        outside));
  }
  return figures;
}

}  // namespace airlock::bench
