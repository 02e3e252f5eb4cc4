#pragma once
// A forked helper process for a benchmark, killed and reaped when the object dies.

#include <sys/types.h>

#include <functional>

namespace airlock::bench {

class ChildProcess {
 public:
  // Forks; the child runs `body` and exits with its return value. The caller must be
  // single-threaded (no kj event loop may exist yet in the parent when the child uses one).
  explicit ChildProcess(const std::function<int()>& body);
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Puts this process, and so every process it starts afterwards, on CPU 0 (`--pin`). On failure
// prints why, prefixed with `program`, and returns false.
bool pinToFirstCpu(const char* program);

}  // namespace airlock::bench
