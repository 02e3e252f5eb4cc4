#include "broker/state/client_keys.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "capnp/host_auth.h"

namespace airlock::broker {

namespace _ {

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// A regular file, or a symlink that resolves to a regular file inside `dir`: the layout of a
// Kubernetes Secret volume (NAME.pub -> ..data/NAME.pub, ..data -> ..TIMESTAMP). A link out of
// the directory stays refused: the directory alone says who the clients are.
bool isKeyFile(const std::string& dir, const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return false;
  if (S_ISREG(st.st_mode)) return true;
  if (!S_ISLNK(st.st_mode)) return false;
  std::unique_ptr<char, decltype(&free)> realDir(realpath(dir.c_str(), nullptr), &free);
  std::unique_ptr<char, decltype(&free)> realFile(realpath(path.c_str(), nullptr), &free);
  if (!realDir || !realFile) return false;
  std::string inside = std::string(realDir.get()) + "/";
  if (std::string_view(realFile.get()).substr(0, inside.size()) != inside) return false;
  return stat(realFile.get(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace _

ClientKeys ClientKeys::load(const std::string& dir, std::vector<std::string>& errors) {
  ClientKeys keys;
  std::unique_ptr<DIR, _::DirCloser> handle(opendir(dir.c_str()));
  if (!handle) {
    errors.push_back(dir + ": cannot read the client keys directory: " + strerror(errno));
    return keys;
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(handle.get())) {
    std::string_view file = entry->d_name;
    if (file.empty() || file[0] == '.') continue;
    if (_::endsWith(file, ".key")) {
      errors.push_back(dir + "/" + std::string(file) +
                       ": a private key in the client keys directory; the broker must never hold "
                       "a client's secret (move it to the client)");
    } else if (_::endsWith(file, ".pub")) {
      names.emplace_back(file.substr(0, file.size() - 4));
    }
  }
  if (names.size() > MAX_CLIENT_KEYS) {
    errors.push_back(dir + ": " + std::to_string(names.size()) + " client keys, more than " +
                     std::to_string(MAX_CLIENT_KEYS));
    return keys;
  }
  for (auto& name : names) {
    std::string path = dir + "/" + name + ".pub";
    std::string refused = rpc::validateClientName(name);
    if (!refused.empty()) {
      errors.push_back(path + ": " + refused + " (the file name is the client's name)");
      continue;
    }
    if (!_::isKeyFile(dir, path)) {
      errors.push_back(path + ": not a regular file, nor a symlink to one inside " + dir +
                       " (as a Kubernetes Secret volume's ..data links are)");
      continue;
    }
    std::string error;
    KJ_IF_MAYBE(key, audit::loadPublicKey(path, error)) {
      KJ_IF_MAYBE(other, keys.nameOf(*key)) {
        errors.push_back(path + ": the same key as client \"" + *other +
                         "\"; each client needs its own key");
        continue;
      }
      keys.keys_.emplace(name, *key);
    } else {
      errors.push_back(error);
    }
  }
  return keys;
}

kj::Maybe<const audit::PublicKey&> ClientKeys::find(std::string_view name) const {
  auto it = keys_.find(name);
  if (it == keys_.end()) return nullptr;
  return it->second;
}

kj::Maybe<const std::string&> ClientKeys::nameOf(const audit::PublicKey& key) const {
  for (auto& [name, known] : keys_) {
    if (known == key) return name;
  }
  return nullptr;
}

}  // namespace airlock::broker
