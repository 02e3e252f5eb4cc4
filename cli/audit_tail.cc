#include "cli/audit_tail.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <kj/io.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/audit_args.h"
#include "cli/log_follower.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view TAIL_USAGE = R"(
usage: airlock audit tail [-f] [-n N] FILE

Prints the last N records of the audit log FILE, exactly as they are in the file. Only whole
lines are printed: a last line still without its newline is not.

options:
  -n N          how many records (default 10; 0 prints none, useful with -f)
  -f, --follow  then keep printing records as they are appended, until SIGINT or SIGTERM.
                When FILE is replaced (rotated: renamed away and created anew) the rest of the
                old file is printed, then the new file from its start; when it is truncated,
                it is printed again from its start.
  -h, --help    print this help

exit status: 0 when done (with -f: stopped by SIGINT or SIGTERM), 1 if FILE cannot be read,
2 on a usage error.
)";

constexpr size_t DEFAULT_LINES = 10;
// How often -f looks for appended records and a replaced file; the delay a reader sees.
constexpr int FOLLOW_POLL_MS = 200;

// The offset where the last `count` whole lines of `fd` start, and where they end (just after
// the last newline; a partial line after it is not part of them). Reads backwards from the end.
bool findLastLines(int fd, size_t count, off_t& start, off_t& end) {
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) return false;
  char buffer[65536];
  size_t newlines = 0;
  bool endFound = false;
  start = end = 0;
  for (off_t block = size; block > 0;) {
    off_t from = block > off_t(sizeof(buffer)) ? block - off_t(sizeof(buffer)) : 0;
    ssize_t n = pread(fd, buffer, block - from, from);
    if (n != block - from) return false;
    for (off_t i = n - 1; i >= 0; --i) {
      if (buffer[i] != '\n') continue;
      if (!endFound) {
        endFound = true;
        end = from + i + 1;
        if (count == 0) {
          start = end;
          return true;
        }
        continue;
      }
      if (++newlines == count) {
        start = from + i + 1;
        return true;
      }
    }
    block = from;
  }
  return true;  // fewer than `count` lines: all of them, from the start
}

bool copyRange(int fd, off_t start, off_t end) {
  char buffer[65536];
  for (off_t at = start; at < end;) {
    size_t want = std::min<off_t>(sizeof(buffer), end - at);
    ssize_t n = pread(fd, buffer, want, at);
    if (n <= 0) return false;
    fwrite(buffer, 1, n, stdout);
    at += n;
  }
  fflush(stdout);
  return true;
}

// Follows until SIGINT or SIGTERM arrives on a signalfd.
int follow(const std::string& path, kj::AutoCloseFd fd) {
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stopSignals, nullptr);
  int rawSignalFd = signalfd(-1, &stopSignals, SFD_CLOEXEC);
  if (rawSignalFd < 0) {
    std::cerr << "airlock audit tail: signalfd: " << strerror(errno) << "\n";
    return 1;
  }
  kj::AutoCloseFd signals(rawSignalFd);
  LogFollower follower(
      path, kj::mv(fd),
      [](std::string_view line) {
        fwrite(line.data(), 1, line.size(), stdout);
        fputc('\n', stdout);
      },
      [](const std::string& warning) { std::cerr << "airlock audit tail: " << warning << "\n"; });
  for (;;) {
    follower.poll();
    fflush(stdout);
    struct pollfd waiting = {signals.get(), POLLIN, 0};
    int ready = ::poll(&waiting, 1, FOLLOW_POLL_MS);
    if (ready > 0) return 0;  // SIGINT or SIGTERM: every whole line read so far is printed
  }
}

}  // namespace _

int auditTailMain(int argc, char** argv) {
  AuditArgs args("tail", _::TAIL_USAGE, argc, argv);
  bool follow = false;
  size_t count = _::DEFAULT_LINES;
  std::string path;
  while (args.next()) {
    if (args.isHelp()) return args.printHelp();
    if (args.arg() == "-f" || args.arg() == "--follow") {
      follow = true;
    } else if (args.arg() == "-n") {
      std::string value;
      KJ_IF_MAYBE(given, args.value()) { value = *given; } else { return 2; }
      if (value.empty() || value.size() > 9 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return args.usageError("-n \"" + value + "\" is not a number from 0 to 999999999");
      }
      count = std::stoul(value);
    } else if (args.isOption()) {
      return args.usageError("unknown option " + std::string(args.arg()));
    } else if (path.empty()) {
      path = args.arg();
    } else {
      return args.usageError("one FILE only");
    }
  }
  if (path.empty()) return args.usageError("FILE is required");

  int raw = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    std::cerr << path << ": cannot read: " << strerror(errno) << "\n";
    return 1;
  }
  kj::AutoCloseFd fd(raw);
  off_t start, end;
  if (!_::findLastLines(fd.get(), count, start, end) || !_::copyRange(fd.get(), start, end)) {
    std::cerr << path << ": read: " << strerror(errno) << "\n";
    return 1;
  }
  if (!follow) return 0;
  lseek(fd.get(), end, SEEK_SET);
  return _::follow(path, kj::mv(fd));
}

}  // namespace airlock::cli
