#include "audit/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "audit/log_file.h"

namespace airlock::audit {

kj::Maybe<kj::Own<LineReader>> LineReader::open(const std::string& path, std::string& error) {
  error = whyNotALogFile(path);
  if (!error.empty()) return nullptr;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = strerror(errno);
    return nullptr;
  }
  return kj::heap<LineReader>(kj::AutoCloseFd(fd));
}

LineReader::LineReader(kj::AutoCloseFd fd) : fd_(kj::mv(fd)), buffer_(BUFFER_BYTES) {}

bool LineReader::fill() {
  if (atEnd_) return false;
  if (begin_ > 0) {  // move the partial line to the front
    memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += n;
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) readErrno_ = errno;
    atEnd_ = true;
    return false;
  }
}

bool LineReader::next(std::string_view& line, bool& whole) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    auto* newline =
        static_cast<const char*>(memchr(start + scanned_, '\n', end_ - begin_ - scanned_));
    if (newline != nullptr) {
      line = std::string_view(start, newline - start);
      whole = true;
      begin_ += line.size() + 1;
      scanned_ = 0;
      return true;
    }
    scanned_ = end_ - begin_;
    if (!fill()) break;
  }
  if (readErrno_ != 0 || begin_ == end_) return false;
  line = std::string_view(buffer_.data() + begin_, end_ - begin_);
  whole = false;
  begin_ = end_;
  scanned_ = 0;
  return true;
}

}  // namespace airlock::audit
