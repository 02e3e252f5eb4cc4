#pragma once
// The sandbox child's only way to fail: one line on the setup channel (a socketpair), then _exit(127).
// Used only in the child between clone3 and execve (single-threaded fork of the launcher).

namespace airlock::sandbox {

// Exit code of a child whose setup failed (as a shell uses for "could not execute").
constexpr int SETUP_FAILED_EXIT_CODE = 127;

class SetupReporter {
 public:
  explicit SetupReporter(int errorFd) : errorFd_(errorFd) {}
  // `errorFd`: the child end of the close-on-exec setup channel, borrowed; it moves when the child
  // renumbers its fds (see moveTo()).

  [[noreturn]] void fail(const char* step, int err, const char* callFormat, ...) const
      __attribute__((format(printf, 4, 5)));
  // Writes "<step>: <call with arguments>: <ERRNO> (<strerror>)" and exits. `err` is the errno.

  [[noreturn]] void failMessage(const char* step, const char* message) const;
  // For failures that have no errno.

  int fd() const { return errorFd_; }
  void moveTo(int fd) { errorFd_ = fd; }

 private:
  int errorFd_;
};

}  // namespace airlock::sandbox
