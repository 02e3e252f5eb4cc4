#pragma once
// Follows an audit log by its path, as `tail -F` does, for `airlock audit tail -f`: hands out
// each whole line appended to it, never a partial one (a last line without its newline is held
// until the newline arrives). When the path comes to name another file (rotation: the log
// renamed away and a new one created) it first hands out the old file's remaining whole lines,
// then continues from the start of the new file; when the file shrinks (truncated in place) it
// starts again from its beginning.
//
// Owns one open descriptor of the file it reads. Polled: the caller decides when to look again.
// One thread.

#include <kj/io.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

namespace airlock::cli {

class LogFollower {
 public:
  using LineSink = std::function<void(std::string_view line)>;  // without its newline

  // `fd` is `path` opened for reading, positioned where following starts: just after the last
  // line already shown. `warn` gets one line for each thing the follower cannot hand out (a
  // partial line left in a rotated-away file, a failed read).
  LogFollower(std::string path, kj::AutoCloseFd fd, LineSink onLine,
              std::function<void(const std::string&)> warn);

  // Reads what was appended since the last call, handing out every whole line, and moves to
  // the path's new file if it was replaced.
  void poll();

 private:
  void readToEnd();
  void reopenIfReplaced();

  std::string path_;
  kj::AutoCloseFd fd_;
  LineSink onLine_;
  std::function<void(const std::string&)> warn_;
  std::string partial_;  // bytes after the last newline read so far
  off_t offset_ = 0;     // bytes of the current file consumed, the partial line included
};

}  // namespace airlock::cli
