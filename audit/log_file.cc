#include "audit/log_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace airlock::audit {

std::string whyNotALogFile(const std::string& path) {
  struct stat st;
  // stat, not open: opening a FIFO to look at it would wait for a writer.
  if (stat(path.c_str(), &st) != 0) return strerror(errno);
  if (S_ISREG(st.st_mode)) return "";
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a file";
  return std::string("not a regular file (") + kind + ")";
}

}  // namespace airlock::audit
