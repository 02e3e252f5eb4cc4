#include "cli/audit_query.h"

#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "audit/call_story.h"
#include "broker/policy/model/printable.h"
#include "cli/audit_args.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view QUERY_USAGE = R"(
usage: airlock audit query FILE... [filters] [--format jsonl|table] [--story]

Prints the records of audit log FILE... (several files of a rotation set are read in the order
given, oldest first) that match every filter given. A filter given more than once matches any
of its values.

filters:
  --unit UNIT         the record's unit
  --op OPERATION      the record's event: call, fs.open, secrets.get, auth, worker.exit, ...
  --event EVENT       the same as --op
  --call-id ID        the records of call ID (c-N): the call, its worker's requests and
                      brokered syscalls, a refused syscall, the exit of the worker serving it
  --decision allow|deny|learn
  --rule ID           the deciding rule's id (default-deny: nothing matched)
  --result OUTCOME    how a call ended (call and invoke records): ok, denied, crashed,
                      timed-out, busy, out-of-memory, unavailable, failed
  --caller ID         the host: client name (web), client:NAME, uid:N, or the whole caller
  --since TIME        at or after TIME
  --until TIME        before TIME
  --grep TEXT         TEXT occurs in an argument value (a path, a method, a secret's name, ...)
  TIME is RFC 3339 (2026-11-26T18:33:36.951219Z, as in the records, or 2026-11-26T19:33:36+01:00),
  a date (2026-11-26, midnight UTC) or an age back from now (90s, 15m, 1h, 7d).

options:
  --format jsonl      the matching lines exactly as they are in the file (default)
  --format table      one aligned row per record: time, seq, event, unit, caller, decision,
                      rule, args, result; bytes that are not printable ASCII shown as \xNN
  --story             with one --call-id: that call's whole story in log order, the calls
                      nested in it through invoke included, told per broker run (call ids
                      restart with each); a table unless --format jsonl is given
  -h, --help          print this help

Malformed lines are reported on stderr as FILE:LINE: malformed record: why, and skipped.

exit status: 0 if every line was read, 1 if a file cannot be read or a line is malformed,
2 on a usage error.
)";

// A table cell: log text is attacker-influenced (a worker chooses its paths), so only printable
// ASCII reaches the terminal; no escape sequences.
std::string cell(const std::string& text, size_t maxBytes = 80) {
  return text.empty() ? "-" : policy::printable(text, maxBytes);
}

std::string argsCell(const nlohmann::ordered_json& args) {
  std::string text;
  for (auto& [name, value] : args.items()) {
    if (!text.empty()) text += ' ';
    text += name + '=' + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return cell(text, 240);
}

std::vector<std::string> tableRow(const audit::LoggedRecord& record) {
  return {audit::AuditLog::formatTime(record.timeMicros), std::to_string(record.seq),
          cell(record.event), cell(record.unit), cell(record.caller), cell(record.decision),
          cell(record.rule), argsCell(record.args()), cell(record.result, 160)};
}

void printTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (auto& row : rows) {
    widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::vector<std::string> headerRow() {
  return {"TIME", "SEQ", "EVENT", "UNIT", "CALLER", "DECISION", "RULE", "ARGS", "RESULT"};
}

// The first pass of a story: every record, silently (the second pass reports what is wrong).
void learnStory(const std::vector<std::string>& files, audit::CallStory& story) {
  audit::RecordReader reader(files);
  audit::LoggedRecord record;
  audit::LineProblem problem;
  for (;;) {
    auto next = reader.next(record, problem);
    if (next == audit::RecordReader::Next::END) return;
    if (next == audit::RecordReader::Next::RECORD) story.learn(record);
  }
}

// The story's second pass: the records of the call and of its nested calls that the other
// filters match; as a table, one per broker run with a line naming the run.
ReadOutcome tellStory(const std::vector<std::string>& files, audit::RecordFilter filter,
                      bool table) {
  std::string callId = filter.callIds.front();
  audit::CallStory story(callId);
  learnStory(files, story);
  filter.callIds.clear();  // the story decides which calls are in it
  std::vector<std::vector<std::string>> rows;
  uint64_t toldRun = UINT64_MAX;
  auto tellRun = [&rows, &callId](uint64_t run) {
    if (rows.size() <= 1) return;
    std::cout << "call " << cell(callId) << ", broker run " << run
              << (run == 0 ? " (before any broker.start)" : "") << ":\n";
    printTable(rows);
  };
  auto outcome = readRecords(files, audit::RecordFilter{}, [&](const audit::LoggedRecord& record) {
    if (!story.tells(record) || !filter.matches(record)) return;
    if (!table) {
      std::cout << record.line << '\n';
      return;
    }
    if (story.run() != toldRun) {
      tellRun(toldRun);
      rows = {headerRow()};
      toldRun = story.run();
    }
    rows.push_back(tableRow(record));
  });
  tellRun(toldRun);
  return outcome;
}

}  // namespace _

int auditQueryMain(int argc, char** argv) {
  AuditArgs args("query", _::QUERY_USAGE, argc, argv);
  audit::RecordFilter filter;
  std::vector<std::string> files;
  bool table = false, formatGiven = false, story = false;
  int status = walkFilteredArgs(args, filter, files, [&](AuditArgs& args) {
    if (args.arg() == "--story") {
      story = true;
      return OptionParse::TAKEN;
    }
    if (args.arg() != "--format") return OptionParse::NOT_MINE;
    formatGiven = true;
    std::string format;
    KJ_IF_MAYBE(value, args.value()) { format = *value; } else { return OptionParse::FAILED; }
    if (format != "jsonl" && format != "table") {
      args.usageError("--format is jsonl or table, not \"" + format + "\"");
      return OptionParse::FAILED;
    }
    table = format == "table";
    return OptionParse::TAKEN;
  });
  if (status >= 0) return status;
  if (story) {
    if (filter.callIds.size() != 1) return args.usageError("--story needs exactly one --call-id");
    auto outcome = _::tellStory(files, filter, table || !formatGiven);
    std::cout.flush();
    return outcome.ok() ? 0 : 1;
  }

  std::vector<std::vector<std::string>> rows;
  if (table) rows.push_back(_::headerRow());
  auto outcome = readRecords(files, filter, [&](const audit::LoggedRecord& record) {
    if (table) {
      rows.push_back(_::tableRow(record));
    } else {
      std::cout << record.line << '\n';
    }
  });
  if (table) _::printTable(rows);
  std::cout.flush();
  return outcome.ok() ? 0 : 1;
}

}  // namespace airlock::cli
