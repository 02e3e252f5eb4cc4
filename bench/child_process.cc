#include "bench/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace airlock::bench {

ChildProcess::ChildProcess(const std::function<int()>& body) {
  fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) _exit(body());
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

}  // namespace airlock::bench
