#pragma once
// Files airlock installs beside its binaries (lib/airlock/..., the Python package), found from
// the running binary's own directory, so the build tree and any install prefix work alike.

#include <string>

namespace airlock::sandbox {

std::string besideOwnBinary(const std::string& relative);
// The canonical path of `relative` (to the directory of /proc/self/exe), symlinks resolved;
// empty if it does not exist. Broker side; reads /proc/self/exe each time.

}  // namespace airlock::sandbox
