#include "broker/resources/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kj/io.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace airlock::broker::resources {

namespace _ {
namespace {

std::string failure(const std::string& call, int err) {
  return call + ": " + strerrorname_np(err) + " " + strerror(err);
}

// Reads `fd` from its start to its end. cgroup files are small; the bound keeps a surprising one
// from growing airlockd.
std::optional<std::string> readFromStart(int fd) {
  std::string text;
  char buffer[4096];
  while (text.size() < (64u << 10)) {
    ssize_t n = pread(fd, buffer, sizeof(buffer), static_cast<off_t>(text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    // A short read is the end: the kernel fills a read of a cgroup file (a seq_file) as far as
    // its text goes. Stopping here saves the read that would return 0, once per call.
    if (static_cast<size_t>(n) < sizeof(buffer)) break;
  }
  return text;
}

}  // namespace
}  // namespace _

std::string writeCgroupFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return _::failure("open(" + path + ", O_WRONLY)", errno);
  kj::AutoCloseFd owned(fd);
  if (write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return _::failure("write(" + path + ", \"" + value + "\")", errno);
  }
  return "";
}

std::optional<std::string> readCgroupFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  kj::AutoCloseFd owned(fd);
  return _::readFromStart(fd);
}

std::optional<std::string> rereadCgroupFile(int fd) { return _::readFromStart(fd); }

uint64_t firstNumberIn(const std::string& text) { return strtoull(text.c_str(), nullptr, 10); }

uint64_t fieldIn(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string name;
  uint64_t value;
  while (lines >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

uint64_t readCgroupNumber(const std::string& path) {
  auto text = readCgroupFile(path);
  return text ? firstNumberIn(*text) : 0;
}

uint64_t readCgroupField(const std::string& path, const std::string& key) {
  auto text = readCgroupFile(path);
  return text ? fieldIn(*text, key) : 0;
}

std::string makeCgroupDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return "";
  return _::failure("mkdir(" + path + ")", errno);
}

std::vector<std::string> cgroupChildren(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  return names;
}

void removeCgroupTree(const std::string& path) {
  for (const std::string& child : cgroupChildren(path)) removeCgroupTree(path + "/" + child);
  if (rmdir(path.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("cgroup {}: {}", path, _::failure("rmdir", errno));
  }
}

}  // namespace airlock::broker::resources
