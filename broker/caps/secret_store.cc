#include "broker/caps/secret_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <kj/debug.h>

#include "broker/caps/open_beneath.h"
#include "broker/policy/model/policy.h"

namespace airlock::broker {

namespace _ {
namespace {

std::string octal(mode_t mode) {
  char text[8];
  snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Why `st` (of the file `path`) may not hold a secret; empty if it may.
std::string refuseSecretFile(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return path + ": not a regular file (symlinks are refused too)";
  if (st.st_uid != geteuid()) {
    return path + ": owned by uid " + std::to_string(st.st_uid) + ", not airlockd's uid " +
           std::to_string(geteuid()) + " (chown it to airlockd's user)";
  }
  if ((st.st_mode & 077) != 0) {
    return path + ": mode " + octal(st.st_mode) +
           " gives group or others access; secrets must be 0600 (chmod 600 " + path + ")";
  }
  if (static_cast<size_t>(st.st_size) > MAX_SECRET_BYTES) {
    return path + ": " + std::to_string(st.st_size) + " bytes, more than the " +
           std::to_string(MAX_SECRET_BYTES) + " a secret may hold";
  }
  return {};
}

// Checks every entry of the directory open as `listFd` (O_RDONLY; consumed).
void checkEntries(const std::string& dir, int listFd, std::vector<std::string>& errors) {
  DIR* listing = fdopendir(listFd);
  if (listing == nullptr) {
    close(listFd);  // fdopendir failed: the fd is still ours
    errors.push_back(dir + ": fdopendir: " + errnoName(errno));
    return;
  }
  while (struct dirent* entry = readdir(listing)) {
    std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    std::string path = dir + "/" + name;
    policy::Refusal refused = policy::validateSecretName(name);
    if (refused.refuses()) {
      errors.push_back(path + ": not a secret name: " + refused.why());
      continue;
    }
    struct stat st;
    if (fstatat(dirfd(listing), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      errors.push_back(path + ": fstatat: " + errnoName(errno));
      continue;
    }
    std::string loose = refuseSecretFile(path, st);
    if (!loose.empty()) errors.push_back(loose);
  }
  closedir(listing);
}

}  // namespace
}  // namespace _

SecretValue& SecretValue::operator=(SecretValue&& other) {
  wipe();
  bytes_ = kj::mv(other.bytes_);
  size_ = other.size_;
  other.size_ = 0;
  return *this;
}

SecretValue::~SecretValue() { wipe(); }

void SecretValue::wipe() {
  if (bytes_.size() > 0) sodium_memzero(bytes_.begin(), bytes_.size());
}

SecretRead NoSecretStore::read(std::string_view name) const {
  SecretRead out;
  out.error = "no secret store: airlockd was started without --secrets (secret \"" +
              std::string(name) + "\")";
  return out;
}

kj::Own<DirectorySecretStore> DirectorySecretStore::open(const std::string& dir,
                                                         std::vector<std::string>& errors) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    errors.push_back(dir + ": open: " + errnoName(errno) + " (--secrets needs a directory)");
    return kj::heap<DirectorySecretStore>(dir, kj::AutoCloseFd());
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  if (fstat(owned.get(), &st) != 0) {
    errors.push_back(dir + ": fstat: " + errnoName(errno));
  } else if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    errors.push_back(dir + ": the secrets directory must be owned by airlockd's uid " +
                     std::to_string(geteuid()) + " and writable by no one else (mode " +
                     _::octal(st.st_mode) + ", uid " + std::to_string(st.st_uid) + ")");
  }
  int listFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listFd < 0) {
    errors.push_back(dir + ": open: " + errnoName(errno));
  } else {
    _::checkEntries(dir, listFd, errors);  // takes listFd
  }
  return kj::heap<DirectorySecretStore>(dir, kj::mv(owned));
}

SecretRead DirectorySecretStore::read(std::string_view name) const {
  SecretRead out;
  std::string file(name);
  std::string path = dir_ + "/" + file;
  KJ_REQUIRE(!policy::validateSecretName(file).refuses(), "secret name not validated", path);
  int fd = openat(fd_.get(), file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    out.error = path + ": openat: " + errnoName(errno) +
                (errno == ENOENT ? " (no such secret in the store)" : "");
    return out;
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  if (fstat(owned.get(), &st) != 0) {
    out.error = path + ": fstat: " + errnoName(errno);
    return out;
  }
  out.error = _::refuseSecretFile(path, st);
  if (!out.error.empty()) return out;
  // One byte more than allowed, to notice a file that grew past the limit since the fstat.
  SecretValue value(MAX_SECRET_BYTES + 1);
  size_t got = 0;
  auto buffer = value.buffer();
  while (got < buffer.size()) {
    ssize_t n = ::read(owned.get(), buffer.begin() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = path + ": read: " + errnoName(errno);
      return out;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > MAX_SECRET_BYTES) {
    out.error = path + ": grew past " + std::to_string(MAX_SECRET_BYTES) + " bytes";
    return out;
  }
  value.setSize(got);
  out.value = kj::mv(value);
  return out;
}

}  // namespace airlock::broker
