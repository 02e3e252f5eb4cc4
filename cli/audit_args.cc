#include "cli/audit_args.h"

#include <algorithm>
#include <iostream>

#include "audit/audit_log.h"
#include "audit/record_outcome.h"
#include "audit/record_time.h"

namespace airlock::cli {

AuditArgs::AuditArgs(std::string_view command, std::string_view help, int argc, char** argv,
                     std::string_view group)
    : command_("airlock " + std::string(group) + " " + std::string(command)), help_(help),
      argc_(argc), argv_(argv) {}

bool AuditArgs::next() { return ++at_ < argc_; }

kj::Maybe<std::string> AuditArgs::value() {
  std::string option(arg());
  if (at_ + 1 >= argc_) {
    usageError(option + " needs a value");
    return nullptr;
  }
  return std::string(argv_[++at_]);
}

int AuditArgs::printHelp() const {
  std::cout << help_.substr(1);
  return 0;
}

int AuditArgs::usageError(const std::string& message) const {
  std::string_view usage = help_.substr(1, help_.find('\n', 1));
  std::cerr << command_ << ": " << message << "\n"
            << usage << "try '" << command_ << " --help'\n";
  return 2;
}

OptionParse takeFilterOption(AuditArgs& args, audit::RecordFilter& filter, int64_t nowMicros) {
  std::string_view option = args.arg();
  std::vector<std::string>* list = nullptr;
  if (option == "--unit") list = &filter.units;
  if (option == "--op" || option == "--event") list = &filter.operations;
  if (option == "--call-id") list = &filter.callIds;
  if (option == "--result") list = &filter.results;
  if (option == "--decision") list = &filter.decisions;
  if (option == "--rule") list = &filter.rules;
  if (option == "--caller") list = &filter.callers;
  if (option == "--grep") list = &filter.argsText;
  bool isTime = option == "--since" || option == "--until";
  if (list == nullptr && !isTime) return OptionParse::NOT_MINE;

  std::string value;
  KJ_IF_MAYBE(given, args.value()) { value = *given; } else { return OptionParse::FAILED; }
  if (option == "--decision" && value != "allow" && value != "deny" && value != "learn") {
    args.usageError("--decision is allow, deny or learn, not \"" + value + "\"");
    return OptionParse::FAILED;
  }
  if (option == "--result" && std::find(audit::CALL_OUTCOMES.begin(), audit::CALL_OUTCOMES.end(),
                                        value) == audit::CALL_OUTCOMES.end()) {
    std::string known;
    for (auto outcome : audit::CALL_OUTCOMES) {
      known += (known.empty() ? "" : ", ") + std::string(outcome);
    }
    args.usageError("--result is one of " + known + ", not \"" + value + "\"");
    return OptionParse::FAILED;
  }
  if (list != nullptr) {
    list->push_back(value);
    return OptionParse::TAKEN;
  }
  KJ_IF_MAYBE(micros, audit::parseTimeBound(value, nowMicros)) {
    (option == "--since" ? filter.sinceMicros : filter.untilMicros) = *micros;
    return OptionParse::TAKEN;
  }
  args.usageError(std::string(option) + " \"" + value +
                  "\" is not a time: give RFC 3339 (2026-11-26T18:33:36Z, "
                  "2026-11-26T19:33:36+01:00), a date (2026-11-26) or an age (90s, 15m, 1h, 7d)");
  return OptionParse::FAILED;
}

int walkFilteredArgs(AuditArgs& args, audit::RecordFilter& filter, std::vector<std::string>& files,
                     const std::function<OptionParse(AuditArgs&)>& takeOwn) {
  int64_t now = audit::systemWallClock().nowMicrosSinceEpoch();
  while (args.next()) {
    if (args.isHelp()) return args.printHelp();
    auto taken = takeFilterOption(args, filter, now);
    if (taken == OptionParse::NOT_MINE && args.isOption()) taken = takeOwn(args);
    if (taken == OptionParse::FAILED) return 2;
    if (taken == OptionParse::TAKEN) continue;
    if (args.isOption()) return args.usageError("unknown option " + std::string(args.arg()));
    files.emplace_back(args.arg());
  }
  if (files.empty()) return args.usageError("FILE is required");
  return -1;
}

ReadOutcome readRecords(const std::vector<std::string>& files, const audit::RecordFilter& filter,
                        const std::function<void(const audit::LoggedRecord&)>& onRecord) {
  ReadOutcome outcome;
  audit::RecordReader reader(files);
  for (auto& problem : reader.openProblems()) std::cerr << problem.describe() << "\n";
  if (!reader.openProblems().empty()) {
    outcome.unreadable = true;
    return outcome;
  }
  audit::LoggedRecord record;
  audit::LineProblem problem;
  for (;;) {
    auto next = reader.next(record, problem);
    if (next == audit::RecordReader::Next::END) break;
    if (next == audit::RecordReader::Next::MALFORMED) {
      if (++outcome.malformed <= MAX_REPORTED_PROBLEMS) std::cerr << problem.describe() << "\n";
      continue;
    }
    if (filter.matches(record)) onRecord(record);
  }
  if (outcome.malformed > MAX_REPORTED_PROBLEMS) {
    std::cerr << "... and " << outcome.malformed - MAX_REPORTED_PROBLEMS
              << " more malformed lines\n";
  }
  return outcome;
}

}  // namespace airlock::cli
