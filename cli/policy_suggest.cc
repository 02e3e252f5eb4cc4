#include "cli/policy_suggest.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "broker/policy/suggest/suggest_render.h"
#include "cli/audit_args.h"
#include "cli/policy_args.h"
#include "cli/suggest_diff.h"
#include "cli/suggest_evidence.h"

namespace airlock::cli {

namespace _ {
namespace {

constexpr std::string_view USAGE = R"(
usage: airlock policy suggest --audit FILE... --unit UNIT [--policy FILE] [options]

Drafts the narrowest rules that would have allowed what unit UNIT was seen doing in the audit
logs FILE...: a rotation set (oldest first), or the logs of several brokers (their union). The
evidence is every fs.* and net.connect request of UNIT that was allowed, learned (a unit in
mode = "learn") or, in an enforcing run, denied because no rule matched; never a request a
learning unit was denied (it lay outside learn_paths / learn_hosts), one refused before any rule
was looked at, or one a deny rule refused.

Rules are by operation and open modes, on exact paths; a path becomes a glob only beneath a
directory the run made ("DIR/**", as a rule's root must exist when the policy loads) or when
more than --collapse paths of one directory were used ("DIR/*"); net.connect rules are by host
and port. Each rule follows a comment citing its evidence: how many requests, the first and
last audit seq. A dangerous allowance is written with justification = "", which `airlock policy
check` refuses until a person says why. The same logs always give the same output.

options:
  --audit FILE...      the audit logs to read (repeatable; required)
  --unit UNIT          the unit to draft rules for (required)
  --policy FILE        the unit's current policy file: print a unified diff against it instead
                       (patch FILE < DIFF applies it), with its learn-mode keys removed and only
                       the rules it lacks added; its learn_paths bound the suggestion
  --collapse N         make "DIR/*" when more than N paths of DIR were used   (default 8)
  --since TIME         only records at or after TIME
  --until TIME         only records before TIME
                       TIME is RFC 3339, a date (2026-11-26) or an age (90s, 15m, 1h, 7d)
  --define NAME=VALUE  write paths beneath VALUE as ${NAME}/..., and expand ${NAME} in
                       --policy; repeatable
  -h, --help           print this help

exit status: 0 after printing the suggestion, 1 if a log or the policy cannot be read or a log
line is malformed (reported on stderr), 2 on a usage error.
)";

struct SuggestArgs {
  std::vector<std::string> logs;
  std::string policyFile;
  audit::RecordFilter filter;  // --unit, --since, --until
  policy::SuggestOptions suggest;
  policy::LoadOptions load;
};

OptionParse takeOwn(AuditArgs& args, SuggestArgs& out) {
  std::string_view option = args.arg();
  if (option == "--audit") {
    std::string file;
    KJ_IF_MAYBE(given, args.value()) { file = *given; } else { return OptionParse::FAILED; }
    out.logs.push_back(file);
    return OptionParse::TAKEN;
  }
  if (option != "--policy" && option != "--collapse" && option != "--define") {
    return OptionParse::NOT_MINE;
  }
  std::string value;
  KJ_IF_MAYBE(given, args.value()) { value = *given; } else { return OptionParse::FAILED; }
  if (option == "--policy") {
    out.policyFile = value;
  } else if (option == "--collapse") {
    char* end = nullptr;
    unsigned long long n = strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || value[0] == '-' || n > 100000) {
      args.usageError("--collapse is a count from 0 to 100000, not \"" + value + "\"");
      return OptionParse::FAILED;
    }
    out.suggest.collapse = static_cast<size_t>(n);
  } else {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0) {
      args.usageError("--define needs NAME=VALUE");
      return OptionParse::FAILED;
    }
    out.load.defines[value.substr(0, eq)] = value.substr(eq + 1);
  }
  return OptionParse::TAKEN;
}

// Walks the command line; -1 to go on, else the exit status.
int parseArgs(AuditArgs& args, SuggestArgs& out) {
  int64_t now = audit::systemWallClock().nowMicrosSinceEpoch();
  bool afterAudit = false;  // plain arguments after --audit are more logs
  while (args.next()) {
    if (args.isHelp()) return args.printHelp();
    std::string_view arg = args.arg();
    if (!args.isOption()) {
      if (!afterAudit) return args.usageError("unexpected argument " + std::string(arg));
      out.logs.emplace_back(arg);
      continue;
    }
    OptionParse taken = OptionParse::NOT_MINE;
    if (arg == "--unit" || arg == "--since" || arg == "--until") {
      taken = takeFilterOption(args, out.filter, now);
    } else {
      taken = takeOwn(args, out);
    }
    if (taken == OptionParse::FAILED) return 2;
    if (taken == OptionParse::NOT_MINE) return args.usageError("unknown option " + std::string(arg));
    afterAudit = arg == "--audit";
  }
  if (out.logs.empty()) return args.usageError("--audit FILE is required");
  if (out.filter.units.size() != 1) return args.usageError("give --unit UNIT once");
  return -1;
}

// The current policy of the unit (--policy): its learn_paths become the bounds. Null, after
// reporting why, if the file does not load or does not describe the unit.
std::optional<policy::UnitPolicy> loadCurrent(const SuggestArgs& args) {
  policy::LoadOptions load = args.load;
  // Only its bounds are read: an `airlock run` policy, with no worker, is as good.
  load.workerCheck = policy::LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM;
  policy::LoadResult result = loadPolicyPath(args.policyFile, load);
  for (auto& error : result.errors) std::cerr << error.describe() << "\n";
  if (!result.errors.empty()) return std::nullopt;
  for (auto& unit : result.units) {
    if (unit.name == args.filter.units[0]) return unit;
  }
  std::cerr << "airlock policy suggest: " << args.policyFile << " has no unit "
            << args.filter.units[0] << "\n";
  return std::nullopt;
}

// The learn_paths patterns of `unit`, once each.
std::vector<policy::PathPattern> learnBounds(const policy::UnitPolicy& unit) {
  std::vector<policy::PathPattern> bounds;
  for (const policy::Rule& grant : unit.learnGrants) {
    if (!policy::isFsOperation(grant.operation)) continue;
    bool seen = false;
    for (auto& bound : bounds) seen = seen || bound.text() == grant.fs().path.text();
    if (!seen) bounds.push_back(grant.fs().path);
  }
  return bounds;
}

std::string header(const SuggestArgs& args, size_t records, const policy::Suggestion& s) {
  std::string out = "# Drafted by `airlock policy suggest` for unit " + args.filter.units[0] +
                    " from " + std::to_string(records) + " audit record(s) of:";
  for (auto& log : args.logs) out += " " + log;
  out += "\n# Review every rule before enforcing it: each is the narrowest that allows what was "
         "seen.\n";
  if (s.outsideLearnPaths > 0) {
    out += "# Not suggested: " + std::to_string(s.outsideLearnPaths) +
           " request(s) outside the unit's learn_paths.\n";
  }
  return out;
}

int printSuggestion(const SuggestArgs& args) {
  std::optional<policy::UnitPolicy> current;
  policy::SuggestOptions options = args.suggest;
  if (!args.policyFile.empty()) {
    current = loadCurrent(args);
    if (!current) return 1;
    options.learnPaths = learnBounds(*current);
  }
  std::vector<policy::Evidence> evidence;
  size_t records = 0;
  ReadOutcome read = readRecords(args.logs, args.filter, [&](const audit::LoggedRecord& record) {
    std::vector<policy::Evidence> found = evidenceOf(record);
    if (!found.empty()) ++records;
    for (auto& e : found) evidence.push_back(std::move(e));
  });
  if (read.unreadable) return 1;
  policy::Suggestion suggestion = policy::suggestRules(std::move(evidence), options);
  policy::RenderOptions render;
  render.unit = args.filter.units[0];
  render.defines = args.load.defines;
  render.skipAlreadyAllowed = current.has_value();
  std::string rules = policy::renderRules(suggestion, render);
  if (!current) {
    std::cout << header(args, records, suggestion) << rules;
    return read.ok() ? 0 : 1;
  }
  std::ifstream in(args.policyFile, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  std::string diff = suggestionDiff(args.policyFile, text.str(),
                                    rules.empty() ? "" : "\n" + header(args, records, suggestion) +
                                                             rules,
                                    error);
  if (!error.empty()) {
    std::cerr << "airlock policy suggest: " << error << "\n";
    return 1;
  }
  std::cout << diff;
  return read.ok() ? 0 : 1;
}

}  // namespace
}  // namespace _

int policySuggestMain(int argc, char** argv) {
  AuditArgs args("suggest", _::USAGE, argc, argv, "policy");
  _::SuggestArgs parsed;
  int early = _::parseArgs(args, parsed);
  if (early >= 0) return early;
  return _::printSuggestion(parsed);
}

}  // namespace airlock::cli
