#include "sandbox/beside_own_binary.h"

#include <unistd.h>

#include <filesystem>

namespace airlock::sandbox {

std::string besideOwnBinary(const std::string& relative) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "";
  std::filesystem::path dir = std::filesystem::path(std::string(self, static_cast<size_t>(n)))
                                  .parent_path();
  std::error_code ec;
  auto path = std::filesystem::canonical(dir / relative, ec);
  return ec ? "" : path.string();
}

}  // namespace airlock::sandbox
