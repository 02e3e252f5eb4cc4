#include "cli/policy_diff.h"

#include <iostream>
#include <string>
#include <string_view>

#include "broker/policy/review/policy_diff.h"
#include "cli/policy_args.h"

namespace airlock::cli {

namespace _ {
namespace {

constexpr std::string_view USAGE = R"(
usage: airlock policy diff [--define NAME=VALUE]... [--workers DIR] OLD NEW

Shows what a reload from policy set OLD to policy set NEW would change: the revisions, and per
unit whether it is added, removed, restarted (its worker, instances or sandbox paths changed, so
airlockd replaces its workers) or changed (rules or limits only; its workers carry on), with
each changed setting and each rule added, removed or changed (rules are matched by id). Both are
loaded exactly as airlockd loads them; OLD and NEW are each a policy directory or a single file.

options:
  --define NAME=VALUE  value for ${NAME} in path values (for both sets); repeatable
  --workers DIR        look workers up in DIR and check them (default: not checked)
  -h, --help           print this help

output (stdout):
  revision OLD-REV -> NEW-REV
  unit NAME: added | removed | restarted | changed
    setting: OLD -> NEW
    + rule "ID": SUMMARY  (file:line)
    - rule "ID": SUMMARY  (file:line)
    ~ rule "ID": SUMMARY  (file:line)
         was: SUMMARY  (file:line)
  [broker] admins: + NAME, - NAME

exit status: 0 if the sets mean the same, 1 if they differ, 2 if either has an error (printed
as file:line:col: message) or on a usage error.
)";

constexpr std::string_view USAGE_LINE =
    "usage: airlock policy diff [--define NAME=VALUE]... [--workers DIR] OLD NEW";

const char* kindName(policy::UnitDiff::Kind kind) {
  switch (kind) {
    case policy::UnitDiff::ADDED: return "added (its workers start)";
    case policy::UnitDiff::REMOVED: return "removed (its workers stop)";
    case policy::UnitDiff::RESTARTED: return "restarted (its workers are replaced)";
    case policy::UnitDiff::CHANGED: return "changed (its workers carry on)";
  }
  return "changed";
}

void print(const policy::PolicyDiff& diff) {
  std::cout << "revision " << diff.revisionBefore << " -> " << diff.revisionAfter << "\n";
  for (auto& unit : diff.units) {
    std::cout << "unit " << unit.unit << ": " << kindName(unit.kind) << "\n";
    for (auto& setting : unit.settings) std::cout << "  " << setting << "\n";
    for (auto& rule : unit.rules) {
      switch (rule.kind) {
        case policy::RuleChange::ADDED:
          std::cout << "  + rule \"" << rule.id << "\": " << rule.after << "\n";
          break;
        case policy::RuleChange::REMOVED:
          std::cout << "  - rule \"" << rule.id << "\": " << rule.before << "\n";
          break;
        case policy::RuleChange::CHANGED:
          std::cout << "  ~ rule \"" << rule.id << "\": " << rule.after << "\n"
                    << "       was: " << rule.before << "\n";
          break;
      }
    }
  }
  if (!diff.adminsAdded.empty() || !diff.adminsRemoved.empty()) {
    std::cout << "[broker] admins:";
    std::string separator = " ";
    for (auto& name : diff.adminsAdded) {
      std::cout << separator << "+ " << name;
      separator = ", ";
    }
    for (auto& name : diff.adminsRemoved) {
      std::cout << separator << "- " << name;
      separator = ", ";
    }
    std::cout << "\n";
  }
  if (diff.empty()) std::cout << "no change\n";
}

// Loads one side; prints its errors and returns false if it has any.
bool loadSide(const std::string& path, const policy::LoadOptions& load,
              policy::LoadResult& result) {
  result = loadPolicyPath(path, load);
  for (auto& error : result.errors) std::cerr << error.describe() << "\n";
  if (!result.ok()) {
    std::cerr << "failed: " << result.errors.size() << " error(s) in " << path << "\n";
  }
  return result.ok();
}

}  // namespace
}  // namespace _

int policyDiffMain(int argc, char** argv) {
  PolicyArgs args;
  int status = parsePolicyArgs(argc, argv, _::USAGE, "policy diff", _::USAGE_LINE, args);
  if (status >= 0) return status;
  if (args.paths.size() != 2) {
    std::cerr << "airlock policy diff: needs exactly two paths, OLD and NEW\n"
              << _::USAGE_LINE << "\n";
    return 2;
  }
  policy::LoadResult before, after;
  bool ok = _::loadSide(args.paths[0], args.load, before);
  ok = _::loadSide(args.paths[1], args.load, after) && ok;
  if (!ok) return 2;
  auto diff = policy::diffPolicies(before, after);
  _::print(diff);
  return diff.empty() ? 0 : 1;
}

}  // namespace airlock::cli
