#include "bench/spawn_measure.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <airlock/capnp/worker.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/debug.h>

#include <chrono>
#include <optional>
#include <vector>

#include "sandbox/launcher.h"

namespace airlock::bench {

namespace {

const char BWRAP[] = "/usr/bin/bwrap";

// fork+exec of `argv` with `channel` as fd 3 and nothing else but stdio.
pid_t forkExec(const std::vector<std::string>& argv, int channel) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(channel, 3);
    close_range(4, ~0U, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char* noEnv[] = {nullptr};
    execve(args[0], args.data(), noEnv);
    _exit(127);
  }
  return pid;
}

std::vector<std::string> bwrapArgv(const std::string& worker) {
  // Comparable to the airlock sandbox: every namespace, a read-only root of the program and the
  // libraries; bwrap applies no seccomp or Landlock.
  return {BWRAP,      "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
          "--symlink", "usr/lib",      "/lib",              "--symlink", "usr/lib64", "/lib64",
          "--dev",     "/dev",         "--ro-bind",         worker,      worker,      "--",
          worker};
}

void helloOnce(int brokerEnd, kj::AsyncIoContext& io) {
  auto stream = io.lowLevelProvider->wrapUnixSocketFd(brokerEnd);
  capnp::TwoPartyClient client(*stream, 1);
  auto worker = client.bootstrap().castAs<rpc::Worker>();
  worker.helloRequest().send().wait(io.waitScope);
}

}  // namespace

const char* launcherName(Launcher launcher) {
  switch (launcher) {
    case Launcher::AIRLOCK_SANDBOX: return "airlock sandbox";
    case Launcher::BWRAP: return "bwrap --unshare-all";
    case Launcher::FORK_EXEC: return "fork+exec";
  }
  return "?";
}

Samples measureSpawnToFirstCall(Launcher launcher, const std::string& worker, int count,
                                kj::AsyncIoContext& io, const PlaceWorker& place,
                                const std::function<void()>& afterStart) {
  Samples samples;
  if (launcher == Launcher::BWRAP && access(BWRAP, X_OK) != 0) return samples;
  for (int i = 0; i < count; ++i) {
    int pair[2];
    KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
    kj::AutoCloseFd brokerEnd(pair[0]), workerEnd(pair[1]);
    auto start = std::chrono::steady_clock::now();
    std::shared_ptr<void> placement;  // declared first: dropped after the process is reaped
    std::optional<sandbox::SandboxedProcess> sandboxed;
    pid_t pid = -1;
    if (launcher == Launcher::AIRLOCK_SANDBOX) {
      sandbox::SandboxSpec spec;
      spec.program = worker;
      if (place) placement = place(spec);
      sandbox::ChildFds fds;
      fds.channel = workerEnd.get();
      sandboxed.emplace(sandbox::launch(spec, fds));
    } else {
      pid = forkExec(launcher == Launcher::BWRAP ? bwrapArgv(worker)
                                                 : std::vector<std::string>{worker},
                     workerEnd.get());
    }
    workerEnd = nullptr;
    helloOnce(brokerEnd.get(), io);
    samples.add(std::chrono::steady_clock::now() - start);
    if (afterStart) afterStart();
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  return samples;
}

}  // namespace airlock::bench
