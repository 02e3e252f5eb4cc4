#pragma once
// What `airlock sandbox run` and `airlock run` share: the one unit of a policy they run a
// program under, and the program's path.

#include <optional>
#include <string>

#include "broker/policy/load/policy_loader.h"
#include "sandbox/launcher.h"

namespace airlock::cli {

// The unit `name` of the policy at `path` (or its only unit when `name` is empty). Prints every
// error (file:line:col) and why, prefixed by `command`, and returns nothing if there is none.
std::optional<policy::UnitPolicy> loadUnit(const std::string& path, const std::string& name,
                                           const policy::LoadOptions& load, const char* command);

// `--define NAME=VALUE` into `load`; false after saying on stderr what is wrong with it.
[[nodiscard]] bool addDefine(const std::string& definition, policy::LoadOptions& load,
                             const char* command);

// `name` looked up in $PATH when it has no '/', then made canonical; "" if it is not there.
std::string resolveProgram(const std::string& name);

// The exit status a command running `program` returns for `exit`, after saying on stderr what
// was refused or what killed it: PROG's own status; 128+N for signal N; 128+SIGSYS for a
// refused syscall.
int reportExit(const sandbox::ExitStatus& exit, const std::string& program, const char* command);

}  // namespace airlock::cli
