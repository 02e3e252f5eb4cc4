#pragma once
// The host client identities airlockd knows: one `NAME.pub` file per client in the directory
// given as `airlockd --client-keys DIR` (written by `airlock keygen --client NAME`). The broker
// holds public keys only; a client's secret never reaches it.
//
// Read at start-up and on every reload (SIGHUP, `airlock reload`, --watch-policies). Immutable
// after load; event-loop thread.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <kj/common.h>

#include "audit/signing_key.h"

namespace airlock::broker {

// More keys than this in the directory is refused: a wrong-key diagnosis tries each of them.
inline constexpr size_t MAX_CLIENT_KEYS = 1024;

class ClientKeys {
 public:
  // Reads every `*.pub` in `dir` (names starting with `.` are skipped; a symlink is followed
  // only to a regular file inside `dir`, as in a Kubernetes Secret volume). Each problem is one line in `errors` naming the file: an unreadable directory, a
  // name that is not a client name (capnp/host_auth.h), a file that is not an airlock public
  // key, one key registered under two names, a `*.key` (a client's secret does not belong to the
  // broker), more than MAX_CLIENT_KEYS keys. The result is only meaningful if `errors` is empty.
  static ClientKeys load(const std::string& dir, std::vector<std::string>& errors);

  kj::Maybe<const audit::PublicKey&> find(std::string_view name) const;
  // The name `key` is registered under, if any (to tell "signed with another client's key" from
  // a bad signature).
  kj::Maybe<const std::string&> nameOf(const audit::PublicKey& key) const;
  const std::map<std::string, audit::PublicKey, std::less<>>& all() const { return keys_; }

 private:
  std::map<std::string, audit::PublicKey, std::less<>> keys_;
};

}  // namespace airlock::broker
