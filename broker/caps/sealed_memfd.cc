#include "broker/caps/sealed_memfd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker {

namespace {

constexpr unsigned SEALS = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;

std::string failure(const char* what) { return std::string(what) + ": " + strerror(errno); }

}  // namespace

kj::Maybe<kj::AutoCloseFd> sealedMemfd(kj::ArrayPtr<const kj::byte> bytes, std::string& error) {
  int raw = memfd_create("airlock-value", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (raw < 0) {
    error = failure("memfd_create");
    return nullptr;
  }
  kj::AutoCloseFd fd(raw);
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd.get(), bytes.begin() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = failure("write to memfd");
      return nullptr;
    }
    done += n;
  }
  // F_SEAL_WRITE needs no writable mapping of it to exist: there is none.
  if (fcntl(fd.get(), F_ADD_SEALS, SEALS) != 0) {
    error = failure("fcntl(F_ADD_SEALS) on memfd");
    return nullptr;
  }
  // The receiver shares this open file's offset: start it where the value starts.
  if (lseek(fd.get(), 0, SEEK_SET) != 0) {
    error = failure("lseek on memfd");
    return nullptr;
  }
  return kj::mv(fd);
}

}  // namespace airlock::broker
