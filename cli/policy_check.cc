#include "cli/policy_check.h"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "cli/policy_args.h"
#include "sandbox/profile_grants.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view USAGE = R"(
usage: airlock policy check [--define NAME=VALUE]... [--workers DIR] PATH...

Checks airlock policy files (TOML, format v1: see docs/policy.md) the way airlockd loads them,
and reports every problem, not just the first.

PATH is a policy directory (every *.toml file directly in it, as airlockd --policies DIR loads
it; unit names must be unique across it) or a single policy file.

options:
  --define NAME=VALUE  value for ${NAME} in path values; repeatable. An undefined ${NAME} is an
                       error. VALUE is a literal path: it may not contain '*' or '${'.
  --workers DIR        look a relative `worker = "name"` up in DIR and check that every worker
                       exists and is executable. Without --workers, that check is skipped.
  -h, --help           print this help

output:
  each problem on stderr as   file:line:col: message
  each warning on stderr as   file:line:col: warning: message
  per valid PATH on stdout:   ok: N units, M rules in PATH
  per [sandbox] seccomp_profile, on stdout, what it asked for that stays refused:
    unit "U": seccomp_profile "FILE" grants G syscalls (B beyond the default groups); R stay refused
      refused NAME (FILE $.syscalls[I]): reason
  per invalid PATH on stderr: failed: N error(s) in PATH

exit status: 0 if every PATH is valid, 1 if any has an error, 2 on a usage error.
)";

// What a unit's seccomp profile asked for and did not get, each with its reason.
void printProfileGrants(const policy::UnitPolicy& unit) {
  if (unit.seccompProfile == nullptr) return;
  const policy::SeccompProfileSetting& setting = *unit.seccompProfile;
  const sandbox::ProfileGrants& grants = *setting.grants;
  std::cout << "unit \"" << unit.name << "\": seccomp_profile \"" << setting.written
            << "\" grants " << grants.granted.size() << " syscalls ("
            << grants.grantedBeyondDefault() << " beyond the default groups); "
            << grants.refused.size() << " stay refused\n";
  for (const sandbox::RefusedProfileSyscall& refused : grants.refused) {
    std::cout << "  refused " << refused.name << " (" << setting.written << " " << refused.path
              << "): " << refused.reason << "\n";
  }
}

// Checks one PATH; returns whether it is valid.
bool checkPath(const std::string& path, const policy::LoadOptions& load) {
  policy::LoadResult result = loadPolicyPath(path, load);
  for (const policy::Diagnostic& d : result.errors) std::cerr << d.describe() << "\n";
  for (const policy::Diagnostic& d : result.warnings) {
    std::cerr << d.where.describe() << ": warning: " << d.message << "\n";
  }
  if (!result.ok()) {
    size_t n = result.errors.size();
    std::cerr << "failed: " << n << (n == 1 ? " error in " : " errors in ") << path << "\n";
    return false;
  }
  size_t rules = 0;
  for (const policy::UnitPolicy& unit : result.units) rules += unit.rules.size();
  std::cout << "ok: " << result.units.size() << " units, " << rules << " rules in " << path << "\n";
  for (const policy::UnitPolicy& unit : result.units) printProfileGrants(unit);
  return true;
}

}  // namespace _

int policyCheckMain(int argc, char** argv) {
  PolicyArgs options;
  int status = parsePolicyArgs(argc, argv, _::USAGE, "policy check",
                               "usage: airlock policy check [--define NAME=VALUE]... "
                               "[--workers DIR] PATH...",
                               options);
  if (status >= 0) return status;
  bool allOk = true;
  for (const std::string& path : options.paths) allOk = _::checkPath(path, options.load) && allOk;
  return allOk ? 0 : 1;
}

}  // namespace airlock::cli
