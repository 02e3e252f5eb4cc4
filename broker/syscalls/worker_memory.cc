#include "broker/syscalls/worker_memory.h"

#include <limits.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker::syscalls {

namespace _ {

// Reads in page-bounded pieces: a path may end just before an unmapped page, and one
// process_vm_readv over both pages would fail as a whole.
constexpr uint64_t PAGE = 4096;

}  // namespace _

bool readBytes(pid_t tid, uint64_t address, void* out, size_t size, int& error) {
  struct iovec local = {out, size};
  struct iovec remote = {reinterpret_cast<void*>(address), size};
  ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return true;
  error = n < 0 && errno != EFAULT && errno != ENOMEM ? errno : EFAULT;
  return false;
}

bool readPath(pid_t tid, uint64_t address, std::string& out, int& error) {
  out.clear();
  if (address == 0) {
    error = EFAULT;
    return false;
  }
  char buffer[_::PAGE];
  while (out.size() < PATH_MAX) {
    size_t chunk = _::PAGE - (address % _::PAGE);
    if (!readBytes(tid, address, buffer, chunk, error)) return false;
    const void* end = memchr(buffer, '\0', chunk);
    if (end != nullptr) {
      out.append(buffer, static_cast<const char*>(end) - buffer);
      return true;
    }
    out.append(buffer, chunk);
    address += chunk;
  }
  error = ENAMETOOLONG;
  return false;
}

bool writeBytes(pid_t tid, uint64_t address, const void* data, size_t size, int& error) {
  struct iovec local = {const_cast<void*>(data), size};
  struct iovec remote = {reinterpret_cast<void*>(address), size};
  ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return true;
  error = EFAULT;
  return false;
}

}  // namespace airlock::broker::syscalls
