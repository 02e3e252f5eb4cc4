#include "bench/self_dir.h"

#include <kj/debug.h>
#include <unistd.h>

namespace airlock::bench {

std::string selfDir() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  KJ_REQUIRE(n > 0);
  std::string self(path, n);
  return self.substr(0, self.rfind('/'));
}

}  // namespace airlock::bench
