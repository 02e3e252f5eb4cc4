#include "bench/child_process.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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

bool pinToFirstCpu(const char* program) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  if (sched_setaffinity(0, sizeof(set), &set) == 0) return true;
  fprintf(stderr, "%s: sched_setaffinity(CPU 0): %s\n", program, strerror(errno));
  return false;
}

}  // namespace airlock::bench
