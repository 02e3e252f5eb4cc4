#include "sandbox/setup_error.h"

#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace airlock::sandbox {

namespace _ {

constexpr size_t MAX_MESSAGE = 1024;

[[noreturn]] void writeAndExit(int fd, const char* message, size_t length) {
  // Best effort: if the parent is gone there is nobody to tell.
  while (length > 0) {
    ssize_t n = write(fd, message, length);
    if (n <= 0) break;
    message += n;
    length -= static_cast<size_t>(n);
  }
  _exit(SETUP_FAILED_EXIT_CODE);
}

}  // namespace _

void SetupReporter::fail(const char* step, int err, const char* callFormat, ...) const {
  char call[_::MAX_MESSAGE / 2];
  va_list args;
  va_start(args, callFormat);
  vsnprintf(call, sizeof(call), callFormat, args);
  va_end(args);
  const char* name = strerrorname_np(err);
  char message[_::MAX_MESSAGE];
  int n = snprintf(message, sizeof(message), "%s: %s: %s (%s)", step, call,
                   name != nullptr ? name : "E?", strerror(err));
  _::writeAndExit(errorFd_, message, n < 0 ? 0 : std::min<size_t>(n, sizeof(message) - 1));
}

void SetupReporter::failMessage(const char* step, const char* message) const {
  char line[_::MAX_MESSAGE];
  int n = snprintf(line, sizeof(line), "%s: %s", step, message);
  _::writeAndExit(errorFd_, line, n < 0 ? 0 : std::min<size_t>(n, sizeof(line) - 1));
}

}  // namespace airlock::sandbox
