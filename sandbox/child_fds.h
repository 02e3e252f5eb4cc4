#pragma once
// The sandbox child's descriptor table: exactly stdin, stdout, stderr and the broker channel.

#include "sandbox/setup_error.h"

namespace airlock::sandbox {

// Where the setup channel (a socketpair) sits from the fd step until execve closes it (close-on-exec).
constexpr int SETUP_ERROR_FD = 4;
// fd 3 is the broker channel by contract with the worker SDK.
constexpr int CHANNEL_FD = 3;

void arrangeChildFds(int channel, int stdinFd, int stdoutFd, int stderrFd,
                     SetupReporter& reporter);
// Child side, after pivot_root (so /dev/null is the sandbox's own). Makes stdin, stdout and
// stderr the given fds (or /dev/null for -1), fd 3 the channel (absent for -1), moves the
// setup channel to SETUP_ERROR_FD (close-on-exec) and closes every other descriptor.

}  // namespace airlock::sandbox
