#include "audit/anchor_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace airlock::audit {

namespace _ {

// The started command, killed and reaped when this goes out of scope unless reap() ran. The
// command leads its own process group (POSIX_SPAWN_SETPGROUP), so a kill reaches what the shell
// started too: `sh -c 'a | b'` must not leave `a` running past the deadline.
class SpawnedCommand {
 public:
  SpawnedCommand(pid_t pid, kj::AutoCloseFd pidfd) : pid_(pid), pidfd_(kj::mv(pidfd)) {}
  ~SpawnedCommand() {
    if (reaped_) return;
    kill();
    reap();
  }
  SpawnedCommand(const SpawnedCommand&) = delete;
  SpawnedCommand& operator=(const SpawnedCommand&) = delete;

  int pidfd() const { return pidfd_.get(); }

  void kill() {
    // The group id is the leader's pid, which stays ours until reap(): no other group is hit.
    ::kill(-pid_, SIGKILL);
    syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  }

  siginfo_t reap() {
    siginfo_t info = {};
    while (waitid(P_PIDFD, pidfd_.get(), &info, WEXITED) != 0 && errno == EINTR) {
    }
    reaped_ = true;
    return info;
  }

 private:
  pid_t pid_;
  kj::AutoCloseFd pidfd_;
  bool reaped_ = false;
};

int millisecondsUntil(std::chrono::steady_clock::time_point when) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(when - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

const char* signalName(int signal) {
  const char* name = sigabbrev_np(signal);
  return name != nullptr ? name : "an unknown signal";
}

}  // namespace _

void describeAnchorOutcome(const AnchorOutcome& o, std::chrono::milliseconds deadline, char* out,
                           size_t size) {
  using Kind = AnchorOutcome::Kind;
  switch (o.kind) {
    case Kind::DELIVERED:
      snprintf(out, size, "delivered %llu bytes", static_cast<unsigned long long>(o.bytesOffered));
      return;
    case Kind::EXITED:
      snprintf(out, size, "exited with status %d", o.status);
      return;
    case Kind::SIGNALLED:
      snprintf(out, size, "killed by SIG%s", _::signalName(o.status));
      return;
    case Kind::TIMED_OUT:
      snprintf(out, size, "still running at the %lld ms deadline: killed by SIGKILL",
               static_cast<long long>(deadline.count()));
      return;
    case Kind::STDIN_CLOSED:
      snprintf(out, size, "exited with status 0 but read only %llu of %llu bytes",
               static_cast<unsigned long long>(o.bytesWritten),
               static_cast<unsigned long long>(o.bytesOffered));
      return;
    case Kind::SPAWN_FAILED:
      snprintf(out, size, "cannot start /bin/sh: %s (%s)", strerrorname_np(o.status),
               strerror(o.status));
      return;
  }
  snprintf(out, size, "unknown outcome");
}

AnchorCommand::AnchorCommand(std::string command, std::chrono::milliseconds deadline)
    : command_(kj::mv(command)), deadline_(deadline) {
  KJ_REQUIRE(!command_.empty(), "the anchor command is empty");
  int devNull;
  KJ_SYSCALL(devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC), "/dev/null");
  devNull_ = kj::AutoCloseFd(devNull);
  int slot;
  KJ_SYSCALL(slot = fcntl(devNull, F_DUPFD_CLOEXEC, 0), "reserving the anchor command's stdin");
  stdinSlot_ = kj::AutoCloseFd(slot);

  // posix_spawn's dup2 onto 0 clears FD_CLOEXEC there; every other fd of airlockd is O_CLOEXEC.
  KJ_REQUIRE(posix_spawn_file_actions_init(&actions_) == 0);
  KJ_REQUIRE(posix_spawn_file_actions_adddup2(&actions_, slot, STDIN_FILENO) == 0);
  // The command starts with default signal dispositions and nothing blocked: airlockd ignores
  // SIGPIPE and its threads block SIGTERM/SIGINT, and both would otherwise be inherited.
  KJ_REQUIRE(posix_spawnattr_init(&attributes_) == 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes_, &none);
  posix_spawnattr_setsigdefault(&attributes_, &all);
  posix_spawnattr_setpgroup(&attributes_, 0);
  posix_spawnattr_setflags(&attributes_,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  argv_[0] = argShell_.data();
  argv_[1] = argDashC_.data();
  argv_[2] = const_cast<char*>(command_.c_str());
  argv_[3] = nullptr;
}

AnchorCommand::~AnchorCommand() {
  posix_spawnattr_destroy(&attributes_);
  posix_spawn_file_actions_destroy(&actions_);
}

AnchorOutcome AnchorCommand::run(const char* bytes, size_t size) {
  AnchorOutcome outcome;
  outcome.bytesOffered = size;
  auto deadlineAt = std::chrono::steady_clock::now() + deadline_;

  // A socket rather than a pipe: send(MSG_NOSIGNAL) to a command that closed its stdin is EPIPE,
  // not a SIGPIPE for the whole process (tests, and any embedder, may not ignore it).
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    outcome.status = errno;
    return outcome;
  }
  kj::AutoCloseFd ours(pair[0]);
  {
    kj::AutoCloseFd theirs(pair[1]);
    if (dup3(theirs.get(), stdinSlot_.get(), O_CLOEXEC) < 0) {
      outcome.status = errno;
      return outcome;
    }
  }
  pid_t pid = 0;
  int spawnError = posix_spawn(&pid, "/bin/sh", &actions_, &attributes_, argv_, environ);
  // Back to the placeholder: while we held the command's end, its exit would not close the
  // socket and a send would block instead of failing.
  dup3(devNull_.get(), stdinSlot_.get(), O_CLOEXEC);
  if (spawnError != 0) {
    outcome.status = spawnError;
    return outcome;
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Without a pidfd there is no deadline to wait on: stop it now (its pid is ours until reaped).
    outcome.status = errno;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return outcome;
  }
  _::SpawnedCommand command(pid, kj::AutoCloseFd(pidfd));

  size_t written = 0;
  bool writing = true;
  if (size == 0) {
    shutdown(ours.get(), SHUT_WR);
    writing = false;
  }
  bool exited = false;
  while (!exited) {
    int wait = _::millisecondsUntil(deadlineAt);
    if (wait == 0) break;
    struct pollfd fds[2] = {{command.pidfd(), POLLIN, 0}, {ours.get(), POLLOUT, 0}};
    int ready = poll(fds, writing ? 2 : 1, wait);
    if (ready < 0) continue;  // EINTR; nothing else can fail on two valid fds
    if (fds[0].revents != 0) {
      exited = true;
    } else if (writing && fds[1].revents != 0) {
      ssize_t n = send(ours.get(), bytes + written, size - written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += n;
      if (written == size) shutdown(ours.get(), SHUT_WR);  // EOF: the command may finish
      // EPIPE/ECONNRESET: the command closed its stdin; wait for it to exit.
      if (written == size || (n < 0 && errno != EAGAIN && errno != EINTR)) writing = false;
    }
  }
  outcome.bytesWritten = written;
  if (!exited) {
    command.kill();
    command.reap();
    outcome.kind = AnchorOutcome::Kind::TIMED_OUT;
    outcome.status = SIGKILL;
    return outcome;
  }
  siginfo_t info = command.reap();
  outcome.status = info.si_status;
  if (info.si_code != CLD_EXITED) {
    outcome.kind = AnchorOutcome::Kind::SIGNALLED;
  } else if (info.si_status != 0) {
    outcome.kind = AnchorOutcome::Kind::EXITED;
  } else {
    outcome.kind = written == size ? AnchorOutcome::Kind::DELIVERED
                                   : AnchorOutcome::Kind::STDIN_CLOSED;
  }
  return outcome;
}

}  // namespace airlock::audit
