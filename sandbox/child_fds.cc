#include "sandbox/child_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace airlock::sandbox {

namespace _ {

constexpr const char* STEP = "arrange fds";
// Temporary copies go above every target so that no dup3 overwrites a source still needed.
constexpr int FIRST_SCRATCH_FD = 10;

int scratchCopy(int fd, const SetupReporter& reporter) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, FIRST_SCRATCH_FD);
  if (copy < 0) reporter.fail(STEP, errno, "fcntl(%d, F_DUPFD_CLOEXEC, %d)", fd, FIRST_SCRATCH_FD);
  return copy;
}

void place(int from, int to, int flags, const SetupReporter& reporter) {
  if (dup3(from, to, flags) < 0) reporter.fail(STEP, errno, "dup3(%d, %d)", from, to);
}

}  // namespace _

void arrangeChildFds(int channel, int stdinFd, int stdoutFd, int stderrFd,
                     SetupReporter& reporter) {
  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devNull < 0) reporter.fail(_::STEP, errno, "open(/dev/null, O_RDWR)");
  int in = _::scratchCopy(stdinFd >= 0 ? stdinFd : devNull, reporter);
  int out = _::scratchCopy(stdoutFd >= 0 ? stdoutFd : devNull, reporter);
  int err = _::scratchCopy(stderrFd >= 0 ? stderrFd : devNull, reporter);
  int chan = channel >= 0 ? _::scratchCopy(channel, reporter) : -1;
  int setup = _::scratchCopy(reporter.fd(), reporter);

  _::place(setup, SETUP_ERROR_FD, O_CLOEXEC, reporter);
  reporter.moveTo(SETUP_ERROR_FD);
  _::place(in, STDIN_FILENO, 0, reporter);
  _::place(out, STDOUT_FILENO, 0, reporter);
  _::place(err, STDERR_FILENO, 0, reporter);
  if (chan >= 0) {
    _::place(chan, CHANNEL_FD, 0, reporter);
  } else {
    close(CHANNEL_FD);  // whatever the launcher had there must not leak in
  }
  // Every other descriptor of the broker (sockets, audit log, policy files, other workers'
  // channels) is closed here, not merely marked close-on-exec.
  if (close_range(SETUP_ERROR_FD + 1, ~0U, 0) < 0) {
    reporter.fail(_::STEP, errno, "close_range(%d, ~0U, 0)", SETUP_ERROR_FD + 1);
  }
}

}  // namespace airlock::sandbox
