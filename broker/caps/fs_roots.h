#pragma once
// Directory fds of every root an fs.* rule names, opened once when policies load. Requests
// are resolved beneath these fds (open_beneath.h), never by path from the host's root.

#include <kj/io.h>

#include <map>
#include <string>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::broker {

class FsRoots {
 public:
  // Opens the root of every fs.* rule and Unix-socket net.connect rule (unix_path) of `units`
  // (O_PATH | O_DIRECTORY). A root that does not
  // exist is recorded as missing: requests under it fail with a message saying so.
  static FsRoots open(const std::vector<policy::UnitPolicy>& units);

  // The directory fd for `root`, or -1 (with `why` set) if it could not be opened.
  int find(const std::string& root, std::string& why) const;

  const std::map<std::string, std::string>& missing() const { return missing_; }

 private:
  void openRootOf(const policy::Rule& rule);  // `rule`'s root, once, if it has one

  std::map<std::string, kj::AutoCloseFd> fds_;
  std::map<std::string, std::string> missing_;  // root -> why it could not be opened
};

}  // namespace airlock::broker
