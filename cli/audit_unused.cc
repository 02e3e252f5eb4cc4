#include "cli/audit_unused.h"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "cli/audit_args.h"
#include "cli/rule_usage.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view UNUSED_USAGE = R"(
usage: airlock audit unused --policies DIR [--define NAME=VALUE]... [--json] LOG... [filters]

Reads the policy files in DIR as airlockd loads them and the audit log LOG... (a rotation set,
or the logs of a period, oldest first), and lists per unit each rule with what it decided:
  unused      the rule decided nothing in the logs' period (seq and times given): a grant
              nobody used is a grant to take away, or a deny nothing tried
  over-broad  an allow rule far wider than what was used: an fs.* rule granting a tree
              (ROOT/**) whose allowed requests were all under one directory below ROOT, or a
              call or invoke rule allowing every method ("*") of which only a few were called;
              with the narrower grant that would have allowed the same (narrower: path = ...)
  used        how many decisions (allowed, denied) and the first and last seq
A rule is used by the records that name its unit and its id as their "rule".

options:
  --policies DIR        the policy directory (required); workers are not looked up
  --define NAME=VALUE   a value for ${NAME} in the policies, as airlockd --define
  --json                one JSON object for scripts (see docs/cli.md) instead of text
  -h, --help            print this help
  filters               those of `airlock audit query` (--unit, --since, --until, ...): only
                        matching records count

exit status: 0 if the policies loaded and every line was read, 1 if a policy has an error, a
file cannot be read or a line is malformed, 2 on a usage error.
)";

}  // namespace _

int auditUnusedMain(int argc, char** argv) {
  AuditArgs args("unused", _::UNUSED_USAGE, argc, argv);
  audit::RecordFilter filter;
  std::vector<std::string> files;
  std::string policies;
  policy::LoadOptions options;
  // Neither looked up nor required: the policies of `airlock run` have no worker either.
  options.workerCheck = policy::LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM;
  bool json = false;
  int status = walkFilteredArgs(args, filter, files, [&](AuditArgs& args) {
    if (args.arg() == "--json") {
      json = true;
      return OptionParse::TAKEN;
    }
    if (args.arg() != "--policies" && args.arg() != "--define") return OptionParse::NOT_MINE;
    std::string option(args.arg()), value;
    KJ_IF_MAYBE(given, args.value()) { value = *given; } else { return OptionParse::FAILED; }
    if (option == "--policies") {
      policies = value;
      return OptionParse::TAKEN;
    }
    auto equals = value.find('=');
    if (equals == std::string::npos || !policy::isDefineName(value.substr(0, equals))) {
      args.usageError("--define \"" + value + "\" is not NAME=VALUE");
      return OptionParse::FAILED;
    }
    options.defines[value.substr(0, equals)] = value.substr(equals + 1);
    return OptionParse::TAKEN;
  });
  if (status >= 0) return status;
  if (policies.empty()) return args.usageError("--policies DIR is required");

  auto loaded = policy::loadPolicyDir(policies, options);
  for (auto& error : loaded.errors) std::cerr << error.describe() << "\n";
  if (!loaded.ok()) return 1;
  RuleUsage usage(loaded.units);
  auto outcome = readRecords(files, filter,
                             [&usage](const audit::LoggedRecord& record) { usage.add(record); });
  if (outcome.unreadable) return 1;
  if (json) {
    std::cout << usage.toJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    for (auto& line : usage.describe()) std::cout << line << "\n";
  }
  return outcome.ok() ? 0 : 1;
}

}  // namespace airlock::cli
