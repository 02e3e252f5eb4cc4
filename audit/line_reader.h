#pragma once
// Reads a file line by line through one large buffer: each line is a view into the buffer, so
// reading a million-line audit log costs a few hundred read(2)s and no allocation per line.
// (std::getline copied every line into a string; mmap was not used because a log that
// airlockd truncates back after a short write would turn a read into SIGBUS.)
//
// Single-threaded: one reader per file, used by one thread.

#include <kj/io.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace airlock::audit {

class LineReader {
 public:
  // Opens `path` read-only. Null, with `error` set to why, if it cannot or it is not a regular
  // file (whyNotALogFile).
  static kj::Maybe<kj::Own<LineReader>> open(const std::string& path, std::string& error);

  explicit LineReader(kj::AutoCloseFd fd);

  // The next line, without its '\n', valid until the following call. `whole` is false for a
  // last line that has no '\n'. Returns false at the end of the file, or on a read error
  // (then readErrno() is set).
  bool next(std::string_view& line, bool& whole);
  int readErrno() const { return readErrno_; }

 private:
  bool fill();  // reads more bytes after end_; false at end of file or on error

  static constexpr size_t BUFFER_BYTES = 1 << 20;  // grows if one line is longer

  kj::AutoCloseFd fd_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t scanned_ = 0;          // bytes after begin_ already known to hold no '\n'
  bool atEnd_ = false;
  int readErrno_ = 0;
};

}  // namespace airlock::audit
