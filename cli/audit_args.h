#pragma once
// What the `airlock audit` reading commands (query, stats, tail, report) share: walking their
// command line with one style of usage error, the filter options of query and stats, and
// reading records from FILE... with every unreadable file and malformed line reported on stderr
// as "FILE:LINE: what".

#include <kj/common.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/record_filter.h"

namespace airlock::cli {

// Walks argv of one subcommand (argv[0] is its name). Borrows argv for its lifetime.
class AuditArgs {
 public:
  // `help` is the full --help text (starting with a newline, as the raw strings are written);
  // its first line after that is the usage line repeated by usage errors. `group` names the
  // command group in messages ("airlock audit query"; `airlock policy suggest` reads logs too).
  AuditArgs(std::string_view command, std::string_view help, int argc, char** argv,
            std::string_view group = "audit");

  bool next();                          // moves to the next argument; false past the last
  std::string_view arg() const { return argv_[at_]; }
  bool isHelp() const { return arg() == "-h" || arg() == "--help"; }
  bool isOption() const { return arg().size() > 1 && arg()[0] == '-'; }
  // Takes the current option's value; null (after a usage error on stderr) if there is none.
  kj::Maybe<std::string> value();

  int printHelp() const;                           // the help on stdout; returns 0
  int usageError(const std::string& message) const;  // one line + usage on stderr; returns 2

 private:
  std::string command_;
  std::string_view help_;
  int argc_;
  char** argv_;
  int at_ = 0;
};

enum class OptionParse { TAKEN, NOT_MINE, FAILED };
// If the current argument is a filter option (--unit --op/--event --call-id --decision --rule
// --result --caller --since --until --grep), takes it and its value into `filter`. FAILED: a usage error was printed.
// Relative times count back from `nowMicros`.
OptionParse takeFilterOption(AuditArgs& args, audit::RecordFilter& filter, int64_t nowMicros);

// Walks the whole command line of a command that reads FILE... through filters (query, stats):
// --help, the filter options, FILE arguments, and every other option through `takeOwn`
// (NOT_MINE: an unknown option). Requires one FILE at least. Returns -1 to go on, else the exit
// status to return (0 after --help, 2 after a usage error).
int walkFilteredArgs(AuditArgs& args, audit::RecordFilter& filter, std::vector<std::string>& files,
                     const std::function<OptionParse(AuditArgs&)>& takeOwn);

struct ReadOutcome {
  bool unreadable = false;  // some file could not be opened: nothing was read
  uint64_t malformed = 0;   // lines that are not records (each reported)
  bool ok() const { return !unreadable && malformed == 0; }
};

// Reads every record of `files` in order and hands those `filter` matches to `onRecord`.
// Reports each unreadable file (then reads nothing) and each malformed line on stderr, at most
// MAX_REPORTED_PROBLEMS lines and then a count of the rest.
constexpr uint64_t MAX_REPORTED_PROBLEMS = 1000;
ReadOutcome readRecords(const std::vector<std::string>& files, const audit::RecordFilter& filter,
                        const std::function<void(const audit::LoggedRecord&)>& onRecord);

}  // namespace airlock::cli
