#include "broker/server/allocator_tunables.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

namespace airlock::broker {

namespace {

constexpr bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace

bool allocatorTunablesApplyToThisBuild() { return !sanitized(); }

const char* reexecWithAllocatorTunables(char** argv) {
  if (sanitized() || getenv("GLIBC_TUNABLES") != nullptr) return nullptr;
  // The binary's own path, not /proc/self/exe: exec names the process after the file it ran, and
  // operators (pgrep -x airlockd) find the daemon by its name, not by "exe".
  char self[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) return strerror(errno);
  self[length] = '\0';
  if (setenv("GLIBC_TUNABLES", AIRLOCKD_ALLOCATOR_TUNABLES, 1) != 0) return strerror(errno);
  execv(self, argv);
  // Still here: /proc is not mounted, or the binary went away. Nothing is lost but speed; the
  // variable stays set so that nothing spawned later tries again.
  return strerror(errno);
}

}  // namespace airlock::broker
