#include "cli/log_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace airlock::cli {

LogFollower::LogFollower(std::string path, kj::AutoCloseFd fd, LineSink onLine,
                         std::function<void(const std::string&)> warn)
    : path_(kj::mv(path)), fd_(kj::mv(fd)), onLine_(kj::mv(onLine)), warn_(kj::mv(warn)) {
  offset_ = lseek(fd_.get(), 0, SEEK_CUR);
}

void LogFollower::poll() {
  struct stat opened;
  if (fstat(fd_.get(), &opened) == 0 && opened.st_size < offset_) {
    // Truncated in place (copytruncate): what follows is a new beginning.
    lseek(fd_.get(), 0, SEEK_SET);
    offset_ = 0;
    partial_.clear();
  }
  readToEnd();
  reopenIfReplaced();
}

void LogFollower::readToEnd() {
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      warn_(path_ + ": read: " + strerror(errno));
      return;
    }
    if (n == 0) return;
    offset_ += n;
    std::string_view chunk(buffer, n);
    for (;;) {
      auto newline = chunk.find('\n');
      if (newline == std::string_view::npos) break;
      partial_.append(chunk.substr(0, newline));
      onLine_(partial_);
      partial_.clear();
      chunk.remove_prefix(newline + 1);
    }
    partial_.append(chunk);
  }
}

void LogFollower::reopenIfReplaced() {
  struct stat named, opened;
  // ENOENT: renamed away and not yet replaced; keep reading the old file meanwhile.
  if (stat(path_.c_str(), &named) != 0 || fstat(fd_.get(), &opened) != 0) return;
  if (named.st_ino == opened.st_ino && named.st_dev == opened.st_dev) return;
  int raw = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return;  // replaced but not readable (yet): try again at the next poll
  kj::AutoCloseFd replacement(raw);
  readToEnd();  // whatever the writer appended to the old file before it moved on
  if (!partial_.empty()) {
    warn_(path_ + ": the rotated-away file ends in an incomplete line (" +
          std::to_string(partial_.size()) + " bytes); not shown");
  }
  fd_ = kj::mv(replacement);
  offset_ = 0;
  partial_.clear();
  readToEnd();
}

}  // namespace airlock::cli
