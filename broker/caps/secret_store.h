#pragma once
// Where secrets.get reads values from. A `SecretStore` is the interface (other stores can come
// later); `DirectorySecretStore` is airlockd's --secrets DIR: one file per secret, the file name
// is the secret's name. Broker-side, event-loop thread only.

#include <kj/array.h>
#include <kj/io.h>
#include <kj/memory.h>

#include <string>
#include <string_view>
#include <vector>

namespace airlock::broker {

// Largest secret value the broker reads and sends: a secret is a password or a key, not a file,
// and the value travels in one RPC answer.
inline constexpr size_t MAX_SECRET_BYTES = 64 * 1024;

// A secret's bytes while the broker holds them; zeroed (sodium_memzero) when the object dies, so
// the broker's copy does not outlive the answer it was read for.
class SecretValue {
 public:
  SecretValue() = default;
  explicit SecretValue(size_t capacity) : bytes_(kj::heapArray<kj::byte>(capacity)) {}
  SecretValue(SecretValue&&) = default;
  SecretValue& operator=(SecretValue&& other);
  ~SecretValue();

  kj::ArrayPtr<const kj::byte> bytes() const { return bytes_.slice(0, size_); }
  kj::ArrayPtr<kj::byte> buffer() { return bytes_; }  // for the reader; then setSize()
  void setSize(size_t size) { size_ = size; }

 private:
  void wipe();
  kj::Array<kj::byte> bytes_;
  size_t size_ = 0;
};

struct SecretRead {
  SecretValue value;   // valid when error is empty
  std::string error;   // one line: why the value could not be read (never contains the value)
  bool ok() const { return error.empty(); }
};

class SecretStore {
 public:
  virtual ~SecretStore() noexcept(false) = default;
  virtual SecretRead read(std::string_view name) const = 0;
  // `name` has passed policy::validateSecretName (no '/', not "." or ".."); implementations
  // re-check what they rely on. Never throws for a missing or unreadable secret: that is `error`.
};

// A store with nothing in it: airlockd without --secrets. Every read fails saying so.
class NoSecretStore final : public SecretStore {
 public:
  SecretRead read(std::string_view name) const override;
};

class DirectorySecretStore final : public SecretStore {
 public:
  // Opens `dir` and checks every entry (names starting with '.' are ignored): each must be a
  // regular file (no symlink) with a valid secret name, owned by the broker's effective uid, with
  // no group or other permission bits (0600 or 0400), at most MAX_SECRET_BYTES. The directory
  // itself must be owned by the broker's uid and writable by no one else. Each problem is one
  // line in `errors` naming the file; on any error the store must not be used. Caller: main(),
  // before serving.
  static kj::Own<DirectorySecretStore> open(const std::string& dir,
                                            std::vector<std::string>& errors);

  // Reads the file `name` beneath the directory fd (O_NOFOLLOW) and re-checks owner, mode and
  // size on the open file, since the file may have changed since start-up.
  SecretRead read(std::string_view name) const override;

  DirectorySecretStore(std::string dir, kj::AutoCloseFd fd) : dir_(kj::mv(dir)), fd_(kj::mv(fd)) {}

 private:
  std::string dir_;
  kj::AutoCloseFd fd_;  // O_PATH | O_DIRECTORY
};

}  // namespace airlock::broker
