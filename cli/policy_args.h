#pragma once
// The arguments `airlock policy check` and `airlock policy diff` share: --define, --workers and
// the policy PATHs, loaded the way airlockd loads them.

#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/load/policy_loader.h"

namespace airlock::cli {

struct PolicyArgs {
  policy::LoadOptions load;  // workers are not checked unless --workers is given
  std::vector<std::string> paths;
};

// Returns -1 when parsing succeeded, else the exit status to return: 0 after printing `usage`
// for --help, 2 after a usage error (printed with `usageLine`, prefixed by `command`).
int parsePolicyArgs(int argc, char** argv, std::string_view usage, std::string_view command,
                    std::string_view usageLine, PolicyArgs& out);

// Loads PATH as airlockd would: a directory (every *.toml in it) or a single file.
policy::LoadResult loadPolicyPath(const std::string& path, const policy::LoadOptions& load);

}  // namespace airlock::cli
