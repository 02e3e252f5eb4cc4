#include "cli/audit_tail.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <kj/io.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "audit/chain_follower.h"
#include "audit/log_file.h"
#include "audit/signing_key.h"
#include "cli/audit_args.h"
#include "cli/log_follower.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view TAIL_USAGE = R"(
usage: airlock audit tail [-f] [-n N] [--verify [--key PUB]] FILE

Prints the last N records of the audit log FILE, exactly as they are in the file. Only whole
lines are printed: a last line still without its newline is not.

options:
  -n N          how many records (default 10; 0 prints none, useful with -f)
  -f, --follow  then keep printing records as they are appended, until SIGINT or SIGTERM.
                When FILE is replaced (rotated: renamed away and created anew) the rest of the
                old file is printed, then the new file from its start; when it is truncated,
                it is printed again from its start.
  --verify      check the hash chain of FILE from its first line, then of every line appended
                (across rotation too): each must be a whole record in the form airlockd
                writes, with the next seq and the previous line's hash as its prev, and each
                checkpoint must sign the record before it. The first line that breaks the chain
                stops the command with FILE: seq S: what (as airlock audit verify names it)
                on stderr, before that line is printed. A file's first line is taken as given.
  --key PUB     with --verify: checkpoints must be signed by this public key (PREFIX.pub of
                airlock keygen); without it, by the key each checkpoint names
  -h, --help    print this help

exit status: 0 when done (with -f: stopped by SIGINT or SIGTERM), 1 if FILE cannot be read or
(with --verify) a line breaks the chain, 2 on a usage error.
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

// With --verify: every line is checked before it is printed; the first break ends the command.
struct ChainCheck {
  std::string path;
  kj::Maybe<audit::ChainFollower> chain;  // null without --verify
  bool broken = false;

  bool holds(std::string_view line) {
    KJ_IF_MAYBE(follower, chain) {
      std::string finding = follower->next(line);
      if (finding.empty()) return true;
      std::cerr << path << ": seq " << follower->lastSeq() << ": " << finding << "\n";
      broken = true;
      return false;
    }
    return true;
  }
};

// Checks the whole lines of `fd` from its start to `end` (the records already there).
bool checkExisting(int fd, off_t end, ChainCheck& check) {
  if (check.chain == nullptr) return true;
  std::string pending;
  char buffer[65536];
  for (off_t at = 0; at < end;) {
    ssize_t n = pread(fd, buffer, std::min<off_t>(sizeof(buffer), end - at), at);
    if (n <= 0) return false;
    pending.append(buffer, n);
    at += n;
    size_t start = 0, newline;
    while ((newline = pending.find('\n', start)) != std::string::npos) {
      if (!check.holds(std::string_view(pending).substr(start, newline - start))) return true;
      start = newline + 1;
    }
    pending.erase(0, start);
  }
  return true;
}

// Follows until SIGINT or SIGTERM arrives on a signalfd, or (with --verify) a line breaks the
// chain: then 1.
int follow(const std::string& path, kj::AutoCloseFd fd, ChainCheck& check) {
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
      [&check](std::string_view line) {
        if (check.broken || !check.holds(line)) return;  // nothing after the break is shown
        fwrite(line.data(), 1, line.size(), stdout);
        fputc('\n', stdout);
      },
      [](const std::string& warning) { std::cerr << "airlock audit tail: " << warning << "\n"; });
  for (;;) {
    follower.poll();
    fflush(stdout);
    if (check.broken) return 1;
    struct pollfd waiting = {signals.get(), POLLIN, 0};
    int ready = ::poll(&waiting, 1, FOLLOW_POLL_MS);
    if (ready > 0) return 0;  // SIGINT or SIGTERM: every whole line read so far is printed
  }
}

}  // namespace _

int auditTailMain(int argc, char** argv) {
  AuditArgs args("tail", _::TAIL_USAGE, argc, argv);
  bool follow = false, verify = false;
  size_t count = _::DEFAULT_LINES;
  std::string path, keyPath;
  while (args.next()) {
    if (args.isHelp()) return args.printHelp();
    if (args.arg() == "-f" || args.arg() == "--follow") {
      follow = true;
    } else if (args.arg() == "--verify") {
      verify = true;
    } else if (args.arg() == "--key") {
      KJ_IF_MAYBE(given, args.value()) { keyPath = *given; } else { return 2; }
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
  if (!keyPath.empty() && !verify) return args.usageError("--key needs --verify");
  _::ChainCheck check{path, nullptr, false};
  if (verify) {
    kj::Maybe<audit::PublicKey> trusted;
    if (!keyPath.empty()) {
      std::string error;
      KJ_IF_MAYBE(key, audit::loadPublicKey(keyPath, error)) {
        trusted = *key;
      } else {
        std::cerr << "airlock audit tail: --key " << error << "\n";
        return 1;
      }
    }
    check.chain = audit::ChainFollower(trusted);
  }

  std::string notALog = audit::whyNotALogFile(path);  // a FIFO would block, /dev/zero never end
  if (!notALog.empty()) {
    std::cerr << path << ": cannot read: " << notALog << "\n";
    return 1;
  }
  int raw = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    std::cerr << path << ": cannot read: " << strerror(errno) << "\n";
    return 1;
  }
  kj::AutoCloseFd fd(raw);
  off_t start, end;
  if (!_::findLastLines(fd.get(), count, start, end) ||
      !_::checkExisting(fd.get(), end, check)) {
    std::cerr << path << ": read: " << strerror(errno) << "\n";
    return 1;
  }
  if (check.broken) return 1;
  if (!_::copyRange(fd.get(), start, end)) {
    std::cerr << path << ": read: " << strerror(errno) << "\n";
    return 1;
  }
  if (!follow) return 0;
  lseek(fd.get(), end, SEEK_SET);
  return _::follow(path, kj::mv(fd), check);
}

}  // namespace airlock::cli
