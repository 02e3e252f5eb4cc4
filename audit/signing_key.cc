#include "audit/signing_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <cerrno>
#include <cstring>

namespace airlock::audit {

namespace _ {

void initSodium() { KJ_ASSERT(sodium_init() >= 0, "sodium_init failed"); }

std::string toHex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

// Decodes exactly `size` bytes from exactly 2*size hex digits.
bool fromHex(std::string_view hex, unsigned char* out, size_t size) {
  if (hex.size() != size * 2) return false;
  size_t decoded = 0;
  const char* end = nullptr;
  return sodium_hex2bin(out, size, hex.data(), hex.size(), nullptr, &decoded, &end) == 0 &&
         decoded == size && end == hex.data() + hex.size();
}

// Reads a small key file through an fd we already checked. Returns the text, or sets `error`.
bool readSmallFile(int fd, const std::string& path, std::string& text, std::string& error) {
  char buffer[512];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n < 0) {
    error = path + ": read: " + strerror(errno);
    return false;
  }
  text.assign(buffer, n);
  return true;
}

// "TAG <hex>\n" -> hex, or empty if the text is not that.
std::string taggedHex(std::string_view text, std::string_view tag) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.size() <= tag.size() + 1 || text.substr(0, tag.size()) != tag ||
      text[tag.size()] != ' ') {
    return "";
  }
  return std::string(text.substr(tag.size() + 1));
}

std::string octalMode(mode_t mode) {
  char buffer[8];
  snprintf(buffer, sizeof(buffer), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// Creates `path` exclusively with `mode` and writes `text`. Returns "" or the error.
std::string writeNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return path + ": cannot create: " + strerror(errno);
  kj::AutoCloseFd owned(fd);
  // The umask can only remove bits; fchmod makes the mode exactly what the docs promise.
  if (fchmod(owned.get(), mode) != 0 ||
      ::write(owned.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      fsync(owned.get()) != 0) {
    std::string error = path + ": cannot write: " + strerror(errno);
    unlink(path.c_str());
    return error;
  }
  return "";
}

}  // namespace _

kj::Maybe<PublicKey> PublicKey::fromHex(std::string_view hex) {
  PublicKey key;
  if (!_::fromHex(hex, key.bytes_.data(), key.bytes_.size())) return nullptr;
  return key;
}

std::string PublicKey::hex() const { return _::toHex(bytes_.data(), bytes_.size()); }

bool PublicKey::verifies(std::string_view message, std::string_view signatureHex) const {
  _::initSodium();
  unsigned char signature[crypto_sign_BYTES];
  if (!_::fromHex(signatureHex, signature, sizeof(signature))) return false;
  return crypto_sign_verify_detached(signature,
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), bytes_.data()) == 0;
}

bool PublicKey::verifies(std::string_view message,
                         const std::array<unsigned char, 64>& signature) const {
  _::initSodium();
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), bytes_.data()) == 0;
}

kj::Own<SigningKey> SigningKey::generate() {
  _::initSodium();
  std::array<unsigned char, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  auto key = fromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

kj::Own<SigningKey> SigningKey::fromSeed(const std::array<unsigned char, 32>& seed) {
  _::initSodium();
  static_assert(crypto_sign_SEEDBYTES == 32 && crypto_sign_PUBLICKEYBYTES == 32 &&
                crypto_sign_SECRETKEYBYTES == 64);
  auto key = kj::heap<SigningKey>();
  std::array<unsigned char, 32> publicBytes;
  crypto_sign_seed_keypair(publicBytes.data(), key->secret_.data(), seed.data());
  key->publicKey_ = KJ_ASSERT_NONNULL(
      PublicKey::fromHex(_::toHex(publicBytes.data(), publicBytes.size())));
  return key;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

std::string SigningKey::signHex(std::string_view message) const {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_.data());
  return _::toHex(signature, sizeof(signature));
}

std::array<unsigned char, 64> SigningKey::sign(std::string_view message) const {
  std::array<unsigned char, 64> signature;
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return signature;
}

std::string SigningKey::seedHex() const {
  unsigned char seed[crypto_sign_SEEDBYTES];
  crypto_sign_ed25519_sk_to_seed(seed, secret_.data());
  std::string hex = _::toHex(seed, sizeof(seed));
  sodium_memzero(seed, sizeof(seed));
  return hex;
}

kj::Maybe<kj::Own<SigningKey>> loadSigningKey(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    error = path + ": cannot open the private key: " + strerror(errno);
    return nullptr;
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  KJ_SYSCALL(fstat(owned.get(), &st), path);
  if (!S_ISREG(st.st_mode)) {
    error = path + ": the private key is not a regular file";
    return nullptr;
  }
  if (st.st_uid != geteuid()) {
    error = path + ": the private key is owned by uid " + std::to_string(st.st_uid) +
            ", not by this process's uid " + std::to_string(geteuid()) +
            "; refusing it (chown it to the broker's user)";
    return nullptr;
  }
  if ((st.st_mode & 077) != 0) {
    error = path + ": the private key has mode " + _::octalMode(st.st_mode) +
            ", it must be 0600 (no access for group or others); refusing it (chmod 600 " + path +
            ")";
    return nullptr;
  }
  std::string text;
  if (!_::readSmallFile(owned.get(), path, text, error)) return nullptr;
  std::array<unsigned char, 32> seed;
  std::string hex = _::taggedHex(text, SECRET_KEY_TAG);
  bool ok = _::fromHex(hex, seed.data(), seed.size());
  sodium_memzero(text.data(), text.size());
  sodium_memzero(hex.data(), hex.size());
  if (!ok) {
    error = path + ": not an airlock private key (expected one line \"" + SECRET_KEY_TAG +
            " <64 hex>\", as `airlock keygen` writes)";
    return nullptr;
  }
  auto key = SigningKey::fromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return kj::mv(key);
}

kj::Maybe<PublicKey> loadPublicKey(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open the public key: " + strerror(errno);
    return nullptr;
  }
  kj::AutoCloseFd owned(fd);
  std::string text;
  if (!_::readSmallFile(owned.get(), path, text, error)) return nullptr;
  KJ_IF_MAYBE(key, PublicKey::fromHex(_::taggedHex(text, PUBLIC_KEY_TAG))) { return *key; }
  error = path + ": not an airlock public key (expected one line \"" + PUBLIC_KEY_TAG +
          " <64 hex>\", as `airlock keygen` writes)";
  return nullptr;
}

std::string writeKeyPair(const SigningKey& key, const std::string& prefix) {
  std::string secretPath = prefix + ".key", publicPath = prefix + ".pub";
  std::string secretText = std::string(SECRET_KEY_TAG) + " " + key.seedHex() + "\n";
  std::string error = _::writeNewFile(secretPath, secretText, 0600);
  sodium_memzero(secretText.data(), secretText.size());
  if (!error.empty()) return error;
  error = _::writeNewFile(publicPath,
                          std::string(PUBLIC_KEY_TAG) + " " + key.publicKey().hex() + "\n", 0644);
  if (!error.empty()) unlink(secretPath.c_str());
  return error;
}

}  // namespace airlock::audit
